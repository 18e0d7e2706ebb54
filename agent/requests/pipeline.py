"""The command pipeline: a request becomes a job, its id is claimed (a repeat is a duplicate),
the gate decides once, the executor drives the outputs, and the caller gets its result.

Structured commands from `P/cmd` are read and run here; text requests (agent.text.service), plan
steps (agent.requests.plans) and scheduled actions (agent.requests.schedules) come through
execute() too, so every action passes the same gate. A job remembers the e-stop's epoch when it
arrived: one that arrived before the last e-stop never runs, even if the e-stop was reset meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.config import Config
from agent.core.clock import Clock
from agent.core.decisions import Decision
from agent.core.workers import Worker
from agent.devices import doing
from agent.mqtt.inbound import Command, EnvelopeReader, Inbound, Malformed, Reply
from agent.mqtt.publisher import Replies
from agent.safety.estop import EStop
from agent.safety.executor import Executor
from agent.safety.gate import Gate
from agent.safety.signing import WINDOW_S, Verifier

COMMAND_QUEUE = 64
WATCHED = ("interlock", "stale_sensor", "internal_error")  # how supervision cuts an action
Finished = Callable[[str, str | None, str], None]  # how a timed action ended


@dataclass
class Job:
    """A request received on the MQTT thread, with what the e-stop looked like then."""
    inbound: Inbound
    received: float  # monotonic
    estop_epoch: int
    engaged: bool
    handler: Callable[[Job], None]
    input_kind: str  # cmd | ask | plan | reaction: how to refuse it before it is read
    about: str = ""  # said before every detail about this job: which reaction asked, and why


class Commands:
    def __init__(self, config: Config, *, gate: Gate, executor: Executor, estop: EStop,
                 replies: Replies, reader: EnvelopeReader, verifier: Verifier, clock: Clock,
                 stopping: threading.Event) -> None:
        self.config = config
        self.gate = gate
        self.executor = executor
        self.estop = estop
        self.replies = replies
        self.reader = reader
        self.verifier = verifier
        self.clock = clock
        self.worker = self.new_worker("commands", COMMAND_QUEUE, stopping)

    def new_worker(self, name: str, size: int, stopping: threading.Event) -> Worker[Job]:
        """A worker for jobs; an internal error still answers the job's sender."""
        return Worker(name, lambda job: job.handler(job), clock=self.clock, stopping=stopping,
                      size=size, on_error=lambda job, exc: self.refuse_unread(
                          job.inbound, job.input_kind, "internal_error", type(exc).__name__))

    # ---- receiving (on the MQTT thread) ---------------------------------------------------

    def job(self, msg: Inbound, handler: Callable[[Job], None], input_kind: str) -> Job:
        return Job(msg, self.clock.monotonic(), self.estop.epoch, self.estop.engaged, handler,
                   input_kind)

    def receive(self, msg: Inbound) -> None:
        self.enqueue(self.worker, self.job(msg, self._run_command, "cmd"))

    def enqueue(self, worker: Worker[Job], job: Job) -> None:
        if not worker.offer(job):
            self.refuse_unread(job.inbound, job.input_kind, "busy",
                               "too many requests waiting; try again shortly")

    def refuse_unread(self, msg: Inbound, input_kind: str, reason: str, detail: str) -> None:
        """Answer a request that was never read in full, with its id if it has one."""
        rid, reply = self.reader.id_and_reply(msg)
        self.replies.publish(Decision.refused(rid, input_kind, reason, detail), reply)

    # ---- running (on a worker) ------------------------------------------------------------

    def _run_command(self, job: Job) -> None:
        try:
            cmd = self.reader.command(job.inbound)
        except Malformed as exc:
            self.refuse_malformed(exc, job)
            return
        action = cmd.action if isinstance(cmd.action, str) else None
        refusal = self._signature_refusal(cmd)
        if refusal:
            self.answer(Decision.refused(cmd.id, "cmd", *refusal, action=action), job, cmd.reply)
        elif self.claim(cmd.id, "cmd", job, cmd.reply, route="direct", action=action):
            self.execute(Decision.proposed(cmd.id, "cmd", action=action), cmd.params,
                         signed=cmd.signed, job=job, reply=cmd.reply)

    def _signature_refusal(self, cmd: Command) -> tuple[str, str] | None:
        """A signature that does not verify, or a timestamp outside the window."""
        if cmd.signed:
            reason, detail = self.verifier.verify(cmd.message, self.clock.time())
            if reason:
                return reason, detail
        elif "ts" in cmd.message:
            ts = cmd.message["ts"]
            if isinstance(ts, bool) or not isinstance(ts, int | float):
                return "malformed", "ts must be epoch seconds"
            if abs(self.clock.time() - ts) > WINDOW_S:
                return "replayed", f"ts is {self.clock.time() - ts:+.0f} s from now"
        return None

    def refuse_malformed(self, exc: Malformed, job: Job, route: str = "direct") -> None:
        """Answer a request that could not be read, to its MQTT 5 response topic if any."""
        self.answer(Decision.refused(exc.request_id or "", job.input_kind, exc.reason,
                                     exc.detail, route=route),
                    job, self.reader.response_reply(job.inbound))

    def claim(self, rid: str, input_kind: str, job: Job, reply: Reply | None, *,
              route: str, text: str | None = None, action: str | None = None) -> bool:
        """True the first time an id is seen; else answer duplicate: never run twice."""
        if self.gate.claim_id(rid):
            return True
        self.answer(Decision.duplicate(rid, input_kind, route=route, text=text, action=action),
                    job, reply)
        return False

    def execute(self, proposal: Decision, params: Any, *, signed: bool, job: Job,
                reply: Reply | None, finished: Finished | None = None) -> Decision:
        """The gate, then the outputs; one result (two for a timed action), one record.

        proposal says who asked for which action; what was decided is returned (and published).
        finished, if given, hears how a timed action ended."""
        verdict = self.gate.admit(proposal.action, params, signed)
        decision = proposal.but(params=verdict.params or (params if isinstance(params, dict)
                                                          else {}))
        if verdict.allowed and not verdict.safe and (
                job.engaged or job.estop_epoch != self.estop.epoch):
            verdict = verdict.refused("estop_engaged",
                                      "sent before the last e-stop; send it again if still wanted")
        if not verdict.allowed:
            return self.answer(decision.as_refused(verdict.reason, verdict.detail), job, reply)
        action = self.config.actions[verdict.action or ""]
        timed = verdict.duration_s is not None
        # A hold: not timed, not safe, bounded by max_duration_s: running until its device is
        # safe again. An action with stays_on is done at once (and watched, not bounded).
        holds = not timed and not verdict.safe and not action.stays_on
        detail = doing(action.op, action.device) + (
            f" for {verdict.duration_s:.2f} s" if timed else
            f", at most {action.max_duration_s:g} s" if holds else "")
        decision = decision.but(status="running" if timed or holds else "done",
                                decision="execute", detail=detail)

        def on_end(status: str, reason: str | None, detail: str) -> None:
            end = decision.but(input_kind="supervision", status=status, reason=reason,
                               decision="execute" if status == "done" else "abort",
                               detail=detail, extra=dict(decision.extra))
            if decision.status == "done":
                # Its one result was given; only a cut by supervision is worth a record.
                if reason in WATCHED:
                    self.replies.publish(end, reply, result=False)
                return
            self.answer(end, job, reply, record=status != "done")
            if finished is not None and not holds:
                finished(status, reason, detail)

        refused = self.executor.start(verdict.action or "", action, verdict.params,
                                      duration=verdict.duration_s, safe=verdict.safe,
                                      on_end=on_end, owner=job,
                                      by=job.about or f"{proposal.input_kind} {proposal.id}")
        if refused:
            why = ("the daemon is stopping" if refused == "shutdown"
                   else "the e-stop engaged before the action could start")
            decision = decision.as_refused(refused, why)
        elif holds and finished is not None:
            finished("done", None, detail)  # a plan's step is done once its output is set
        return self.answer(decision, job, reply)

    def answer(self, decision: Decision, job: Job, reply: Reply | None,
               record: bool = True) -> Decision:
        """Publish a decision about a job, with its latency from the job's receipt."""
        decision = decision.but(latency_ms=(self.clock.monotonic() - job.received) * 1000)
        if job.about:
            decision = decision.but(detail=f"{job.about}: {decision.detail}")
        self.replies.publish(decision, reply, record=record)
        return decision
