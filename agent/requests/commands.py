"""Structured commands on `P/cmd`: read, the signature or timestamp checked, the id claimed, then
the pipeline (agent.requests.pipeline) like every other request."""

from __future__ import annotations

from agent.core.clock import Clock
from agent.core.decisions import Decision
from agent.core.protocol import InputKind, Reason, Route
from agent.core.workers import Worker
from agent.mqtt.inbound import Command, EnvelopeReader, Inbound, Malformed
from agent.requests.pipeline import Job, Pipeline, Work
from agent.safety.signing import WINDOW_S, Verifier


class Commands:
    def __init__(self, *, pipeline: Pipeline, reader: EnvelopeReader, verifier: Verifier,
                 clock: Clock, queue: Worker[Work]) -> None:
        self.pipeline = pipeline
        self.reader = reader
        self.verifier = verifier
        self.clock = clock
        self.queue = queue

    def receive(self, msg: Inbound) -> None:
        """On the MQTT thread: the command waits its turn on the commands queue."""
        self.pipeline.offer(self.queue, self.pipeline.work(msg, InputKind.CMD, self.run))

    def run(self, job: Job, msg: Inbound) -> None:
        try:
            cmd = self.reader.command(msg)
        except Malformed as exc:
            self.pipeline.refuse_malformed(exc, job, msg)
            return
        action = cmd.action if isinstance(cmd.action, str) else None
        refusal = self._signature_refusal(cmd)
        if refusal:
            self.pipeline.answer(Decision.refused(cmd.id, InputKind.CMD, *refusal,
                                                  action=action), job, cmd.reply)
        elif self.pipeline.claim(cmd.id, job, cmd.reply, route=Route.DIRECT, action=action):
            self.pipeline.submit(Decision.proposed(cmd.id, InputKind.CMD, action=action),
                                 cmd.params, signed=cmd.signed, job=job, reply=cmd.reply)

    def _signature_refusal(self, cmd: Command) -> tuple[Reason, str] | None:
        """A signature that does not verify, or a timestamp outside the window."""
        if cmd.signed:
            reason, detail = self.verifier.verify(cmd.message, self.clock.time())
            if reason:
                return reason, detail
        elif "ts" in cmd.message:
            ts = cmd.message["ts"]
            if isinstance(ts, bool) or not isinstance(ts, int | float):
                return Reason.MALFORMED, "ts must be epoch seconds"
            if abs(self.clock.time() - ts) > WINDOW_S:
                return Reason.REPLAYED, f"ts is {self.clock.time() - ts:+.0f} s from now"
        return None
