"""Natural-language requests in the daemon: `P/ask` through the interpreter, then the gate.

One request is interpreted at a time, off the MQTT thread, from a small bounded queue (excess
gets `busy`). The deterministic matcher works from the first second; the model loads in the
background, in a process of its own (agent.interpret), and `status.model` says loading, ready
or failed (or unavailable: the runtime is not installed). A model worker that fails
mid-request is replaced after restart_after_s; until then the matcher works alone. Stop-like
text skips this queue altogether: it goes to the commands queue, so a stop never waits behind
an inference. What the text asks goes the one way every request goes: an action through the
pipeline (agent.requests.pipeline), a sequence to the plan runner, a request for later to the
schedules, and a request the interpreter cannot place to the cloud planner.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.cloud.planner import Planner
from agent.config import Config
from agent.core.clock import Clock
from agent.core.decisions import Decision
from agent.core.protocol import DecisionKind, InputKind, Route, SentenceForm
from agent.core.workers import Worker
from agent.interpret import (
    SCORE_TIMEOUT_S,
    Interpretation,
    Interpreter,
    ModelError,
    ModelProcess,
    model_args,
    reading_setup,
    runtime_missing,
    warm_up,
)
from agent.mqtt.inbound import EnvelopeReader, Inbound, Malformed, Reply
from agent.requests.pipeline import Job, Pipeline, Work
from agent.requests.plans import PlanRunner
from agent.requests.schedules import Schedules
from agent.state.picture import Picture
from agent.text.decide import decide

log = logging.getLogger(__name__)

# Words of a question about what the robot sees: only its camera's frame can answer it.
SEEING = frozenset(("see", "sees", "seeing", "seen", "look", "looks", "looking", "show",
                    "shows", "visible", "view", "camera", "picture", "image", "photo"))


@dataclass(frozen=True)
class ModelOptions:
    load: bool = True  # False: the matcher alone (tests, or a robot without the runtime)
    restart_after_s: float = 10.0  # after a model worker failed mid-request
    score_timeout_s: float = SCORE_TIMEOUT_S


LOAD_THE_MODEL = ModelOptions()


class TextService:
    def __init__(self, config: Config, *, pipeline: Pipeline, plans: PlanRunner,
                 schedules: Schedules, planner: Planner | None, reader: EnvelopeReader,
                 picture: Picture, clock: Clock, queue: Worker[Work], urgent: Worker[Work],
                 stopping: threading.Event, on_status_change: Callable[[], None],
                 model: ModelOptions = LOAD_THE_MODEL) -> None:
        self.config = config
        self.pipeline = pipeline
        self.plans = plans
        self.schedules = schedules
        self.planner = planner
        self.reader = reader
        self.picture = picture
        self.clock = clock
        self.queue = queue  # one interpretation at a time
        self.urgent = urgent  # where stop-like text goes: the commands queue
        self.stopping = stopping
        self.on_status_change = on_status_change
        self.options = model
        self.interpreter = Interpreter(config)
        # Ids given to bare-text requests: ask-<this run>-<n>, unique across restarts too, so
        # `journalctl ID=...` finds one request.
        self.run_id = uuid.uuid4().hex[:8]
        self.ids = itertools.count(1)
        self.model: ModelProcess | None = None
        self.model_state = "loading" if model.load else "failed"
        self.model_name = ""

    def status_fields(self) -> dict[str, Any]:
        return {"model": self.model_state}

    def start(self) -> None:
        # Reading a time phrase loads dateparser's language data once (~0.3 s): not on a request
        threading.Thread(target=warm_up, name="time-warm-up", daemon=True).start()
        missing = runtime_missing() if self.options.load else ""
        if missing:  # installed without the model extra: for good, not for a while
            log.warning("%s; the matcher works alone", missing)
            self.model_state = "unavailable"
        elif self.options.load:
            self._start_model(delay_s=0.0)

    def close(self) -> None:
        if self.model is not None:
            self.model.close()

    def _start_model(self, delay_s: float) -> None:
        threading.Thread(target=self._load_model, args=(delay_s,), name="model-load",
                         daemon=True).start()

    def _load_model(self, delay_s: float) -> None:
        if self.stopping.wait(delay_s):
            return
        try:
            args = model_args(self.config)
            model = ModelProcess(*args, self.options.score_timeout_s,
                                 reading=reading_setup(self.config, args[1]))
        except (ModelError, OSError) as exc:
            log.error("the local model could not be loaded: %s; the matcher works without it",
                      exc)
            self.model_state = "failed"
        else:
            if self.stopping.is_set():
                model.close()
                return
            self.model = model
            self.interpreter.scorer = model
            self.interpreter.reader = model if model.reading else None
            self.model_name = model.name
            self.model_state = "ready"
            log.info("local model %s ready%s (worker process %d)", model.name,
                     f" with the reading adapter {self.config.model.adapter}"
                     if model.reading else "", model.pid)
        self.on_status_change()

    def _model_lost(self) -> None:
        """The worker failed during a request (and stopped): start another."""
        assert self.model is not None
        self.model.close()
        self.model = None
        self.interpreter.scorer = None
        self.interpreter.reader = None
        self.model_state = "failed"
        self.on_status_change()
        log.warning("starting a new model worker in %.0f s", self.options.restart_after_s)
        self._start_model(self.options.restart_after_s)

    def receive(self, msg: Inbound) -> None:
        """On the MQTT thread: stop-like text jumps the queue, the rest waits its turn."""
        work = self.pipeline.work(msg, InputKind.ASK, self.handle)
        text = msg.payload[:200].decode("utf-8", errors="replace").lower()
        stop = self.interpreter.stop_action and self.interpreter.is_stop_text(text)
        self.pipeline.offer(self.urgent if stop else self.queue, work)

    def handle(self, job: Job, msg: Inbound) -> None:
        try:
            ask = self.reader.ask(msg, f"ask-{self.run_id}-{next(self.ids)}")
        except Malformed as exc:
            self.pipeline.refuse_malformed(exc, job, msg, route=Route.LOCAL)
            return
        if not self.pipeline.claim(ask.id, job, ask.reply, route=Route.LOCAL, text=ask.text):
            return
        interpretation = self._cancels_if_scheduled(self.interpreter.interpret(ask.text,
                                                                               self._now()))
        if self.model is not None and not self.model.alive():
            self._model_lost()
        cloud = self.planner.cloud_state if self.planner else "disabled"
        needs_state = interpretation.form == "question" or interpretation.leaves_a_value
        state = self.picture.now() if needs_state else None
        decision = decide(interpretation, self.config, request_id=ask.id, cloud=cloud,
                          state=state)
        if self._for_the_camera(interpretation, decision):
            assert self.planner is not None
            self.planner.ask_eyes(job, decision, ask.reply)
        elif self.planner is not None and decision.reason in ("low_confidence", "offline"):
            self.planner.escalate(job, decision, ask.reply)
        elif decision.decision == DecisionKind.EXECUTE:
            self.pipeline.submit(decision, decision.params, job=job, reply=ask.reply)
        elif decision.decision == DecisionKind.SCHEDULE:
            self._schedule(decision, interpretation, job, ask.reply)
        elif decision.decision == DecisionKind.PLAN:
            self.plans.run(decision, decision.extra["plan"], job, ask.reply,
                           max_s=self.config.cloud.max_plan_s)
        elif decision.decision == DecisionKind.CANCEL:
            self._cancel(decision, job, ask.reply)
        else:
            self.pipeline.answer(decision, job, ask.reply)

    def _for_the_camera(self, interpretation: Interpretation, decision: Decision) -> bool:
        """A question the robot's state cannot answer ("is the door open?"), or one about what
        it sees ("what do you see?", or one about a camera), goes to the cloud with the
        camera's frame when there is a camera and a model allowed to see it, and the cloud is
        online (docs/cloud.md, "Questions"). Otherwise it is decided as any other question."""
        if interpretation.form != "question" or self.planner is None or \
                not self.planner.sees or self.planner.cloud_state != "online":
            return False
        asked = interpretation.asked.sensors if interpretation.asked else ()
        return (decision.decision != DecisionKind.ANSWER or
                bool(SEEING.intersection(re.findall(r"[a-z]+", interpretation.text.lower()))) or
                any(self.config.sensors[name].kind == "camera" for name in asked))

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.time()).astimezone()

    def _cancels_if_scheduled(self, interpretation: Interpretation) -> Interpretation:
        """"Don't turn off the lights" while turning them off is scheduled: cancel that."""
        if interpretation.form != "negated":
            return interpretation
        if not {e.action for e in self.schedules.pending()} & set(interpretation.targets):
            return interpretation
        return dataclasses.replace(interpretation, form=SentenceForm.CANCEL, why=(
            "says not to do what is scheduled: " + ", ".join(interpretation.targets)))

    def _schedule(self, decision: Decision, interpretation: Interpretation, job: Job,
                  reply: Reply | None) -> None:
        """A request for later: the schedules check it now against what holds whatever the
        state (bounds, risk) and keep it; at its time it passes the whole gate as if sent
        then."""
        if interpretation.at is None:  # decide() schedules only with a time: never run now
            self.pipeline.answer(decision.as_nothing(extra={"question": "When?"}), job, reply)
            return
        scheduled = self.schedules.add(
            request_id=decision.id, input_kind=InputKind.ASK, action=decision.action or "",
            params=decision.params, at=interpretation.at, text=decision.text,
            recurring=interpretation.recurring, reply=reply, confidence=decision.confidence,
            job=job)
        self.pipeline.answer(scheduled, job, reply)

    def _cancel(self, decision: Decision, job: Job, reply: Reply | None) -> None:
        targets: list[str] = decision.extra["cancel"]
        every: list[str | None] = [None]  # no target named: "cancel everything scheduled"
        cancelled = [entry for action in (targets or every)
                     for entry in self.schedules.cancel_matching(action=action)]
        if not cancelled:
            self.pipeline.answer(decision.as_nothing(
                reason=None, detail=f"nothing is scheduled for {', '.join(targets) or 'any action'}"
                                    ": nothing to cancel"), job, reply)
            return
        self.pipeline.answer(decision.but(
            detail="cancelled " + ", ".join(f"{e.schedule_id} ({e.action} at "
                                            f"{e.at.isoformat(timespec='minutes')})"
                                            for e in cancelled),
            extra={**decision.extra, "cancelled": [e.schedule_id for e in cancelled]}),
            job, reply)
