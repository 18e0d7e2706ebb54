"""The shipped site broker (deploy/mosquitto/site.conf, site.acl) against a real mosquitto,
tested by data: mosquitto's acl_file grants a forbidden subscription in its SUBACK and then
delivers nothing, so what matters is what arrives. One robot can neither read nor command
another; only operators can stop the site; Home Assistant and a dispatcher get what they need."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from agent.cli.main import load_secrets
from agent.config import parse_config
from tests.conftest import ROOT, Broker, Running, free_port, start_daemon, wait_until
from tests.test_site import robot_config

USERS = ("a", "b", "operator", "homeassistant", "dispatcher")
QUIET_S = 2.0  # how long something forbidden must stay unheard


class User:
    """An MQTT client logged in as one user of the site, recording what it receives."""

    def __init__(self, port: int, name: str, subscribe: str = "#") -> None:
        self.got: list[tuple[str, bytes]] = []
        ready = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"{name}-{uuid.uuid4().hex[:6]}",
                                  protocol=paho.MQTTv5)
        self.client.username_pw_set(name, f"{name}-pw")
        self.client.on_message = lambda c, u, m: self.got.append((m.topic, bytes(m.payload)))
        self.client.on_subscribe = lambda *a: ready.set()
        self.client.on_connect = lambda c, *a: c.subscribe(subscribe, qos=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert ready.wait(5), f"{name} could not subscribe"

    def publish(self, topic: str, payload: str) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def heard(self, topic: str) -> list[bytes]:
        return [p for t, p in self.got if t == topic]

    def heard_under(self, prefix: str) -> list[str]:
        return [t for t, _ in self.got if t.startswith(prefix)]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def site_broker(users: tuple[str, ...] = USERS) -> Broker:
    """The shipped site.conf and site.acl, unchanged but for the port and the files' place (a
    folder of their own, which the caller removes: site.conf.parent); each user's password is
    <user>-pw, also in <user>.pw there."""
    d = Path(tempfile.mkdtemp(prefix="robot-agent-site-"))
    d.chmod(0o755)
    shutil.copy(ROOT / "deploy/mosquitto/site.acl", d / "robot-site.acl")
    for i, user in enumerate(users):
        subprocess.run(["mosquitto_passwd", "-b", *(["-c"] if i == 0 else []),
                        str(d / "robot-site.passwd"), user, f"{user}-pw"], check=True)
        (d / f"{user}.pw").write_text(f"{user}-pw")
    for f in d.iterdir():
        f.chmod(0o644)
    port = free_port()
    conf = (ROOT / "deploy/mosquitto/site.conf").read_text()
    assert "listener 1883\n" in conf and "/etc/mosquitto/" in conf
    (d / "site.conf").write_text(conf.replace("listener 1883\n", f"listener {port} 127.0.0.1\n")
                                 .replace("/etc/mosquitto/", f"{d}/"))
    broker = Broker(port, d / "site.conf")
    broker.start()
    return broker


@pytest.fixture(scope="module")
def site() -> Iterator[Broker]:
    broker = site_broker()
    yield broker
    broker.stop()
    shutil.rmtree(broker.conf.parent)


@pytest.fixture
def robot_b(site: Broker, tmp_path: Path) -> Iterator[Running]:
    """Robot b's daemon, logged in as b."""
    raw = tomllib.loads(robot_config(site.port, "b"))
    raw["mqtt"].update(username="b", password_file=str(site.conf.parent / "b.pw"))
    config = parse_config(raw)
    running = start_daemon(config, tmp_path / "b", secrets=load_secrets(config))
    yield running
    running.stop()


def test_a_robot_never_hears_another_robot(site: Broker, robot_b: Running) -> None:
    a = User(site.port, "a")  # subscribes to everything: the broker says yes, and filters
    operator = User(site.port, "operator", "robots/#")
    try:
        operator.publish("robots/b/cmd", '{"id": "op-1", "action": "lights_off"}')
        assert wait_until(lambda: operator.heard("robots/b/result"))
        a.publish("robots/a/status", '{"state":"online"}')  # a hears its own: the control
        assert wait_until(lambda: a.heard("robots/a/status"))
        time.sleep(QUIET_S)
        assert operator.heard("robots/b/status") and operator.heard("robots/b/events")
        assert a.heard_under("robots/b") == []  # b's status, results, records, states: none
    finally:
        a.close()
        operator.close()


def test_a_robot_cannot_command_stop_or_reset_another(site: Broker, robot_b: Running) -> None:
    a = User(site.port, "a", "robots/a/#")
    operator = User(site.port, "operator", "robots/#")
    try:
        a.publish("robots/b/cmd", '{"id": "from-a", "action": "lights_off"}')
        a.publish("robots/b/estop", "")
        a.publish("robots/b/estop/reset", '{"id": "r", "reason": "a says so"}')
        a.publish("site/estop", "a robot is not an operator")
        time.sleep(QUIET_S)
        for topic in ("robots/b/cmd", "robots/b/estop", "robots/b/estop/reset"):
            assert operator.heard(topic) == [], topic
        assert not robot_b.daemon.latch.engaged
        assert not any(b"from-a" in p for _, p in operator.got)
    finally:
        a.close()
        operator.close()


def test_only_an_operator_stops_the_site_and_home_assistant_reads_every_robot(
        site: Broker, robot_b: Running) -> None:
    ha = User(site.port, "homeassistant", "robots/+/status")
    dispatcher = User(site.port, "dispatcher", "robots/+/result")
    operator = User(site.port, "operator", "robots/#")
    try:
        assert wait_until(lambda: ha.heard("robots/b/status"))
        dispatcher.publish("robots/b/cmd", '{"id": "d-1", "action": "lights_off"}')
        assert wait_until(lambda: dispatcher.heard("robots/b/result"))
        for who in (ha, dispatcher):
            who.publish("site/estop", "not an operator")
        time.sleep(QUIET_S)
        assert not robot_b.daemon.latch.engaged
        operator.publish("site/estop", "fire drill")
        assert wait_until(lambda: robot_b.daemon.latch.engaged)
        assert robot_b.daemon.latch.state.source == "site"
    finally:
        for who in (ha, dispatcher, operator):
            who.close()


def test_estop_site_from_the_command_line_needs_an_operator(site: Broker, robot_b: Running,
                                                            tmp_path: Path) -> None:
    """As robot a the broker refuses the publish (MQTT 5 PUBACK: not authorized) and the
    command says so; as the operator every robot engages."""
    raw = robot_config(site.port, "a").replace(
        "[mqtt]\n", f'[mqtt]\nusername = "a"\npassword_file = "{site.conf.parent}/a.pw"\n')
    config = tmp_path / "a.toml"
    config.write_text(raw)
    command = [sys.executable, "-m", "agent.cli", "estop", "--site", "--reason", "drill",
               "--config", str(config)]
    as_robot = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert as_robot.returncode == 1 and "refused" in as_robot.stderr, as_robot.stderr
    assert not robot_b.daemon.latch.engaged
    as_operator = subprocess.run([*command, "--username", "operator", "--password-file",
                                  str(site.conf.parent / "operator.pw")],
                                 capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert as_operator.returncode == 0, as_operator.stdout + as_operator.stderr
    assert wait_until(lambda: robot_b.daemon.latch.engaged)
    assert robot_b.daemon.latch.state.source == "site"
