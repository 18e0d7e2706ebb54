"""The pipeline every request goes through, whatever proposed it: a structured command, text, a
plan's step, a scheduled action, a reaction. Its id is claimed once (a repeat is a duplicate),
the gate decides once, the executor drives the outputs, and whoever asked gets the result.

A Job is a request on its way: what kind of input it was, when it arrived, and what the e-stop
looked like then. One that arrived before the last e-stop never runs, even if the e-stop was
reset meanwhile. Work is a job waiting on a queue, with what to do when its turn comes and how
to tell its sender if that never comes (the queue is full, the daemon stops, a bug).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.config import Config
from agent.core.clock import Clock
from agent.core.decisions import Decision
from agent.core.protocol import DecisionKind, InputKind, Reason, Route, Status
from agent.core.workers import Worker
from agent.devices import doing
from agent.mqtt.inbound import EnvelopeReader, Inbound, Malformed, Reply
from agent.mqtt.publisher import Publisher
from agent.safety.estop import EStop
from agent.safety.executor import Executor
from agent.safety.gate import Gate, said_refused

# How supervision cuts an action
WATCHED = (Reason.INTERLOCK, Reason.STALE_SENSOR, Reason.INTERNAL_ERROR)
Finished = Callable[[Status, Reason | None, str], None]  # how a timed action ended


@dataclass(frozen=True)
class Job:
    """A request on its way, with what the e-stop looked like when it arrived."""

    input_kind: InputKind
    received: float  # monotonic
    estop_epoch: int
    engaged: bool
    about: str = ""  # said before every detail about it: which reaction asked, and why


@dataclass(frozen=True)
class Work:
    """A job waiting on a queue: what to run when its turn comes, and how to answer its sender
    (reason, detail) if it never runs."""

    job: Job
    run: Callable[[], object] = field(repr=False)
    refuse: Callable[[Reason, str], object] = field(repr=False)


class Pipeline:
    def __init__(self, config: Config, *, gate: Gate, executor: Executor, estop: EStop,
                 publisher: Publisher, reader: EnvelopeReader, clock: Clock) -> None:
        self.config = config
        self.gate = gate
        self.executor = executor
        self.estop = estop
        self.publisher = publisher
        self.reader = reader
        self.clock = clock

    # ---- receiving -------------------------------------------------------------------------

    def job(self, input_kind: InputKind, about: str = "") -> Job:
        """A job that arrives now."""
        return Job(input_kind, self.clock.monotonic(), self.estop.epoch, self.estop.engaged,
                   about)

    def work(self, msg: Inbound, input_kind: InputKind,
             handle: Callable[[Job, Inbound], None]) -> Work:
        """A message that arrived now, to be handled in its turn (on the MQTT thread)."""
        job = self.job(input_kind)
        return Work(job, lambda: handle(job, msg),
                    lambda reason, detail: self.refuse_unread(msg, input_kind, reason, detail))

    def queue(self, name: str, size: int, stopping: threading.Event) -> Worker[Work]:
        """A queue of work on a thread of its own; an internal error still answers the sender."""
        return Worker(name, lambda work: work.run(), clock=self.clock, stopping=stopping,
                      size=size, on_error=lambda work, exc: work.refuse(Reason.INTERNAL_ERROR,
                                                                        type(exc).__name__))

    @staticmethod
    def offer(queue: Worker[Work], work: Work) -> None:
        if not queue.offer(work):
            work.refuse(Reason.BUSY, "too many requests waiting; try again shortly")

    def refuse_unread(self, msg: Inbound, input_kind: InputKind, reason: Reason,
                      detail: str) -> None:
        """Answer a request that was never read in full, with its id if it has one."""
        rid, reply = self.reader.id_and_reply(msg)
        self.publisher.publish(Decision.refused(rid, input_kind, reason, detail), reply)

    # ---- reading ---------------------------------------------------------------------------

    def refuse_malformed(self, exc: Malformed, job: Job, msg: Inbound,
                         route: Route = Route.DIRECT) -> None:
        """Answer a request that could not be read, to its MQTT 5 response topic if any."""
        self.answer(Decision.refused(exc.request_id or "", job.input_kind, exc.reason,
                                     exc.detail, route=route),
                    job, self.reader.response_reply(msg))

    def claim(self, rid: str, job: Job, reply: Reply | None, *, route: Route,
              text: str | None = None, action: str | None = None) -> bool:
        """True the first time an id is seen; else answer duplicate: never run twice."""
        if self.gate.claim_id(rid):
            return True
        self.answer(Decision.duplicate(rid, job.input_kind, route=route, text=text,
                                       action=action), job, reply)
        return False

    # ---- the one way to the outputs --------------------------------------------------------

    def submit(self, proposal: Decision, params: Any, *, job: Job, reply: Reply | None,
               signed: bool = False, finished: Finished | None = None) -> Decision:
        """The gate, then the outputs; one result (two for a timed action or a hold), one
        record. proposal says who asked for which action; what was decided is returned (and
        published). finished, if given, hears how the action ended (a plan's step)."""
        verdict = self.gate.admit(proposal.action, params, signed=signed,
                                  may_sign=proposal.input_kind == InputKind.CMD)
        decision = proposal.but(params=verdict.params or (params if isinstance(params, dict)
                                                          else {}))
        if verdict.allowed and not verdict.safe and (
                job.engaged or job.estop_epoch != self.estop.epoch):
            verdict = verdict.refused(Reason.ESTOP_ENGAGED,
                                      "sent before the last e-stop; send it again if still wanted")
        if not verdict.allowed:
            return self.answer(said_refused(decision, verdict), job, reply)
        action = self.config.actions[verdict.action or ""]
        timed = verdict.duration_s is not None
        # A hold: not timed, not safe, bounded by max_duration_s: running until its device is
        # safe again. An action with stays_on is done at once (and watched, not bounded).
        holds = not timed and not verdict.safe and not action.stays_on
        detail = doing(action.op, action.device) + (
            f" for {verdict.duration_s:.2f} s" if timed else
            f", at most {action.max_duration_s:g} s" if holds else "")
        decision = decision.but(status=Status.RUNNING if timed or holds else Status.DONE,
                                decision=DecisionKind.EXECUTE, detail=detail)

        def on_end(status: Status, reason: Reason | None, detail: str) -> None:
            # A normal end is the request's own (a technician reads `running`, then `done`
            # under the same kind); a cut is supervision's.
            normal = status == Status.DONE
            end = decision.but(input_kind=decision.input_kind if normal else
                               InputKind.SUPERVISION, status=status, reason=reason,
                               decision=DecisionKind.EXECUTE if normal else DecisionKind.ABORT,
                               detail=detail, extra=dict(decision.extra))
            if decision.status == Status.DONE:
                # Its one result was given; only a cut by supervision is worth a record.
                if reason in WATCHED:
                    self.publisher.publish(end, reply, result=False)
                return
            self.answer(end, job, reply)
            if finished is not None and not holds:
                finished(status, reason, detail)

        refused = self.executor.start(verdict.action or "", action, verdict.params,
                                      duration=verdict.duration_s, safe=verdict.safe,
                                      on_end=on_end, owner=job,
                                      by=job.about or f"{proposal.input_kind} {proposal.id}")
        if refused:
            why = {Reason.SHUTDOWN: "the daemon is stopping",
                   Reason.LINK_LOST: "the e-stop link was lost before the action could start",
                   }.get(refused, "the e-stop engaged before the action could start")
            decision = decision.as_refused(refused, why)
        elif holds and finished is not None:
            finished(Status.DONE, None, detail)  # a plan's step is done once its output is set
        return self.answer(decision, job, reply)

    def answer(self, decision: Decision, job: Job, reply: Reply | None,
               record: bool = True) -> Decision:
        """Publish a decision about a job, with its latency from the job's receipt."""
        decision = decision.but(latency_ms=(self.clock.monotonic() - job.received) * 1000)
        if job.about:
            decision = decision.but(detail=f"{job.about}: {decision.detail}")
        self.publisher.publish(decision, reply, record=record)
        return decision
