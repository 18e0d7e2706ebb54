"""Natural-language requests in the daemon: `P/ask` through the interpreter, then the gate.

One request is interpreted at a time, off the MQTT thread, from a small bounded queue (excess
gets `busy`). The deterministic matcher works from the first second; the model loads in the
background and `status.model` says loading, ready or failed. Stop-like text skips this queue
altogether: it goes to the command worker, so a stop never waits behind an inference.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import TYPE_CHECKING

from agent.inbound import Malformed, parse_ask
from agent.interpret.interpreter import Interpreter
from agent.interpret.route import decide
from agent.records import Outcome

if TYPE_CHECKING:
    from agent.daemon import Daemon, Job

log = logging.getLogger(__name__)

ASK_QUEUE = 4


class Asking:
    def __init__(self, daemon: Daemon, load_model: bool = True) -> None:
        self.daemon = daemon
        self.interpreter = Interpreter(daemon.config)
        self.jobs: queue.Queue[Job] = queue.Queue(ASK_QUEUE)
        self.counter = 0
        daemon.add_worker("interpreter", self.jobs, self.handle)
        daemon.ask_handler = self.receive
        if load_model:
            threading.Thread(target=self._load_model, name="model-load", daemon=True).start()
        else:
            daemon.model_state = "failed"

    def _load_model(self) -> None:
        from agent.interpret.model import ModelError, load_scorer

        try:
            scorer = load_scorer(self.daemon.config)
        except (ModelError, OSError, ValueError, RuntimeError) as exc:
            log.error("the local model could not be loaded: %s; the matcher works without it",
                      exc)
            self.daemon.model_state = "failed"
        else:
            self.interpreter.scorer = scorer
            self.daemon.meta["model"] = scorer.name
            self.daemon.model_state = "ready"
            log.info("local model %s ready", scorer.name)
        self.daemon.publish_status()

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
        outcome = decide(interp, d.config, d.gate.check_static, ask.id, d.cloud_state)
        if d.planner is not None and outcome.reason in ("low_confidence", "offline"):
            d.planner.escalate(job, outcome, reply)
        elif outcome.decision == "execute":
            d.execute(outcome, outcome.params, False, job, reply)
        else:
            d.finish(outcome, job, reply)
