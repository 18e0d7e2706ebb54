"""Shared fixtures: a real mosquitto on a free port, an in-process daemon on MockFactory pins,
and an MQTT test client that collects what the daemon publishes."""

from __future__ import annotations

import json
import queue
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from paho.mqtt.enums import CallbackAPIVersion

from agent.config import Config, parse_config
from agent.core.journal import DecisionLog
from agent.daemon import Daemon
from agent.mqtt.connection import no_delay
from agent.text.service import ModelOptions
from tests.cloudstub import CloudStub

ROOT = Path(__file__).resolve().parent.parent
NO_MODEL = ModelOptions(load=False)  # the matcher alone: most tests need no model
TEST_KEY = b"test-signing-key-0123456789"


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Broker:
    port: int
    conf: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("mosquitto did not start")

    @classmethod
    def local(cls, directory: Path) -> Broker:
        """A mosquitto on a free loopback port, anonymous, set_tcp_nodelay as shipped, started."""
        return cls.configured(directory, "allow_anonymous true\npersistence false\n"
                                         "set_tcp_nodelay true\n")

    @classmethod
    def configured(cls, directory: Path, settings: str) -> Broker:
        """A mosquitto on a free loopback port with these settings, started."""
        port = free_port()
        conf = directory / "mosquitto.conf"
        conf.write_text(f"listener {port} 127.0.0.1\n{settings}")
        broker = cls(port, conf)
        broker.start()
        return broker

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(5)
            self.proc = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if shutil.which("mosquitto") is None:
        pytest.fail("mosquitto is not installed: run scripts/setup")
    b = Broker.local(tmp_path)
    yield b
    b.stop()


@dataclass
class Client:
    """A test-side MQTT client: publishes, and records everything it receives."""
    client: paho.Client
    messages: queue.Queue[tuple[str, bytes, Any]] = field(default_factory=queue.Queue)
    history: list[tuple[str, bytes, Any]] = field(default_factory=list)
    mark: int = 0  # messages before this index are ignored by wait_for

    def publish(self, topic: str, payload: Any, qos: int = 1, **kw: Any) -> None:
        if not isinstance(payload, str | bytes):
            payload = json.dumps(payload)
        self.client.publish(topic, payload, qos=qos, **kw).wait_for_publish(5)

    def wait_for(self, topic: str, match: Callable[[Any], bool] = lambda _: True,
                 timeout: float = 5.0) -> Any:
        return json.loads(self.wait_raw(topic, match, timeout)[1])

    def wait_raw(self, topic: str, match: Callable[[Any], bool] = lambda _: True,
                 timeout: float = 5.0) -> tuple[str, bytes, Any]:
        """The first message on topic since the mark (JSON-decoded) for which match is true.

        Messages are not consumed, so the order in which a test looks for them does not matter.
        """
        deadline = time.monotonic() + timeout
        checked = self.mark
        while True:
            while True:
                try:
                    self.history.append(self.messages.get_nowait())
                except queue.Empty:
                    break
            for message in self.history[checked:]:
                if message[0] == topic and match(json.loads(message[1])):
                    return message
            checked = len(self.history)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"nothing matching on {topic} within {timeout} s")
            time.sleep(min(0.005, remaining))

    def result(self, rid: str, status: str | None = None, topic: str = "robots/t/result",
               timeout: float = 5.0) -> Any:
        return self.wait_for(topic, lambda r: r.get("id") == rid and (
            status is None or r.get("status") == status), timeout)

    def final(self, rid: str, timeout: float = 10.0) -> Any:
        """A request's own final result (`final: true`): not a plan step's, not running."""
        return self.wait_for("robots/t/result", lambda r: r.get("id") == rid and r["final"],
                             timeout)

    def forget(self) -> None:
        """Ignore everything received so far."""
        while True:
            try:
                self.history.append(self.messages.get_nowait())
            except queue.Empty:
                break
        self.mark = len(self.history)


def connect_client(port: int, subscribe: str = "#") -> Client:
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}",
                    protocol=paho.MQTTv5)
    wrapper = Client(c)
    ready = threading.Event()

    def on_message(client: Any, userdata: Any, msg: paho.MQTTMessage) -> None:
        wrapper.messages.put((msg.topic, bytes(msg.payload), msg.properties))

    def on_subscribe(*args: Any) -> None:
        ready.set()

    c.on_message = on_message
    c.on_subscribe = on_subscribe
    c.on_connect = lambda client, *a: client.subscribe(subscribe, qos=1)
    c.connect("127.0.0.1", port)
    no_delay(c.socket())  # else ~40 ms a publish
    c.loop_start()
    assert ready.wait(5), "test client could not subscribe"
    return wrapper


@pytest.fixture
def client(broker: Broker) -> Iterator[Client]:
    c = connect_client(broker.port)
    yield c
    c.client.loop_stop()
    c.client.disconnect()


BASE_CONFIG = """
policy_version = "test-1"
[device]
id = "t"
class = "test"
[mqtt]
host = "127.0.0.1"
port = {port}
prefix = "robots/t"
max_payload_bytes = 4096
[gpio]
pin_factory = "mock"
[safety]
max_actions_per_min = 1000
[sensors.front]
topic = "robots/t/sensors/front"
max_age_s = 0.5
[devices.drive]
kind = "robot"
left = [4, 14]
right = [17, 18]
speed_mps = 1.0
turn_dps = 180
[devices.lamp]
kind = "rgb_led"
pins = [5, 6, 13]
[devices.pump]
kind = "relay"
pin = 23
[actions.move]
device = "drive"
op = "move"
max_duration_s = 3
params.direction = {{ enum = ["forward", "backward"], default = "forward" }}
params.distance_m = {{ type = "number", minimum = 0.05, maximum = 2.5, default = 0.3 }}
[[actions.move.interlocks]]
sensor = "front"
min = 0.3
when = {{ direction = "forward" }}
[actions.turn]
device = "drive"
op = "turn"
rate_per_min = 3
params.direction = {{ enum = ["left", "right"] }}
params.degrees = {{ type = "number", minimum = 1, maximum = 360, default = 90 }}
[actions.stop]
device = "drive"
op = "stop"
[actions.lights_color]
device = "lamp"
op = "color"
stays_on = true
params.color = {{ enum = ["red", "green", "blue"] }}
[actions.lights_off]
device = "lamp"
op = "off"
[actions.water]
device = "pump"
op = "pulse"
risk = "high"
params.duration_s = {{ type = "number", minimum = 0.1, maximum = 5, default = 0.2 }}
"""


def make_config(port: int, extra: str = "") -> Config:
    import tomllib

    return parse_config(tomllib.loads(BASE_CONFIG.format(port=port) + extra))


@dataclass
class Running:
    daemon: Daemon
    factory: MockFactory
    state_dir: Path
    thread: threading.Thread
    exit_code: list[int]

    def pin(self, n: int) -> Any:
        return self.factory.pin(n)

    def stop(self) -> int:
        self.daemon.stopping.set()
        self.thread.join(10)
        return self.exit_code[0] if self.exit_code else -1


def start_daemon(config: Config, state_dir: Path, client: Client | None = None,
                 secrets: dict[str, bytes] | None = None, load_model: bool = False,
                 factory: MockFactory | None = None, decision_log: DecisionLog | None = None,
                 **model_options: float) -> Running:
    """The daemon on mock pins, connected; with the model only when load_model."""
    factory = factory or MockFactory(pin_class=MockPWMPin)
    daemon = Daemon(config, pin_factory=factory, state_dir=state_dir,
                    secrets=secrets if secrets is not None else {"signing_key": TEST_KEY},
                    model=ModelOptions(load=load_model, **model_options),
                    decision_log=decision_log)
    daemon.start()
    code: list[int] = []
    thread = threading.Thread(target=lambda: code.append(daemon.run_until_stopped()),
                              daemon=True)
    thread.start()
    assert daemon.connection.connected.wait(10), "daemon did not connect"
    assert daemon.estop.connection.connected.wait(10), "daemon's e-stop link did not connect"
    if client is not None:
        client.wait_for("robots/t/status", lambda s: s.get("state") == "online")
    return Running(daemon, factory, state_dir, thread, code)


@pytest.fixture
def stub() -> Iterator[CloudStub]:
    """A scripted OpenAI-compatible cloud on loopback (tests/cloudstub.py)."""
    server = CloudStub()
    yield server
    server.stop()


@pytest.fixture
def daemon(broker: Broker, client: Client, tmp_path: Path) -> Iterator[Running]:
    running = start_daemon(make_config(broker.port), tmp_path / "state", client)
    yield running
    running.stop()


def estop_ends_plan_in_its_first_step(client: Client, running: Running, rid: str) -> None:
    """The e-stop while step 1 of plan `rid` (a long turn, then the lamp) runs: the plan fails
    `estop_engaged`, step 2 never runs, the wheels stop. Local and cloud plans share it."""
    client.wait_for("robots/t/result", lambda r: r["id"] == rid and r.get("step") == 1 and
                    r["status"] == "running")
    client.publish("robots/t/estop", "")
    result = client.final(rid)
    assert (result["status"], result["reason"]) == ("failed", "estop_engaged")
    time.sleep(0.3)
    assert running.pin(13).state == 0  # step 2 never ran
    assert all(running.pin(n).state == 0 for n in (4, 14, 17, 18))
