"""STAND-IN for issue 12's plan runner shared by cloud and local plans (built in parallel;
replaced at merge). Runs each step through Commands.execute, one at a time, each to its end.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from agent.clock import Clock
from agent.commands import Commands, Job
from agent.decisions import Decision
from agent.envelopes import Reply
from agent.executor import Executor


class PlanRunner:
    def __init__(self, *, commands: Commands, executor: Executor, clock: Clock) -> None:
        self.commands = commands
        self.executor = executor
        self.clock = clock

    def run(self, plan: Decision, steps: list[dict[str, Any]], job: Job, reply: Reply | None,
            *, max_s: float) -> None:
        deadline = self.clock.monotonic() + max_s
        of = len(steps)
        common: dict[str, Any] = {"route": plan.route, "text": plan.text,
                                  "cloud_escalated": plan.cloud_escalated}
        self.commands.answer(plan.but(status="running", detail=f"plan of {of} steps"),
                             job, reply)
        for number, step in enumerate(steps, 1):
            status, reason, detail = self._step(plan, number, of, step, job, reply, deadline)
            if status != "done":
                ended = Decision.refused if status == "refused" else Decision.aborted
                self.commands.answer(ended(plan.id, plan.input_kind, reason,
                                           f"step {number} {step['action']}: {detail}",
                                           extra={"failed_step": number, "of": of}, **common),
                                     job, reply)
                return
        self.commands.answer(Decision.executed(plan.id, plan.input_kind,
                                               detail=f"all {of} steps done",
                                               extra={"of": of}, **common), job, reply)

    def _step(self, plan: Decision, number: int, of: int, step: dict[str, Any], job: Job,
              reply: Reply | None, deadline: float) -> tuple[str, str | None, str]:
        ended: deque[tuple[str, str | None, str]] = deque()
        done = threading.Event()

        def finished(status: str, reason: str | None, detail: str) -> None:
            ended.append((status, reason, detail))
            done.set()

        proposal = Decision.executed(plan.id, plan.input_kind, action=str(step["action"]),
                                     route=plan.route, text=plan.text,
                                     extra={"step": number, "of": of})
        started = self.commands.execute(proposal, step.get("params") or {}, signed=False,
                                        job=job, reply=reply, finished=finished)
        if started.status != "running":
            return started.status, started.reason, started.detail
        done.wait(max(0.0, deadline - self.clock.monotonic()))
        if not done.is_set():
            self.executor.halt_running("plan_timeout", "the plan ran out of time")
            done.wait(1.0)
        return ended[0] if ended else ("failed", "plan_timeout", "the plan ran out of time")
