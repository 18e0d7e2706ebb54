"""The daemon: builds every part from the config, in one place, and runs them.

It owns the lifecycle (start, the health watch, shutdown), the status, and one table that says
which part handles each inbound topic. The parts (docs/architecture.md): the e-stop with its
own connection and button (agent.safety.estop); the pipeline every request goes through
(agent.requests.pipeline) and its sources: commands on `P/cmd` (agent.requests.commands), text
(agent.text.service), cloud plans (agent.cloud.planner), scheduled actions
(agent.requests.schedules) and reactions to sensors (agent.requests.reactions); the plan runner
(agent.requests.plans); what is published (agent.mqtt.publisher, agent.state.picture); the
outputs (agent.devices) and the executor that bounds and watches them (agent.safety.executor).

Threads: the main MQTT connection's thread (reset, sensors and the reactions they trigger are
handled right there, because they are quick); the e-stop's own connection; a thread per queue
(commands, interpreter, planner, reactions) and for plans and the e-stop's follow-up; the
schedules' timer; the executor's supervisor; the state publisher. The caller's thread watches
them all.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.cloud.budget import Budget
from agent.cloud.client import CloudClient
from agent.cloud.planner import Planner
from agent.config import Config
from agent.core.clock import Clock, SystemClock
from agent.core.decisions import Decision, to_json
from agent.core.journal import DecisionLog
from agent.core.protocol import InputKind, Reason, Status
from agent.core.secrets import CREDENTIALS, read_secret
from agent.core.topics import Topics
from agent.core.workers import Worker
from agent.devices import Output, build_outputs, pins
from agent.mqtt.connection import Connection, Probe, Will
from agent.mqtt.homeassistant import Discovery
from agent.mqtt.inbound import EnvelopeReader, Inbound
from agent.mqtt.publisher import Publisher
from agent.requests.commands import Commands
from agent.requests.pipeline import Pipeline
from agent.requests.plans import PlanRunner
from agent.requests.reactions import Reactions
from agent.requests.schedules import Schedules
from agent.safety.estop import EStop, make_button
from agent.safety.executor import Executor
from agent.safety.gate import Gate
from agent.safety.latch import Latch, LatchState
from agent.safety.link import LinkWatch
from agent.safety.signing import Verifier
from agent.sensing.sensors import Sensors
from agent.state.picture import Picture, StateFeed
from agent.state.story import say_online, say_starting, say_stopped
from agent.text.service import LOAD_THE_MODEL, ModelOptions, TextService

log = logging.getLogger(__name__)

SENSOR_WARN_EVERY_S = 5.0
HEALTH_EVERY_S = 0.5
FINISH_S = 3.0  # at shutdown, how long the workers may take to end what they have in hand
GIL_SWITCH_S = 0.001
ESTOP_FIRST_S = 2.0  # at start, how long the main link waits for the e-stop's to be up
# The queues requests wait in, each served by a thread of its own; a full one answers busy.
# Stop-like text, P/cmd and P/schedule/cancel share the commands queue.
QUEUES = {"commands": 64, "interpreter": 4, "planner": 2, "reactions": 16}


class Daemon:
    def __init__(self, config: Config, *, pin_factory: Any, state_dir: Path,
                 clock: Clock | None = None, secrets: dict[str, bytes] | None = None,
                 model: ModelOptions = LOAD_THE_MODEL,
                 decision_log: DecisionLog | None = None,
                 on_stopping: Callable[[], None] = lambda: None,
                 hung_after_s: float = 30.0) -> None:
        self.config = config
        self.on_stopping = on_stopping  # e.g. systemd's STOPPING=1
        self.hung_after_s = hung_after_s  # a thread silent this long is stuck: a fault
        self.clock = clock = clock or SystemClock()
        secrets = secrets or {}
        self.topics = topics = Topics.under(config.prefix)
        self.stopping = threading.Event()
        self.stop_why = "asked to stop"  # for the journal's last line: a signal, a fault
        self.fault = ""
        self.offline_status = Will(topics.status, to_json({"state": "offline"}))
        password = secrets["mqtt_password"].decode() if "mqtt_password" in secrets else None

        self.sensors = Sensors(config.sensors, clock)
        self.sensor_warned: dict[str, float] = {}
        self.latch = Latch(state_dir, started=clock.time())
        self.verifier = Verifier(secrets.get("signing_key"), state_dir / "signed-ids.json")
        self.homeassistant = Discovery(config, state_dir, self._publish_retained)
        mqtt = config.mqtt
        self.reader = EnvelopeReader(
            max_bytes=mqtt.max_payload_bytes, topics=topics,
            foreign=frozenset(self.sensors.by_topic) | {
                d.topic for d in config.devices.values() if d.topic} | {
                self.homeassistant.topic, self.homeassistant.status_topic} | {
                t for t in (mqtt.site_estop_topic, mqtt.bridge_state_topic) if t})
        self.connection = Connection(config.mqtt, client_id=f"robot-agent-{config.device.id}",
                                     clock=clock, on_message=self._on_message,
                                     on_connect=self._on_connect, will=self.offline_status,
                                     password=password, name="main",
                                     carries="commands, text, sensors, results and states")
        # The e-stop's own connection: its session kept, so an e-stop sent while the robot was
        # away is delivered when it is back; probed, so a broker that stopped answering is
        # found in estop_link_timeout_s (a lost link stops motion: agent.safety.link).
        self.estop_link = Connection(mqtt, client_id=f"robot-agent-{config.device.id}-estop",
                                     clock=clock, on_message=self._on_estop_link,
                                     password=password, keep_session=True,
                                     on_connect=lambda: self.link.connection_up(),
                                     on_disconnect=lambda: self.link.connection_down(),
                                     probe=Probe(f"{topics.estop}/probe",
                                                 mqtt.estop_link_timeout_s),
                                     name="e-stop",
                                     carries=f"{topics.estop} in, {topics.estop_state} out, "
                                             "nothing else")
        self.publisher = Publisher(self.connection, topics, clock=clock, meta=self._meta,
                                   decision_log=decision_log or DecisionLog())
        self.outputs = build_outputs(config.devices, pin_factory, self.connection.publish)
        self.pins = pins.name_of(pins.in_use(pin_factory))  # which factory gpiozero loaded
        self.state_dir = state_dir
        self.gate = Gate(config, sensors=self.sensors, clock=clock,
                         estop_engaged=lambda: self.latch.engaged,
                         link_lost=lambda: self.link.lost,
                         seen_ids=state_dir / "seen-ids.jsonl")
        self.executor = Executor(self.outputs, clock=clock, watch=self.gate.interlock_problem,
                                 on_state=self._device_changed, halted=self.latch.engaged)
        self.picture = Picture(latch=self.latch, executor=self.executor, sensors=self.sensors)
        self.state_feed = StateFeed(
            self.picture, lambda state: self.connection.publish(topics.state, state, retain=True),
            clock=clock, stopping=self.stopping)
        self.estop = EStop(config, latch=self.latch, executor=self.executor,
                           outputs=self.outputs, publisher=self.publisher, link=self.estop_link,
                           fallback=self.connection, button=make_button(config, pin_factory),
                           reader=self.reader, verifier=self.verifier, clock=clock,
                           stopping=self.stopping, on_status_change=self._estop_changed)
        self.link = LinkWatch(config, connection=self.estop_link, executor=self.executor,
                              publisher=self.publisher, clock=clock,
                              on_status_change=self._estop_changed)
        # Every request goes one way: the pipeline (the gate once, the executor, the answer).
        self.pipeline = Pipeline(config, gate=self.gate, executor=self.executor,
                                 estop=self.estop, publisher=self.publisher, reader=self.reader,
                                 clock=clock)
        self.queues = {name: self.pipeline.queue(name, size, self.stopping)
                       for name, size in QUEUES.items()
                       if name != "planner" or config.cloud.enabled}
        self.commands = Commands(pipeline=self.pipeline, reader=self.reader,
                                 verifier=self.verifier, clock=clock,
                                 queue=self.queues["commands"])
        self.plans = PlanRunner(pipeline=self.pipeline, gate=self.gate, executor=self.executor,
                                estop=self.estop, clock=clock, stopping=self.stopping)
        self.reactions = Reactions(config, sensors=self.sensors, pipeline=self.pipeline,
                                   estop=self.estop, executor=self.executor,
                                   publisher=self.publisher, clock=clock,
                                   queue=self.queues["reactions"])
        self.planner = Planner(
            config, client=self._cloud_client(state_dir), pipeline=self.pipeline,
            plans=self.plans, publisher=self.publisher, reader=self.reader,
            sensors=self.sensors, estop=self.estop, executor=self.executor,
            queue=self.queues["planner"], stopping=self.stopping,
        ) if config.cloud.enabled else None
        self.schedules = Schedules(config, pipeline=self.pipeline, gate=self.gate,
                                   estop=self.estop, publisher=self.publisher,
                                   reader=self.reader, clock=clock, state_dir=state_dir,
                                   queue=self.queues["commands"], stopping=self.stopping,
                                   on_status_change=self.publish_status)
        self.estop.on_engaged(self.schedules.after_estop)
        self.text = TextService(config, pipeline=self.pipeline, plans=self.plans,
                                schedules=self.schedules, planner=self.planner,
                                reader=self.reader, picture=self.picture, clock=clock,
                                queue=self.queues["interpreter"], urgent=self.queues["commands"],
                                stopping=self.stopping, on_status_change=self.publish_status,
                                model=model)
        # Which part handles each topic of the main connection (the e-stop has its own).
        self.handlers: dict[str, Callable[[Inbound], None]] = {
            topics.cmd: self.commands.receive,
            topics.ask: self.text.receive,
            topics.plan: self.planner.receive if self.planner else self._no_planner,
            topics.estop_reset: self.estop.reset,
            topics.schedule_cancel: self.schedules.receive_cancel,
            **{topic: self._sensor_handler(name) for topic, name in self.sensors.by_topic.items()},
        }
        if self.homeassistant.enabled:
            self.handlers[self.homeassistant.status_topic] = (
                lambda msg: self.homeassistant.on_status(msg.payload))

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        # A thread that wants the GIL waits up to this long for the holder to let go (CPython's
        # default is 5 ms): the e-stop thread must not wait that long behind the main MQTT
        # thread working through a sensor flood.
        sys.setswitchinterval(GIL_SWITCH_S)
        say_starting(self.config, self.pins, self.state_dir, self.latch.state)
        self.executor.start_supervisor()
        for queue in self.queues.values():
            queue.start()
        self.plans.start()
        self.schedules.start()
        self.state_feed.start()
        self.text.start()
        if self.planner is not None:
            self.planner.start()
        self.link.start()
        bridge = self.config.mqtt.bridge_state_topic
        self.estop.start(also=[bridge] if bridge else [])
        # The e-stop listens before the robot says it is online (a broker that is down delays
        # the main link by this much at most; it would not connect either).
        self.estop_link.connected.wait(ESTOP_FIRST_S)
        sensors = set(self.sensors.by_topic)
        self.connection.start([(t, 1) for t in sorted(set(self.handlers) - sensors)] +
                              [(t, 0) for t in sorted(sensors)])

    def health_problem(self) -> str:
        """Why the daemon is not healthy, or '' when every thread is alive and moving."""
        if self.fault:
            return self.fault
        workers: list[Worker[Any]] = [*self.queues.values(), self.plans.worker]
        problems = [self.connection.problem(self.hung_after_s),
                    self.estop.problem(self.hung_after_s),
                    self.executor.problem(self.hung_after_s),
                    self.schedules.problem(self.hung_after_s),
                    self.state_feed.problem(self.hung_after_s),
                    *(w.problem(self.hung_after_s) for w in workers)]
        return next((p for p in problems if p), "")

    def request_stop(self, why: str) -> None:
        """Stop (e.g. on a signal): outputs go safe, every request is answered, then offline."""
        self.stop_why = why
        self.stopping.set()

    def run_until_stopped(self) -> int:
        """Block until a signal (exit 0) or a fault (exit 1); outputs are safe either way."""
        while not self.stopping.wait(HEALTH_EVERY_S):
            problem = self.health_problem()
            if problem:
                self.fail(problem)
                return 1
        self.shutdown(Reason.SHUTDOWN, "the daemon is stopping")
        return 0

    def fail(self, problem: str) -> None:
        """A fault: the e-stop latches (source watchdog), outputs go safe, and the daemon stops
        for systemd to restart it, engaged: someone looks before the robot moves again."""
        log.error("fault: %s; latching the e-stop, making every output safe and exiting",
                  problem)
        if not self.latch.engaged:  # straight to the latch: the part that failed may hold a lock
            self.latch.set(LatchState(True, "watchdog", f"fault: {problem}"[:200],
                                      self.clock.time()))
        self.latch.sync()
        self.estop.publish_state()
        self.publisher.publish(Decision.aborted(
            "fault", InputKind.FAULT, Reason.INTERNAL_ERROR,
            f"{problem}: e-stop latched, outputs made safe, exiting for a restart"), None,
            result=False)
        self.stop_why = f"fault: {problem}"
        self.shutdown(Reason.INTERNAL_ERROR, problem)

    def shutdown(self, reason: Reason, detail: str) -> None:
        self.on_stopping()
        self.stopping.set()
        self.schedules.stop()
        self.text.close()
        cancelled = self.executor.halt(reason, detail)
        for out in self.outputs.values():
            self.publisher.publish_device_state(out)
        for run, why, text in cancelled:
            run.on_end(Status.FAILED, why, text)
        refused = self._answer_what_is_left(reason)
        self.connection.stop(self.offline_status)
        self.link.stop()
        self.estop.stop()
        self.executor.close()
        self.gate.seen_ids.close()
        say_stopped(self.stop_why, list(self.outputs), [run for run, _, _ in cancelled],
                    refused, engaged=self.latch.engaged, fault=reason == Reason.INTERNAL_ERROR)

    def _answer_what_is_left(self, reason: Reason) -> int:
        """Every request gets its final result before the connection closes: the workers end
        what they have in hand (a plan ends at its cancelled step), and what is still queued
        is refused. Returns how many were refused."""
        deadline = self.clock.monotonic() + FINISH_S
        refused = 0
        for queue in self.queues.values():
            for work in queue.finish(max(0.0, deadline - self.clock.monotonic())):
                work.refuse(reason, "the daemon stopped before handling it")
                refused += 1
        self.plans.finish(max(0.0, deadline - self.clock.monotonic()), reason)
        return refused

    # ---- status ----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What P/status says: each part reports its own fields."""
        cloud = self.planner.status_fields() if self.planner else {"cloud": "disabled"}
        # Messages the daemon could not hand to the broker (results, records, states): each
        # one either arrives or is counted here.
        dropped = self.connection.dropped + self.estop.connection.dropped
        return {**self.estop.status_fields(), **self.link.status_fields(),
                **self.text.status_fields(), **cloud,
                **self.schedules.status_fields(), "dropped": dropped}

    def publish_status(self) -> None:
        """Only while the main connection is ready: a status queued before its subscriptions
        were confirmed would announce online too early (it is published on every connect)."""
        if self.connection.connected.is_set():
            self.publisher.publish_status(self.status())

    def _estop_changed(self) -> None:
        self.publish_status()
        self.state_feed.changed(urgent=True)

    # ---- the e-stop connection's thread ----------------------------------------------------

    def _on_estop_link(self, msg: Inbound) -> None:
        if msg.topic == self.config.mqtt.bridge_state_topic:
            self.link.bridge_state(msg.payload)
        else:
            self.estop.receive(msg)


    def _device_changed(self, output: Output) -> None:
        """After every output change (under the executor's lock: quick)."""
        self.publisher.publish_device_state(output)
        self.state_feed.changed(urgent=True)

    def _meta(self) -> dict[str, str]:
        return {"policy_version": self.config.policy_version,
                "device_class": self.config.device.class_, "model": self.text.model_name}

    # ---- the main connection's thread ------------------------------------------------------

    def _on_connect(self) -> None:
        say_online(self.config, self.status(), self.latch.state)
        self.publish_status()
        self.estop.publish_state()
        for out in self.outputs.values():
            self.publisher.publish_device_state(out)
        self.homeassistant.on_connect()
        self.schedules.publish()
        self.state_feed.changed(urgent=True)

    def _cloud_client(self, state_dir: Path) -> CloudClient:
        cfg = self.config.cloud
        key = read_secret(cfg.api_key_file, CREDENTIALS["cloud_api_key"],
                          "ROBOT_AGENT_CLOUD_API_KEY")
        return CloudClient(cfg, key.decode().strip() if key else None, self.clock,
                           Budget(cfg.budget_per_day, state_dir, self.clock),
                           on_state=lambda state: self.publish_status(),
                           on_spent=self.publish_status)

    def _publish_retained(self, topic: str, payload: str, retain: bool) -> bool:
        return self.connection.publish(topic, payload, retain=retain).rc == 0  # queued

    def _on_message(self, msg: Inbound) -> None:
        handler = self.handlers.get(msg.topic)
        if handler is not None:
            handler(msg)

    def _no_planner(self, msg: Inbound) -> None:
        self.pipeline.refuse_unread(msg, InputKind.PLAN, Reason.OFFLINE,
                                    "the cloud planner is not enabled on this robot ([cloud] "
                                    "enabled = false)")

    def _sensor_handler(self, name: str) -> Callable[[Inbound], None]:
        return lambda msg: self._on_sensor(name, msg)

    def _on_sensor(self, name: str, msg: Inbound) -> None:
        reading = self.sensors.update(name, msg.payload, retained=msg.retained)
        if reading is None:
            return  # older than the reading kept
        self.executor.poke()
        self.state_feed.changed()
        problem = reading.problem
        if not problem:
            self.reactions.on_reading(name, reading)
            return
        now = self.clock.monotonic()
        if now - self.sensor_warned.get(name, -SENSOR_WARN_EVERY_S) >= SENSOR_WARN_EVERY_S:
            self.sensor_warned[name] = now
            self.publisher.publish(Decision.refused(
                f"sensor:{name}", InputKind.SENSOR, reading.reason,
                f"sensor {name}: {problem}; treated as no reading (interlocks on it refuse)"),
                None, result=False)
