"""The daemon: wires config, gate, outputs, sensors, e-stop and MQTT together.

Threads: the MQTT network thread (e-stop, reset and sensors are handled right there, because they
are quick and must not wait behind anything); a command worker fed by a bounded queue; the
interpreter worker (agent.asking); the executor's supervisor. The main thread watches them all.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from agent import __version__
from agent.clock import Clock, SystemClock
from agent.config import Config
from agent.devices import Output, build_outputs
from agent.executor import Executor, Running
from agent.gate import Gate
from agent.inbound import Command, Malformed, parse_command, parse_json, request_id
from agent.journal import DecisionLog
from agent.latch import Latch, LatchState
from agent.link import Inbound, Link
from agent.records import Outcome, to_json
from agent.sensors import Sensors
from agent.signing import WINDOW_S, Verifier

log = logging.getLogger(__name__)

COMMAND_QUEUE = 64
SENSOR_WARN_EVERY_S = 5.0
HEALTH_EVERY_S = 0.5
GIL_SWITCH_S = 0.001
ANNOUNCE_WAIT_S = 0.2  # the follow-up of an e-stop waits this long at most for its announcement


@dataclass(frozen=True)
class Reply:
    topic: str
    correlation: bytes | None = None


@dataclass(frozen=True)
class FollowUp:
    """What the e-stop leaves to do after it has announced itself."""
    outcome: Outcome
    cancelled: list[tuple[Running, str, str]]
    first: bool  # it was not engaged before: save the latch durably, update the status
    announced: paho.MQTTMessageInfo


@dataclass
class Job:
    """Work received on the MQTT thread, with what the e-stop looked like when it arrived."""
    inbound: Inbound
    received: float  # monotonic
    estop_epoch: int
    engaged: bool
    handler: Callable[[Job], None] | None = None  # else the queue's own


class Daemon:
    def __init__(self, config: Config, *, pin_factory: Any, state_dir: Path,
                 clock: Clock | None = None, secrets: dict[str, bytes] | None = None,
                 hung_after_s: float = 30.0) -> None:
        self.config = config
        self.hung_after_s = hung_after_s  # a thread silent this long is stuck: a fault
        self.clock = clock or SystemClock()
        secrets = secrets or {}
        p = config.prefix
        self.topics = {name: f"{p}/{name}" for name in (
            "status", "cmd", "ask", "plan", "result", "estop", "estop/reset", "estop/state",
            "events")}
        self.inbound_topics = {self.topics[t] for t in ("cmd", "ask", "plan", "estop",
                                                        "estop/reset")}
        self.sensors = Sensors(config.sensors, self.clock)
        self.inbound_topics |= set(self.sensors.by_topic)
        self.latch = Latch(state_dir)
        self.estop_epoch = 0
        self.gate = Gate(config, self.sensors, self.clock, lambda: self.latch.engaged)
        self.verifier = Verifier(secrets.get("signing_key"), state_dir / "signed-ids.json")
        self.meta = {"policy_version": config.policy_version,
                     "device_class": config.device.class_, "model": ""}
        self.model_state = "loading"
        self.cloud_state = "disabled"
        password = secrets["mqtt_password"].decode() if "mqtt_password" in secrets else None
        self.link = Link(config.mqtt, f"robot-agent-{config.device.id}", self.clock,
                         self._on_message, self._on_connect,
                         (self.topics["status"], to_json({"state": "offline"})), password)
        # The e-stop has a connection of its own: its message never waits in a TCP stream
        # behind a sensor flood, and its state never waits behind other outgoing traffic.
        # Its session is kept, so an e-stop sent while the robot is disconnected from a running
        # broker is delivered when it is back (late is still safe; commands never run late).
        self.estop_link = Link(config.mqtt, f"robot-agent-{config.device.id}-estop",
                               self.clock, self._on_estop_message, lambda: None, None, password,
                               keep_session=True)
        self.outputs = build_outputs(config.devices, pin_factory, self.link.publish)
        self.executor = Executor(self.outputs, self.clock, self.gate.interlock_problem,
                                 self._publish_state)
        self.executor.halted = self.latch.engaged
        self.button = self._make_button(pin_factory)
        self.commands: queue.Queue[Job] = queue.Queue(COMMAND_QUEUE)
        self.follow_ups: queue.Queue[FollowUp] = queue.Queue(COMMAND_QUEUE)
        self.estop_lock = threading.Lock()
        self.stopping = threading.Event()
        self.fault = ""
        self.sensor_warned: dict[str, float] = {}
        self.workers: list[threading.Thread] = [
            threading.Thread(target=self._serve, args=(self.commands, self._run_command),
                             name="commands", daemon=True),
            threading.Thread(target=self._serve, args=(self.follow_ups, self._follow_up),
                             name="estop-follow-up", daemon=True)]
        self.ask_handler: Callable[[Job], None] | None = None
        self.plan_handler: Callable[[Job], None] | None = None
        self.planner: Any = None  # agent.planner.Planner when the cloud is enabled
        self.recent: deque[dict[str, Any]] = deque(maxlen=20)  # the last decision records
        self.busy_since: dict[str, float] = {}  # worker name -> when its current job began
        self.shutdown_hooks: list[Callable[[], None]] = []
        self.decision_log = DecisionLog()

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        # A thread that wants the GIL waits up to this long for the holder to let go (CPython's
        # default is 5 ms): the e-stop thread must not wait that long behind the main MQTT
        # thread working through a sensor flood.
        sys.setswitchinterval(GIL_SWITCH_S)
        if self.latch.engaged:
            s = self.latch.state
            log.warning("starting with the e-stop engaged (%s: %s)", s.source, s.reason)
        self.executor.start_supervisor()
        for worker in self.workers:
            worker.start()
        main = self.inbound_topics - set(self.sensors.by_topic) - {self.topics["estop"]}
        subs = [(t, 1) for t in sorted(main)] + [(t, 0) for t in sorted(self.sensors.by_topic)]
        self.estop_link.start([(self.topics["estop"], 1)])
        self.link.start(subs)

    def add_worker(self, name: str, jobs: queue.Queue[Job], handle: Callable[[Job], None]) -> None:
        self.workers.append(threading.Thread(target=self._serve, args=(jobs, handle),
                                             name=name, daemon=True))

    def health_problem(self) -> str:
        """Why the daemon is not healthy, or '' when every thread is alive and moving."""
        if self.fault:
            return self.fault
        now = self.clock.monotonic()
        for link in (self.link, self.estop_link):
            if not link.alive():
                return f"the MQTT network thread {link.thread.name} died"
            if now - link.heartbeat > self.hung_after_s:
                return (f"the MQTT network thread {link.thread.name} is stuck "
                        f"({now - link.heartbeat:.0f} s)")
        if not self.executor.thread.is_alive():
            return "the action supervisor thread died"
        if now - self.executor.heartbeat > self.hung_after_s:
            return f"the action supervisor is stuck ({now - self.executor.heartbeat:.0f} s)"
        dead = [w.name for w in self.workers if not w.is_alive()]
        if dead:
            return f"worker thread died: {', '.join(dead)}"
        stuck = [n for n, t in list(self.busy_since.items()) if now - t > self.hung_after_s]
        return f"worker thread stuck: {', '.join(stuck)}" if stuck else ""

    def run_until_stopped(self) -> int:
        """Block until a signal (exit 0) or a fault (exit 1); outputs are safe either way."""
        while not self.stopping.wait(HEALTH_EVERY_S):
            problem = self.health_problem()
            if problem:
                log.error("fault: %s; making every output safe and exiting", problem)
                self.report(Outcome("fault", "fault", "failed", "abort", "internal_error",
                                    f"{problem}: outputs made safe, exiting for a restart"),
                            reply=None, result=False)
                self.shutdown("internal_error", problem)
                return 1
        self.shutdown("shutdown", "the daemon is stopping")
        return 0

    def shutdown(self, reason: str, detail: str) -> None:
        for hook in self.shutdown_hooks:
            hook()
        cancelled = self.executor.halt(reason, detail)
        for out in self.outputs.values():
            self._publish_state(out)
        for run, why, text in cancelled:
            run.on_end("failed", why, text)
        self.link.stop((self.topics["status"], to_json({"state": "offline"})))
        self.estop_link.stop()
        self.executor.close()
        if self.button is not None:
            self.button.close()

    # ---- MQTT thread -----------------------------------------------------------------------

    def _on_connect(self) -> None:
        self.publish_status()
        self._publish_estop_state()
        for out in self.outputs.values():
            self._publish_state(out)

    def _on_estop_message(self, msg: Inbound) -> None:
        self.engage(*_estop_source_reason(msg.payload))

    def _on_message(self, msg: Inbound) -> None:
        topic = msg.topic
        if topic in self.sensors.by_topic:
            self._on_sensor(self.sensors.by_topic[topic], msg.payload)
        elif topic == self.topics["estop/reset"]:
            self._reset(msg)
        elif topic == self.topics["cmd"]:
            self.enqueue_job(self.commands, self._job(msg))
        elif topic == self.topics["ask"] and self.ask_handler is not None:
            self.ask_handler(self._job(msg))
        elif topic == self.topics["plan"] and self.plan_handler is not None:
            self.plan_handler(self._job(msg))
        elif topic in (self.topics["ask"], self.topics["plan"]):
            self._refuse_unparsed(msg, "offline", "the cloud planner is not enabled on this "
                                  "robot ([cloud] enabled = false)",
                                  input_kind=topic.rsplit("/", 1)[1])

    def _job(self, msg: Inbound) -> Job:
        return Job(msg, self.clock.monotonic(), self.estop_epoch, self.latch.engaged)

    def enqueue_job(self, jobs: queue.Queue[Job], job: Job,
                    handler: Callable[[Job], None] | None = None) -> None:
        job.handler = handler
        try:
            jobs.put_nowait(job)
        except queue.Full:
            kind = job.inbound.topic.rsplit("/", 1)[-1]
            self._refuse_unparsed(job.inbound, "busy", "too many requests waiting; try again "
                                  "shortly", input_kind=kind)

    def _refuse_unparsed(self, msg: Inbound, reason: str, detail: str,
                         input_kind: str = "cmd") -> None:
        """Answer a message that never reached its worker, with its id if it has one."""
        rid, reply = None, None
        try:
            data = parse_json(msg.payload, self.config.mqtt.max_payload_bytes)
            rid = request_id(data)
            reply = self.reply_target(msg, data)
        except Malformed:
            pass
        self.report(Outcome(rid or "", input_kind, "refused", "refuse", reason, detail), reply)

    def _on_sensor(self, name: str, payload: bytes) -> None:
        problem = self.sensors.update(name, payload)
        self.executor.poke()
        if problem:
            now = self.clock.monotonic()
            if now - self.sensor_warned.get(name, -SENSOR_WARN_EVERY_S) >= SENSOR_WARN_EVERY_S:
                self.sensor_warned[name] = now
                self.report(Outcome(f"sensor:{name}", "sensor", "refused", "refuse",
                                    "malformed", f"sensor {name}: {problem}; treated as no "
                                    "reading (interlocks on it refuse)"), reply=None,
                            result=False)

    # ---- e-stop ----------------------------------------------------------------------------

    def engage(self, source: str, reason: str) -> None:
        """Outputs safe, latch set and saved, and only then the world is told.

        Runs where the trigger arrives (the MQTT thread, the button's thread). Everything after
        the announcement is handed to the follow-up worker, because paho sends the announcement
        only once this callback has returned.
        """
        with self.estop_lock:
            started = self.clock.monotonic()
            cancelled = self.executor.halt("estop_engaged", f"e-stop engaged ({source})")
            self.estop_epoch += 1
            first = not self.latch.engaged
            if first:
                self.latch.set(LatchState(True, source, reason, self.clock.time()))
            announced = self._publish_estop_state()
            latency_ms = (self.clock.monotonic() - started) * 1000
        outcome = Outcome(f"estop:{self.estop_epoch}", "estop", "done", "execute", None,
                          f"e-stop engaged by {source}: {reason}", action="estop",
                          latency_ms=latency_ms)
        with contextlib.suppress(queue.Full):  # a flood: engaged and announced already
            self.follow_ups.put_nowait(FollowUp(outcome, cancelled, first, announced))

    def _follow_up(self, item: FollowUp) -> None:
        # The announcement leaves first: until then this thread would only take the GIL from
        # the e-stop's network thread, which is sending it.
        with contextlib.suppress(RuntimeError, ValueError):  # not connected: nothing to wait for
            item.announced.wait_for_publish(ANNOUNCE_WAIT_S)
        if item.first:
            self.latch.sync()
        for out in self.outputs.values():
            self._publish_state(out)
        for run, why, text in item.cancelled:
            run.on_end("failed", why, text)
        self.report(item.outcome, reply=None, result=False)
        if item.first:
            self.publish_status()

    def _reset(self, msg: Inbound) -> None:
        started = self.clock.monotonic()
        outcome = Outcome("", "reset", "refused", "refuse", action="estop_reset")
        reply = None
        try:
            data = parse_json(msg.payload, self.config.mqtt.max_payload_bytes)
            if not isinstance(data, dict):
                raise Malformed("malformed", "a reset is {\"id\",\"reason\"}")
            outcome.id = request_id(data)
            reply = self.reply_target(msg, data)
            reason = data.get("reason")
            if not isinstance(reason, str) or not reason.strip():
                raise Malformed("malformed", "a reset needs a reason (who, and why it is safe)")
            outcome.reason, outcome.detail = self._reset_refusal(data)
            if not outcome.reason:
                self._release(outcome, reason)
        except Malformed as exc:
            outcome.reason, outcome.detail = exc.reason, exc.detail
        outcome.latency_ms = (self.clock.monotonic() - started) * 1000
        self.report(outcome, reply)

    def _release(self, outcome: Outcome, reason: str) -> None:
        """Release the latch; no output changes, so nothing resumes."""
        with self.estop_lock:
            was = self.latch.state
            self.latch.set(LatchState(False, "mqtt", reason[:200], self.clock.time()))
            self.latch.sync()
            self.executor.release()
            self._publish_estop_state()
        self.publish_status()
        outcome.status, outcome.decision = "done", "execute"
        outcome.detail = (f"e-stop released (was {was.source}: {was.reason}); nothing resumes: "
                          "send new commands" if was.engaged else "the e-stop was not engaged")

    def _reset_refusal(self, data: dict[str, Any]) -> tuple[str | None, str]:
        if "sig" in data or self.config.safety.require_signed_reset:
            if "sig" not in data:
                return "signature_required", "this robot requires a signed reset"
            reason, detail = self.verifier.verify(data, self.clock.time())
            if reason:
                return reason, detail
        if self.button is not None and self.button.is_pressed:
            return "estop_engaged", "the e-stop button is still pressed: release it first"
        return None, ""

    def _publish_estop_state(self) -> paho.MQTTMessageInfo:
        s = self.latch.state
        link = self.estop_link if self.estop_link.connected.is_set() else self.link
        return link.publish(self.topics["estop/state"], to_json(
            {"engaged": s.engaged, "source": s.source, "reason": s.reason, "since": s.since}),
            retain=True)

    def _make_button(self, pin_factory: Any) -> Any:
        pin = self.config.safety.estop_button_pin
        if not pin:
            return None
        from gpiozero import Button

        button = Button(pin, pull_up=True, bounce_time=None, pin_factory=pin_factory)
        button.when_pressed = lambda: self.engage("button", "e-stop button pressed")
        if button.is_pressed:
            self.engage("button", "e-stop button held at start-up")
        return button

    # ---- commands --------------------------------------------------------------------------

    def _serve(self, jobs: queue.Queue[Any], handle: Callable[[Any], None]) -> None:
        while not self.stopping.is_set():
            try:
                job = jobs.get(timeout=0.5)
            except queue.Empty:
                continue
            name = threading.current_thread().name
            self.busy_since[name] = self.clock.monotonic()
            try:
                (job.handler if isinstance(job, Job) and job.handler else handle)(job)
            except Exception as exc:  # the worker survives; a request gets an answer
                log.exception("internal error in %s", name)
                if isinstance(job, Job):
                    self._refuse_unparsed(job.inbound, "internal_error", type(exc).__name__)
            finally:
                self.busy_since.pop(name, None)

    def _run_command(self, job: Job) -> None:
        try:
            cmd = parse_command(job.inbound.payload, self.config.mqtt.max_payload_bytes)
        except Malformed as exc:
            self.refuse_malformed(exc, "cmd", job)
            return
        reply = self.reply_target(job.inbound, cmd.message)
        outcome = Outcome(cmd.id, "cmd", "refused", "refuse",
                          action=cmd.action if isinstance(cmd.action, str) else None)
        refusal = self._signature_refusal(cmd)
        if refusal:
            outcome.reason, outcome.detail = refusal
            self.finish(outcome, job, reply)
        elif self.claim_or_duplicate(outcome, job, reply):
            self.execute(outcome, cmd.params, cmd.signed, job, reply)

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

    def refuse_malformed(self, exc: Malformed, kind: str, job: Job,
                         route: str = "direct") -> None:
        """Answer a request that could not be read, to its MQTT 5 response topic if any."""
        self.finish(Outcome(exc.request_id or "", kind, "refused", "refuse", exc.reason,
                            exc.detail, route=route), job, self.safe_reply(job.inbound))

    def claim_or_duplicate(self, outcome: Outcome, job: Job, reply: Reply | None) -> bool:
        """True the first time outcome.id is seen; else answer duplicate: never run twice."""
        if self.gate.claim_id(outcome.id):
            return True
        outcome.status, outcome.decision, outcome.reason = "duplicate", "none", "duplicate"
        outcome.detail = f"id {outcome.id} was already received; it is never run twice"
        self.finish(outcome, job, reply)
        return False

    def execute(self, outcome: Outcome, params: Any, signed: bool, job: Job,
                reply: Reply | None,
                finished: Callable[[str, str | None, str], None] | None = None) -> None:
        """The gate, then the outputs; one result (two for a timed action), one record.

        outcome is updated in place; finished, if given, hears how a timed action ended."""
        verdict = self.gate.admit(outcome.action, params, signed)
        outcome.params = verdict.params or (params if isinstance(params, dict) else {})
        safe_op = self.gate.is_safe_op(verdict.action or "")
        if verdict.allowed and not safe_op and (job.engaged or job.estop_epoch != self.estop_epoch):
            verdict = verdict.refused("estop_engaged",
                                   "sent before the last e-stop; send it again if still wanted")
        if not verdict.allowed:
            outcome.reason, outcome.detail = verdict.reason, verdict.detail
            self.finish(outcome, job, reply)
            return
        action = self.config.actions[verdict.action or ""]
        timed = verdict.duration_s is not None
        outcome.status, outcome.decision = ("running" if timed else "done"), "execute"
        outcome.detail = f"{action.op} on {action.device}" + (
            f" for {verdict.duration_s:.2f} s" if timed else "")

        def on_end(status: str, reason: str | None, detail: str) -> None:
            end = Outcome(outcome.id, "supervision", status,
                          "execute" if status == "done" else "abort", reason, detail,
                          outcome.action, outcome.params, outcome.route, outcome.text,
                          outcome.confidence, cloud_escalated=outcome.cloud_escalated,
                          extra=dict(outcome.extra))
            self.finish(end, job, reply, record=status != "done")
            if finished is not None:
                finished(status, reason, detail)

        refused = self.executor.start(action, verdict.params, verdict.duration_s, on_end, safe_op)
        if refused:
            outcome.status, outcome.decision, outcome.reason = "refused", "refuse", refused
            outcome.detail = "the e-stop engaged before the action could start"
        self.finish(outcome, job, reply)

    def finish(self, outcome: Outcome, job: Job, reply: Reply | None,
                record: bool = True) -> None:
        outcome.latency_ms = (self.clock.monotonic() - job.received) * 1000
        self.report(outcome, reply, record=record)

    # ---- publishing ------------------------------------------------------------------------

    def reply_target(self, msg: Inbound, data: dict[str, Any]) -> Reply | None:
        topic = data.get("reply_to") or msg.response_topic
        if not isinstance(topic, str) or not topic or topic in self.inbound_topics:
            return None  # never answer onto a topic this daemon acts on
        if any(c in topic for c in "+#\0"):
            return None
        return Reply(topic, msg.correlation)

    def safe_reply(self, msg: Inbound) -> Reply | None:
        if msg.response_topic and msg.response_topic not in self.inbound_topics:
            return Reply(msg.response_topic, msg.correlation)
        return None

    def report(self, outcome: Outcome, reply: Reply | None, result: bool = True,
               record: bool = True) -> None:
        if result:
            topic = reply.topic if reply else self.topics["result"]
            self.link.publish(topic, to_json(outcome.result()),
                              correlation=reply.correlation if reply else None)
        if record:
            rec = outcome.record(self.clock.time(), self.meta)
            self.recent.append(rec)
            self.link.publish(self.topics["events"], to_json(rec))
            self.decision_log(rec)

    def publish_status(self) -> None:
        self.link.publish(self.topics["status"], to_json({
            "state": "online", "version": __version__, "estop": self.latch.engaged,
            "model": self.model_state, "cloud": self.cloud_state,
            **({"cloud_usage": vars(self.planner.client.usage)} if self.planner else {})}),
            retain=True)

    def _publish_state(self, output: Output) -> None:
        self.link.publish(f"{self.config.prefix}/state/{output.name}", to_json(output.state()),
                          retain=True)


def _estop_source_reason(payload: bytes) -> tuple[str, str]:
    """('cli' when robot-agent estop sent it, else 'mqtt'; the reason given, or the text)."""
    text = payload[:200].decode("utf-8", errors="replace").strip()
    try:
        data = parse_json(payload, 4096)
    except Malformed:
        return "mqtt", text or "(empty message)"
    if isinstance(data, dict) and isinstance(data.get("reason"), str):
        return ("cli" if data.get("source") == "cli" else "mqtt"), str(data["reason"])[:200]
    return "mqtt", text or "(empty message)"
