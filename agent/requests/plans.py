"""One plan runner for every plan: a cloud plan (agent.cloud.planner) and a local sequence of
steps read from text ("go forward 1 m then turn left").

A plan is checked whole first (plan_refusal: the gate's static checks on every step; one bad step
refuses the plan, naming every bad step). Then each step passes the full gate at its turn
(Pipeline.submit: e-stop, interlocks on fresh readings, rate limits) and runs to its end before
the next starts. The e-stop, a refused or failed step, or the
plan's time limit ends it; the time limit stops only what this plan started.

Plans run one at a time on a worker of their own, so a long plan never holds up the interpreter
or the cloud planner, and waiting for a step is progress, not a stuck thread: the worker is told
so while it waits, and the wait itself is bounded by the plan's time limit.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.core.clock import Clock
from agent.core.decisions import Decision
from agent.core.protocol import Reason, Status
from agent.core.workers import Worker
from agent.mqtt.inbound import Reply
from agent.requests.pipeline import Job, Pipeline
from agent.safety.estop import EStop
from agent.safety.executor import Executor
from agent.safety.gate import Gate

PLANS_QUEUE = 4
WAIT_SLICE_S = 0.5  # how often a plan waiting for its step looks at the clock and the e-stop
LAST_WORD_S = 1.0  # after a stop, how long the step's own final result may take to come


def plan_refusal(gate: Gate, steps: list[dict[str, Any]]) -> tuple[Reason, str] | None:
    """(reason, detail) when the gate's static checks refuse any step: the plan is refused
    whole, and the detail names every step refused ('step N action: why')."""
    problems = []
    for number, step in enumerate(steps, 1):
        verdict = gate.check_static(step.get("action"), step.get("params") or {})
        if not verdict.allowed:
            problems.append((verdict.reason or Reason.INVALID_PARAMS,
                             f"step {number} {str(step.get('action'))[:40]}: {verdict.detail}"))
    if not problems:
        return None
    return problems[0][0], "the plan was refused whole: " + "; ".join(p for _, p in problems)


@dataclass(frozen=True)
class Plan:
    """A plan waiting for its turn: whose it is (decision), its steps, and until when it may run."""

    decision: Decision
    steps: list[dict[str, Any]]
    job: Job
    reply: Reply | None
    deadline: float  # monotonic


@dataclass(frozen=True)
class StepEnd:
    status: Status
    reason: Reason | None
    detail: str


class PlanRunner:
    def __init__(self, *, pipeline: Pipeline, gate: Gate, executor: Executor, estop: EStop,
                 clock: Clock, stopping: threading.Event) -> None:
        self.pipeline = pipeline
        self.gate = gate
        self.executor = executor
        self.estop = estop
        self.clock = clock
        self.worker: Worker[Plan] = Worker(
            "plans", self._run, clock=clock, stopping=stopping, size=PLANS_QUEUE,
            on_error=lambda plan, exc: self._end(plan, Decision.aborted, Reason.INTERNAL_ERROR,
                                                 type(exc).__name__))

    def start(self) -> None:
        self.worker.start()

    def run(self, plan: Decision, steps: list[dict[str, Any]], job: Job, reply: Reply | None,
            *, max_s: float) -> None:
        """Check the plan whole, then run it: `running` with its steps, then each step through
        the full gate, then one final result. plan says whose it is (id, input kind, route,
        text); max_s counts from now. Returns at once: the plan waits its turn on the plans
        worker."""
        refusal = plan_refusal(self.gate, steps)
        if refusal:
            self.pipeline.answer(plan.as_refused(*refusal), job, reply)
            return
        queued = Plan(plan, list(steps), job, reply, self.clock.monotonic() + max_s)
        if not self.worker.offer(queued):
            self._end(queued, Decision.refused, Reason.BUSY,
                      "other plans are waiting; try again when they have run")

    def _common(self, plan: Plan) -> dict[str, Any]:
        d = plan.decision
        return {"route": d.route, "text": d.text, "cloud_escalated": d.cloud_escalated,
                "confidence": d.confidence}

    def finish(self, timeout: float, reason: Reason) -> None:
        """After stopping is set: the plan in hand ends at its cancelled step; the plans still
        waiting end refused, so every plan gets its final result."""
        for plan in self.worker.finish(timeout):
            self._end(plan, Decision.refused, reason, "the daemon stopped before running it")

    def _end(self, plan: Plan, how: Callable[..., Decision], reason: Reason | None, detail: str,
             **extra: Any) -> None:
        d = plan.decision
        self.pipeline.answer(how(d.id, d.input_kind, reason, detail, extra=extra,
                                 **self._common(plan)), plan.job, plan.reply)

    def _run(self, plan: Plan) -> None:
        job, of = plan.job, len(plan.steps)
        if job.engaged or job.estop_epoch != self.estop.epoch:
            self._end(plan, Decision.refused, Reason.ESTOP_ENGAGED,
                      "sent before the last e-stop; send it again if still wanted")
            return
        if self.clock.monotonic() >= plan.deadline:
            self._end(plan, Decision.refused, Reason.PLAN_TIMEOUT,
                      "the plan waited past its time limit; nothing ran")
            return
        d = plan.decision
        self.pipeline.answer(Decision.executed(
            d.id, d.input_kind, running=True, detail=f"plan of {of} steps",
            extra={**d.extra, "plan": plan.steps, "of": of}, **self._common(plan)),
            job, plan.reply)
        for number, step in enumerate(plan.steps, 1):
            if self.clock.monotonic() >= plan.deadline:
                self._end(plan, Decision.aborted, Reason.PLAN_TIMEOUT,
                          f"the plan ran out of time before step {number}",
                          failed_step=number, of=of)
                return
            end = self._step(plan, number, step)
            if end.status != Status.DONE:
                how = Decision.refused if end.status == Status.REFUSED else Decision.aborted
                self._end(plan, how, end.reason,
                          f"step {number} {step['action']}: {end.detail}",
                          failed_step=number, of=of)
                return
        self.pipeline.answer(Decision.executed(d.id, d.input_kind, detail=f"all {of} steps done",
                                               extra={"of": of}, **self._common(plan)),
                             job, plan.reply)

    def _step(self, plan: Plan, number: int, step: dict[str, Any]) -> StepEnd:
        """Run one step through the gate to its end."""
        ended: deque[StepEnd] = deque()
        done = threading.Event()

        def finished(status: Status, reason: Reason | None, detail: str) -> None:
            ended.append(StepEnd(status, reason, detail))
            done.set()

        d = plan.decision
        proposal = Decision.executed(d.id, d.input_kind, action=str(step["action"]),
                                     extra={"step": number, "of": len(plan.steps)},
                                     continues=True, **self._common(plan))
        started = self.pipeline.submit(proposal, step.get("params") or {}, job=plan.job,
                                       reply=plan.reply, finished=finished)
        if started.status != Status.RUNNING:
            return StepEnd(started.status, started.reason, started.detail)
        while not done.wait(min(WAIT_SLICE_S, max(0.0, plan.deadline - self.clock.monotonic()))):
            self.worker.progressing()
            if self.estop.epoch != plan.job.estop_epoch:
                break  # the e-stop stopped the step: its follow-up brings the step's end
            if self.clock.monotonic() >= plan.deadline:
                for run, why, text in self.executor.halt_running(
                        Reason.PLAN_TIMEOUT, "the plan ran out of time", owner=plan.job):
                    run.on_end(Status.FAILED, why, text)
                break
        done.wait(LAST_WORD_S)
        if ended:
            return ended[0]
        if self.estop.epoch != plan.job.estop_epoch:
            return StepEnd(Status.FAILED, Reason.ESTOP_ENGAGED, "the e-stop was engaged")
        return StepEnd(Status.FAILED, Reason.PLAN_TIMEOUT, "the plan ran out of time")
