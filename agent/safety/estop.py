"""The e-stop: engage, its follow-up, reset, the hardware button and its own MQTT connection.

Engaging never waits on a queue, the model or the network: it runs where the trigger arrives
(the e-stop connection's thread, the button's thread), drives every output safe, sets and saves
the latch, and only then publishes the retained state. What is left (the latch made durable,
device states, the final results of what was cancelled, the record, the status) is handed to a
follow-up worker, because paho sends the announcement only once the callback has returned.
A reset changes no output, so nothing resumes; commands that arrived before it are refused by
agent.requests.pipeline, which compares each job's e-stop epoch with the current one (pending
schedules are cancelled by the follow-up, and agent.requests.schedules checks the epoch too).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho

from agent.config import Config
from agent.core.clock import Clock
from agent.core.decisions import Decision, to_json
from agent.core.protocol import InputKind, Reason, Status
from agent.core.workers import Worker
from agent.devices import Output
from agent.mqtt.connection import Connection
from agent.mqtt.inbound import EnvelopeReader, Inbound, Malformed, ResetRequest, read_estop
from agent.mqtt.publisher import Publisher
from agent.safety.executor import Executor, Running
from agent.safety.latch import Latch, LatchState
from agent.safety.signing import Verifier

log = logging.getLogger(__name__)

ANNOUNCE_WAIT_S = 0.2  # the follow-up of an e-stop waits this long at most for its announcement
# How long the e-stop waits for the broker to acknowledge the safe messages of mqtt devices
# before it announces itself anyway, naming the devices it has no acknowledgement for.
SAFE_ACK_WAIT_S = 0.5
RECHECK_S = 1.0  # then how often it looks again, to announce the state once they are


@dataclass(frozen=True)
class FollowUp:
    """What the e-stop leaves to do after it has announced itself. Never dropped: the follow-up
    queue has no bound, and an e-stop that changes nothing (engaged again while engaged,
    nothing cancelled) is counted into one pending record instead of queueing another."""
    decision: Decision
    cancelled: list[tuple[Running, Reason, str]]
    first: bool  # it was not engaged before: save the latch durably, update the status
    announced: paho.MQTTMessageInfo
    repeat: bool = False  # the pending record of repeated e-stops


def make_button(config: Config, pin_factory: Any) -> Button | None:
    """The configured hardware e-stop button, or None without one."""
    safety = config.safety
    if not safety.estop_button_pin:
        return None
    return Button(safety.estop_button_pin, safety.estop_button_contact, pin_factory)


class Button:
    """The hardware e-stop button, wired between its pin and ground with the pull-up on: a
    closed contact reads as pressed to gpiozero. Normally closed (nc, the safety convention):
    pressing it or a cut wire opens the circuit, and an open circuit trips the e-stop. Normally
    open (no): pressing it closes the circuit; a cut wire goes unnoticed."""

    def __init__(self, pin: int, contact: str, pin_factory: Any) -> None:
        from gpiozero import Button as GpioButton

        self.contact = contact
        self.hw = GpioButton(pin, pull_up=True, bounce_time=None, pin_factory=pin_factory)

    def arm(self, trip: Callable[[str], None]) -> None:
        """From now on, pressing it (or a cut wire, for nc) calls trip with why."""
        if self.contact == "nc":
            self.hw.when_released = lambda: trip(
                "e-stop circuit opened: button pressed, or a wire cut")
        else:
            self.hw.when_pressed = lambda: trip("e-stop button pressed")

    @property
    def tripped(self) -> bool:
        closed = bool(self.hw.is_pressed)
        return not closed if self.contact == "nc" else closed

    def at_start(self) -> str:
        return ("e-stop circuit open at start-up: button pressed, or a wire cut"
                if self.contact == "nc" else "e-stop button held at start-up")

    def close(self) -> None:
        self.hw.close()


class EStop:
    def __init__(self, config: Config, *, latch: Latch, executor: Executor,
                 outputs: dict[str, Output], publisher: Publisher, link: Connection,
                 fallback: Connection, button: Button | None, reader: EnvelopeReader,
                 verifier: Verifier, clock: Clock, stopping: threading.Event,
                 on_status_change: Callable[[], None]) -> None:
        self.config = config
        self.latch = latch
        self.executor = executor
        self.outputs = outputs
        self.publisher = publisher
        self.reader = reader
        self.verifier = verifier
        self.clock = clock
        self.stopping = stopping
        self.on_status_change = on_status_change
        # Its own connection (the daemon hands its messages to receive()): its message never
        # waits in a TCP stream behind a sensor flood, and its state never waits behind other
        # outgoing traffic. Its session is kept, so an e-stop sent while the robot is
        # disconnected from a running broker is delivered when it is back (late is still
        # safe; commands never run late).
        self.connection = link
        self.fallback = fallback  # the main connection: for the state while this one is down
        self.button = button  # made with the outputs, armed at start
        self.topic = publisher.topics.estop
        self.site_topic = config.mqtt.site_estop_topic  # the whole site's e-stop, if any
        self.state_topic = publisher.topics.estop_state
        self.lock = threading.Lock()
        self.epoch = 0  # how many times it was engaged: a job from an older epoch never runs
        self.follow_ups = Worker("estop-follow-up", self._follow_up, clock=clock,
                                 stopping=stopping, size=0)  # unbounded: see FollowUp
        self.repeats = 0  # e-stops that changed nothing, not yet recorded
        self.unconfirmed: list[str] = []  # mqtt devices whose safe message was not acknowledged
        # The id of the last request on P/estop or P/estop/reset, echoed in the state: a sender
        # confirms its own e-stop even when one was engaged already (source and reason stay).
        self.request_id: str | None = None
        self.after_engage: list[Callable[[], None]] = []  # see on_engaged

    @property
    def engaged(self) -> bool:
        return self.latch.engaged

    def status_fields(self) -> dict[str, Any]:
        """The latch, and whether an e-stop sent on MQTT can reach the daemon right now."""
        link = "connected" if self.connection.connected.is_set() else "disconnected"
        return {"estop": self.latch.engaged, "estop_connection": link}

    def on_engaged(self, follow: Callable[[], None]) -> None:
        """Run follow after every engagement, on the follow-up worker: never on the engage path,
        which waits on nothing. Whatever follow cancels must also check the epoch itself (as
        commands and schedules do), for the moment between engaging and the follow-up."""
        self.after_engage.append(follow)

    def start(self, also: list[str]) -> None:
        """Before any MQTT connection: a button held down engages before a command can come.
        also: more topics for the e-stop's connection (the bridge's state)."""
        self.follow_ups.start()
        if self.button is not None:
            self.button.arm(lambda why: self.engage("button", why))
            if self.button.tripped:
                self.engage("button", self.button.at_start())
        topics = [self.topic, *([self.site_topic] if self.site_topic else []), *also]
        self.connection.start([(topic, 1) for topic in topics])

    def stop(self) -> None:
        self.connection.stop()
        if self.button is not None:
            self.button.close()

    def problem(self, hung_after_s: float) -> str:
        return (self.connection.problem(hung_after_s)
                or self.follow_ups.problem(hung_after_s))

    def receive(self, msg: Inbound) -> None:
        """Any message on the e-stop topic or the site's, on the e-stop connection's thread."""
        request = read_estop(msg.payload)
        site = bool(self.site_topic) and msg.topic == self.site_topic
        self.engage("site" if site else request.source, request.reason, request.id)

    def engage(self, source: str, reason: str, request_id: str | None = None) -> None:
        """Outputs safe (for an mqtt device: acknowledged by the broker, for at most
        SAFE_ACK_WAIT_S), latch set and saved, and only then the world is told. request_id:
        the id the request carried (or a reaction's firing), echoed in the state."""
        with self.lock:
            started = self.clock.monotonic()
            cancelled = self.executor.halt(Reason.ESTOP_ENGAGED, f"e-stop engaged ({source})")
            self.epoch += 1
            first = not self.latch.engaged
            if first:
                self.latch.set(LatchState(True, source, reason, self.clock.time()))
            self.unconfirmed = self._confirm_safe()
            self.request_id = request_id
            announced = self.publish_state()
            self.connection.send_now()
            latency_ms = (self.clock.monotonic() - started) * 1000
            repeat = not first and not cancelled
            pending = repeat and self.repeats > 0
            if repeat:
                self.repeats += 1
        if self.unconfirmed:
            log.error("e-stop: the broker did not acknowledge the safe message of %s "
                      "(announced engaged anyway; the message goes out when the broker is "
                      "back, and the state is announced again then)", ", ".join(self.unconfirmed))
            self._recheck_unconfirmed()
        decision = Decision.executed(f"estop:{self.epoch}", InputKind.ESTOP, action="estop",
                                     detail=self._engaged_detail(source, reason, cancelled),
                                     latency_ms=latency_ms, extra={"source": source})
        if not pending:  # a repeat with one already pending is counted into that one
            self.follow_ups.offer(FollowUp(decision, cancelled, first, announced, repeat))

    def _engaged_detail(self, source: str, reason: str,
                        cancelled: list[tuple[Running, Reason, str]]) -> str:
        """What a technician reads: who and why, which outputs are safe, what was stopped."""
        stopped = ", ".join(f"{run.name} on {run.action.device}" for run, _, _ in cancelled)
        return (f"e-stop engaged by {source}: {reason}; outputs made safe: "
                f"{', '.join(self.outputs) or 'none configured'}"
                + (f"; stopped: {stopped}" if stopped else "; nothing was running")
                + (f"; not yet acknowledged by the broker: {', '.join(self.unconfirmed)}"
                   if self.unconfirmed else ""))

    def _confirm_safe(self) -> list[str]:
        """The outputs not known to be safe after waiting, in all, SAFE_ACK_WAIT_S at most. Not
        at all while the main connection is down (nothing can be acknowledged then), nor on its
        own thread (e.g. a reaction to a sensor engaging it): that thread is the one that would
        receive the acknowledgement. The recheck announces them once they are confirmed."""
        main = self.publisher.connection
        waits = main.connected.is_set() and threading.current_thread() is not main.thread
        wait = SAFE_ACK_WAIT_S if waits else 0.0
        deadline = self.clock.monotonic() + wait
        return [out.name for out in self.outputs.values()
                if not out.safe_confirmed(max(0.0, deadline - self.clock.monotonic()))]

    def _recheck_unconfirmed(self) -> None:
        """Announce the state again once the broker has every safe message it lacked."""
        def check() -> None:
            if self.stopping.is_set():
                return
            with self.lock:
                before = self.unconfirmed
                if self.latch.engaged:
                    self.unconfirmed = [name for name in before
                                        if not self.outputs[name].safe_confirmed(0.0)]
                if self.latch.engaged and self.unconfirmed != before:
                    self.publish_state()
            if self.latch.engaged and self.unconfirmed:
                self._recheck_unconfirmed()

        timer = threading.Timer(RECHECK_S, check)
        timer.daemon = True
        timer.start()

    def _follow_up(self, item: FollowUp) -> None:
        # The announcement leaves first: until then this thread would only take the GIL from
        # the e-stop's network thread, which is sending it.
        with contextlib.suppress(RuntimeError, ValueError):  # not connected: nothing to wait for
            item.announced.wait_for_publish(ANNOUNCE_WAIT_S)
        if item.first:
            self.latch.sync()
        for out in self.outputs.values():
            self.publisher.publish_device_state(out)
        decision = item.decision
        if item.repeat:
            with self.lock:
                count, self.repeats = self.repeats, 0
            times = "1 such e-stop" if count == 1 else f"{count} such e-stops"
            decision = decision.but(detail=f"{decision.detail} (engaged again while engaged; "
                                           f"{times})")
        # The e-stop's record first, then the ends of what it stopped: the journal reads in
        # the order things happened.
        self.publisher.publish(decision, None, result=False)
        for run, why, text in item.cancelled:
            run.on_end(Status.FAILED, why, text)
        for follow in self.after_engage:
            follow()
        if item.first:
            self.on_status_change()

    def reset(self, msg: Inbound) -> None:
        """A request on P/estop/reset, on the main connection's thread."""
        started = self.clock.monotonic()
        try:
            request = self.reader.reset(msg)
        except Malformed as exc:
            decision = Decision.refused(exc.request_id or "", InputKind.RESET, exc.reason,
                                        exc.detail, action="estop_reset")
            reply = exc.reply
        else:
            reply = request.reply
            refusal = self._reset_refusal(request)
            decision = (Decision.refused(request.id, InputKind.RESET, *refusal,
                                         action="estop_reset")
                        if refusal else self._release(request))
        self.publisher.publish(decision.but(latency_ms=(self.clock.monotonic() - started) * 1000),
                             reply)

    def _reset_refusal(self, request: ResetRequest) -> tuple[Reason, str] | None:
        if request.signed or self.config.safety.require_signed_reset:
            if not request.signed:
                return Reason.SIGNATURE_REQUIRED, "this robot requires a signed reset"
            reason, detail = self.verifier.verify(request.message, self.clock.time())
            if reason:
                return reason, detail
        if self.button is not None and self.button.tripped:
            return Reason.ESTOP_ENGAGED, ("the e-stop button is still pressed (or its circuit is "
                                     "open): release it, or check its wiring, first")
        return None

    def _release(self, request: ResetRequest) -> Decision:
        """Release the latch; no output changes, so nothing resumes."""
        with self.lock:
            was = self.latch.state
            self.latch.set(LatchState(False, request.source, request.reason[:200],
                                      self.clock.time()))
            self.latch.sync()
            self.executor.release()
            self.request_id = request.id
            self.publish_state()
        self.on_status_change()
        said = f"reset by {request.source}, reason {to_json(request.reason[:200])}"
        detail = (f"e-stop released ({said}; it was engaged by {was.source}: {was.reason}); "
                  "nothing resumes: send new commands" if was.engaged
                  else f"the e-stop was not engaged ({said}); nothing changed")
        return Decision.executed(request.id, InputKind.RESET, action="estop_reset", detail=detail,
                                 extra={"source": request.source})

    def publish_state(self) -> paho.MQTTMessageInfo:
        s = self.latch.state
        connection = self.connection if self.connection.connected.is_set() else self.fallback
        return connection.publish(self.state_topic, to_json(
            {"engaged": s.engaged, "source": s.source, "reason": s.reason, "since": s.since,
             "unconfirmed": self.unconfirmed if s.engaged else [],
             "request_id": self.request_id}), retain=True)
