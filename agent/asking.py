"""Natural-language requests in the daemon: `P/ask` through the interpreter, then the gate.

One request is interpreted at a time, off the MQTT thread, from a small bounded queue (excess
gets `busy`). The deterministic matcher works from the first second; the model loads in the
background, in a process of its own (agent.interpret), and `status.model` says loading, ready
or failed. A model worker that fails mid-request is replaced after restart_after_s; until then
the matcher works alone. Stop-like text skips this queue altogether: it goes to the command
worker, so a stop never waits behind an inference.
"""

from __future__ import annotations

import itertools
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.commands import Commands, Job
from agent.config import Config
from agent.envelopes import EnvelopeReader, Inbound, Malformed
from agent.interpret import SCORE_TIMEOUT_S, Interpreter, ModelError, ModelProcess, model_args
from agent.planner import Planner
from agent.text_decisions import decide

log = logging.getLogger(__name__)

ASK_QUEUE = 4


@dataclass(frozen=True)
class ModelOptions:
    load: bool = True  # False: the matcher alone (tests, or a robot without the runtime)
    restart_after_s: float = 10.0  # after a model worker failed mid-request
    score_timeout_s: float = SCORE_TIMEOUT_S


LOAD_THE_MODEL = ModelOptions()


class Asking:
    def __init__(self, config: Config, *, commands: Commands, reader: EnvelopeReader,
                 planner: Planner | None, stopping: threading.Event,
                 on_status_change: Callable[[], None],
                 model: ModelOptions = LOAD_THE_MODEL) -> None:
        self.config = config
        self.commands = commands
        self.reader = reader
        self.planner = planner
        self.stopping = stopping
        self.on_status_change = on_status_change
        self.options = model
        self.interpreter = Interpreter(config)
        self.worker = commands.new_worker("interpreter", ASK_QUEUE, stopping)
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
        self.worker.start()
        if self.options.load:
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
            model = ModelProcess(*model_args(self.config), self.options.score_timeout_s)
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
            self.model_name = model.name
            self.model_state = "ready"
            log.info("local model %s ready (worker process %d)", model.name, model.pid)
        self.on_status_change()

    def _model_lost(self) -> None:
        """The worker failed during a request (and stopped): start another."""
        assert self.model is not None
        self.model.close()
        self.model = None
        self.interpreter.scorer = None
        self.model_state = "failed"
        self.on_status_change()
        log.warning("starting a new model worker in %.0f s", self.options.restart_after_s)
        self._start_model(self.options.restart_after_s)

    def receive(self, msg: Inbound) -> None:
        """On the MQTT thread: stop-like text jumps the queue, the rest waits its turn."""
        job = self.commands.job(msg, self.handle, "ask")
        text = msg.payload[:200].decode("utf-8", errors="replace").lower()
        if self.interpreter.stop_action and self.interpreter.is_stop_text(text):
            self.commands.enqueue(self.commands.worker, job)
        else:
            self.commands.enqueue(self.worker, job)

    def handle(self, job: Job) -> None:
        try:
            ask = self.reader.ask(job.inbound, f"ask-{self.run_id}-{next(self.ids)}")
        except Malformed as exc:
            self.commands.refuse_malformed(exc, job, route="local")
            return
        if not self.commands.claim(ask.id, "ask", job, ask.reply, route="local", text=ask.text):
            return
        interpretation = self.interpreter.interpret(ask.text)
        if self.model is not None and not self.model.alive():
            self._model_lost()
        cloud = self.planner.cloud_state if self.planner else "disabled"
        decision = decide(interpretation, self.config, request_id=ask.id, cloud=cloud)
        if self.planner is not None and decision.reason in ("low_confidence", "offline"):
            self.planner.escalate(job, decision, ask.reply)
        elif decision.decision == "execute":
            self.commands.execute(decision, decision.params, signed=False, job=job,
                                  reply=ask.reply)
        else:
            self.commands.answer(decision, job, ask.reply)
