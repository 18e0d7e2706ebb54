"""Natural-language requests in the daemon: `P/ask` through the interpreter, then the gate.

One request is interpreted at a time, off the MQTT thread, from a small bounded queue (excess
gets `busy`). The deterministic matcher works from the first second; the model loads in the
background, in a process of its own (agent.interpret.worker), and `status.model` says loading,
ready or failed. A model worker that fails mid-request is replaced after RESTART_AFTER_S; until
then the matcher works alone. Stop-like text skips this queue altogether: it goes to the
command worker, so a stop never waits behind an inference.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import TYPE_CHECKING

from agent.inbound import Malformed, parse_ask
from agent.interpret.interpreter import Interpreter
from agent.interpret.model import ModelError, model_args
from agent.interpret.route import decide
from agent.interpret.worker import SCORE_TIMEOUT_S, ModelProcess
from agent.records import Outcome

if TYPE_CHECKING:
    from agent.daemon import Daemon, Job

log = logging.getLogger(__name__)

ASK_QUEUE = 4
RESTART_AFTER_S = 10.0  # after a model worker failed mid-request


class Asking:
    def __init__(self, daemon: Daemon, load_model: bool = True,
                 restart_after_s: float = RESTART_AFTER_S,
                 score_timeout_s: float = SCORE_TIMEOUT_S) -> None:
        self.daemon = daemon
        self.interpreter = Interpreter(daemon.config)
        self.jobs: queue.Queue[Job] = queue.Queue(ASK_QUEUE)
        self.counter = 0
        self.model: ModelProcess | None = None
        self.restart_after_s = restart_after_s
        self.score_timeout_s = score_timeout_s
        daemon.add_worker("interpreter", self.jobs, self.handle)
        daemon.ask_handler = self.receive
        daemon.shutdown_hooks.append(self._close_model)
        if load_model:
            self._start_model(delay_s=0.0)
        else:
            daemon.model_state = "failed"

    def _start_model(self, delay_s: float) -> None:
        threading.Thread(target=self._load_model, args=(delay_s,), name="model-load",
                         daemon=True).start()

    def _load_model(self, delay_s: float) -> None:
        if self.daemon.stopping.wait(delay_s):
            return
        try:
            model = ModelProcess(*model_args(self.daemon.config), self.score_timeout_s)
        except (ModelError, OSError) as exc:
            log.error("the local model could not be loaded: %s; the matcher works without it",
                      exc)
            self.daemon.model_state = "failed"
        else:
            if self.daemon.stopping.is_set():
                model.close()
                return
            self.model = model
            self.interpreter.scorer = model
            self.daemon.meta["model"] = model.name
            self.daemon.model_state = "ready"
            log.info("local model %s ready (worker process %d)", model.name, model.pid)
        self.daemon.publish_status()

    def _close_model(self) -> None:
        if self.model is not None:
            self.model.close()

    def _model_lost(self) -> None:
        """The worker failed during a request (and stopped): start another."""
        assert self.model is not None
        self.model.close()
        self.model = None
        self.interpreter.scorer = None
        self.daemon.model_state = "failed"
        self.daemon.publish_status()
        log.warning("starting a new model worker in %.0f s", self.restart_after_s)
        self._start_model(self.restart_after_s)

    def receive(self, job: Job) -> None:
        """On the MQTT thread: stop-like text jumps the queue, the rest waits its turn."""
        text = job.inbound.payload[:200].decode("utf-8", errors="replace").lower()
        if self.interpreter.stop_action and self.interpreter.is_stop_text(text):
            self.daemon.enqueue_job(self.daemon.commands, job, self.handle)
            return
        self.daemon.enqueue_job(self.jobs, job, self.handle)

    def handle(self, job: Job) -> None:
        d = self.daemon
        self.counter += 1
        try:
            ask = parse_ask(job.inbound.payload, d.config.mqtt.max_payload_bytes,
                            f"ask-{self.counter}")
        except Malformed as exc:
            d.refuse_malformed(exc, "ask", job, route="local")
            return
        reply = d.reply_target(job.inbound, {"reply_to": ask.reply_to})
        if not d.claim_or_duplicate(Outcome(ask.id, "ask", "none", "none", route="local",
                                            text=ask.text), job, reply):
            return
        interp = self.interpreter.interpret(ask.text)
        if self.model is not None and not self.model.alive():
            self._model_lost()
        outcome = decide(interp, d.config, d.gate.check_static, ask.id, d.cloud_state)
        if d.planner is not None and outcome.reason in ("low_confidence", "offline"):
            d.planner.escalate(job, outcome, reply)
        elif outcome.decision == "execute":
            d.execute(outcome, outcome.params, False, job, reply)
        else:
            d.finish(outcome, job, reply)
