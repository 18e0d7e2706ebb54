"""Transport security against a real mosquitto with TLS, a password file and an ACL that
confines the robot to its prefix: who gets in, and what a broken setup looks like."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from agent.cli.main import load_secrets
from agent.config import Config
from tests.conftest import (
    NO_MODEL,
    Broker,
    free_port,
    make_config,
    start_daemon,
    wait_until,
)


def sh(cmd: str, cwd: Path) -> None:
    subprocess.run(cmd, shell=True, check=True, cwd=cwd, capture_output=True)


@pytest.fixture(scope="module")
def pki() -> Iterator[Path]:
    # World-readable: mosquitto started as root runs as its own user.
    d = Path(tempfile.mkdtemp(prefix="robot-agent-tls-"))
    d.chmod(0o755)
    for name in ("ca", "other-ca"):
        sh(f"openssl req -x509 -newkey rsa:2048 -nodes -keyout {name}.key -out {name}.crt "
           f"-days 2 -subj /CN={name}", d)
    (d / "ext").write_text("subjectAltName=IP:127.0.0.1\n")
    for name, days in (("server", 2), ("expired", -1), ("client", 2)):
        sh(f"openssl req -newkey rsa:2048 -nodes -keyout {name}.key -out {name}.csr "
           f"-subj /CN=127.0.0.1", d)
        sh(f"openssl x509 -req -in {name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
           f"-out {name}.crt -days {days} -extfile ext", d)
    sh("mosquitto_passwd -b -c passwd robot robot-pw && "
       "mosquitto_passwd -b passwd operator op-pw && mosquitto_passwd -b passwd observer ob-pw",
       d)
    (d / "acl").write_text("user robot\ntopic readwrite robots/t/#\n\n"
                           "user operator\ntopic readwrite robots/t/#\n\n"
                           "user observer\ntopic read #\n")
    for f in d.iterdir():
        f.chmod(0o644)
    yield d
    shutil.rmtree(d)


def tls_broker(pki: Path, cert: str = "server", require_client_cert: bool = False) -> Broker:
    port = free_port()
    conf = pki / f"m-{port}.conf"
    conf.write_text(f"listener {port} 127.0.0.1\ncafile {pki}/ca.crt\n"
                    f"certfile {pki}/{cert}.crt\nkeyfile {pki}/{cert}.key\n"
                    f"require_certificate {'true' if require_client_cert else 'false'}\n"
                    f"allow_anonymous false\npassword_file {pki}/passwd\n"
                    f"acl_file {pki}/acl\nset_tcp_nodelay true\n")
    broker = Broker(port, conf)
    broker.start()
    return broker


def robot_config(pki: Path, port: int, password: str = "robot-pw", ca: str = "ca",
                 client_cert: bool = False) -> Config:
    (pki / f"pw-{password}").write_text(password)
    (pki / f"pw-{password}").chmod(0o644)
    config = make_config(port)
    mqtt = config.mqtt.model_copy(update={
        "username": "robot", "password_file": str(pki / f"pw-{password}"),
        "tls_ca_file": str(pki / f"{ca}.crt"),
        **({"tls_cert_file": str(pki / "client.crt"), "tls_key_file": str(pki / "client.key")}
           if client_cert else {})})
    return config.model_copy(update={"mqtt": mqtt})


def tls_client(pki: Path, port: int, user: str, password: str, subscribe: str = "#",
               client_cert: bool = False) -> tuple[paho.Client, list[tuple[str, bytes]]]:
    got: list[tuple[str, bytes]] = []
    ready = threading.Event()
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{user}-{time.monotonic_ns()}",
                    protocol=paho.MQTTv5)
    c.tls_set(ca_certs=str(pki / "ca.crt"), cert_reqs=ssl.CERT_REQUIRED,
              **({"certfile": str(pki / "client.crt"), "keyfile": str(pki / "client.key")}
                 if client_cert else {}))
    c.username_pw_set(user, password)
    c.on_message = lambda cl, u, m: got.append((m.topic, m.payload))
    c.on_subscribe = lambda *a: ready.set()
    c.on_connect = lambda cl, *a: cl.subscribe(subscribe, qos=1)
    c.connect("127.0.0.1", port)
    c.loop_start()
    assert ready.wait(5)
    return c, got


def test_tls_and_password_work_end_to_end(pki: Path, tmp_path: Path) -> None:
    broker = tls_broker(pki)
    config = robot_config(pki, broker.port)
    running = start_daemon(config, tmp_path / "s", secrets=load_secrets(config))
    operator, got = tls_client(pki, broker.port, "operator", "op-pw", "robots/t/#")
    try:
        operator.publish("robots/t/estop", "", qos=1)
        assert wait_until(lambda: any(t == "robots/t/estop/state" and b'"engaged":true' in p
                                      for t, p in got))
    finally:
        operator.loop_stop()
        running.stop()
        broker.stop()


def test_the_acl_confines_the_robot_to_its_prefix(pki: Path) -> None:
    broker = tls_broker(pki)
    observer, seen = tls_client(pki, broker.port, "observer", "ob-pw", "#")
    robot, _ = tls_client(pki, broker.port, "robot", "robot-pw", "robots/t/#")
    try:
        robot.publish("robots/other/cmd", '{"id":"x","action":"move"}', qos=1).wait_for_publish(5)
        robot.publish("robots/t/events", "{}", qos=1).wait_for_publish(5)
        assert wait_until(lambda: any(t == "robots/t/events" for t, _ in seen))
        time.sleep(0.3)
        assert not any(t.startswith("robots/other") for t, _ in seen)
    finally:
        observer.loop_stop()
        robot.loop_stop()
        broker.stop()


@pytest.mark.parametrize("case, expected", [
    ("wrong_ca", "certificate verify failed"),
    ("expired", "certificate has expired"),
    ("bad_password", "Not authorized"),
])
def test_a_broken_setup_is_a_clear_error_and_retries_without_crashing(
        pki: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, case: str,
        expected: str) -> None:
    broker = tls_broker(pki, cert="expired" if case == "expired" else "server")
    config = robot_config(pki, broker.port,
                          password="nope" if case == "bad_password" else "robot-pw",
                          ca="other-ca" if case == "wrong_ca" else "ca")
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    from agent.daemon import Daemon

    daemon = Daemon(config, pin_factory=MockFactory(pin_class=MockPWMPin),
                    state_dir=tmp_path / "s", secrets=load_secrets(config), model=NO_MODEL)
    daemon.start()
    try:
        assert wait_until(lambda: expected in daemon.connection.last_error, 10), (
            daemon.connection.last_error)
        assert wait_until(lambda: caplog.text.count("unreachable") >= 2, 10)  # it retries
        assert not daemon.connection.connected.is_set()
        assert daemon.health_problem() == ""  # waiting is not a fault
        daemon.estop.engage("button", "the hardware e-stop works without a broker")
        assert daemon.latch.engaged
    finally:
        daemon.stopping.set()
        daemon.shutdown("shutdown", "test over")
        broker.stop()


def test_a_required_client_certificate(pki: Path, tmp_path: Path) -> None:
    broker = tls_broker(pki, require_client_cert=True)
    try:
        with_cert = robot_config(pki, broker.port, client_cert=True)
        running = start_daemon(with_cert, tmp_path / "a", secrets=load_secrets(with_cert))
        running.stop()
        from gpiozero.pins.mock import MockFactory, MockPWMPin

        from agent.daemon import Daemon

        plain = robot_config(pki, broker.port)
        without = Daemon(plain, state_dir=tmp_path / "b", secrets=load_secrets(plain),
                         pin_factory=MockFactory(pin_class=MockPWMPin), model=NO_MODEL)
        without.start()
        try:
            assert wait_until(lambda: bool(without.connection.last_error), 10)
            assert not without.connection.connected.is_set()
        finally:
            without.stopping.set()
            without.shutdown("shutdown", "test over")
    finally:
        broker.stop()



def dynsec_broker(directory: Path) -> Broker:
    """mosquitto with its dynamic-security plugin, which (unlike acl_file) refuses a
    subscription the robot may not read, in its SUBACK. User robot, password adminpw, may use
    robots/t/# only."""
    import json

    plugin = Path("/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so")
    if not plugin.exists():
        pytest.skip("mosquitto's dynamic-security plugin is not installed")
    sh(f"mosquitto_ctrl dynsec init {directory}/dynsec.json admin adminpw", directory)
    data = json.loads((directory / "dynsec.json").read_text())
    admin = data["clients"][0]
    data["clients"].append({**admin, "username": "robot", "roles": [{"rolename": "robot"}]})
    data["roles"].append({"rolename": "robot", "acls": [
        {"acltype": kind, "topic": "robots/t/#", "allow": True} for kind in
        ("publishClientSend", "publishClientReceive", "subscribePattern", "unsubscribePattern")]})
    (directory / "dynsec.json").write_text(json.dumps(data))
    (directory / "dynsec.json").chmod(0o666)
    port = free_port()
    conf = directory / "m.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\nplugin {plugin}\n"
                    f"plugin_opt_config_file {directory}/dynsec.json\nset_tcp_nodelay true\n")
    broker = Broker(port, conf)
    broker.start()
    return broker


def test_online_only_once_the_broker_has_accepted_every_subscription(tmp_path: Path) -> None:
    """A sensor topic outside the robot's prefix, which the broker does not let it read: the
    daemon is not online (a command or a reading sent then would be lost), and says why."""
    directory = Path(tempfile.mkdtemp(prefix="robot-agent-dynsec-"))
    directory.chmod(0o755)  # mosquitto started as root runs as its own user
    broker = dynsec_broker(directory)
    (directory / "pw").write_text("adminpw\n")
    config = make_config(broker.port)
    sensors = {**config.sensors, "outside": config.sensors["front"].model_copy(
        update={"topic": "other/sensors/front"})}
    config = config.model_copy(update={"sensors": sensors, "mqtt": config.mqtt.model_copy(
        update={"username": "robot", "password_file": str(directory / "pw")})})
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    from agent.daemon import Daemon

    daemon = Daemon(config, pin_factory=MockFactory(pin_class=MockPWMPin),
                    state_dir=tmp_path / "s", secrets=load_secrets(config), model=NO_MODEL)
    seen: list[bytes] = []
    observer = paho.Client(CallbackAPIVersion.VERSION2, client_id="observer",
                           protocol=paho.MQTTv5)
    observer.username_pw_set("admin", "adminpw")
    observer.on_message = lambda c, u, m: seen.append(m.payload)
    observer.on_connect = lambda c, *a: c.subscribe("robots/t/status", qos=1)
    observer.connect("127.0.0.1", broker.port)
    observer.loop_start()
    daemon.start()
    try:
        assert wait_until(lambda: "refused subscriptions" in daemon.connection.last_error, 10)
        assert "other/sensors/front (Not authorized)" in daemon.connection.last_error
        assert wait_until(lambda: daemon.estop.connection.connected.is_set(), 10)
        assert daemon.status()["estop_connection"] == "connected"
        time.sleep(1.5)  # it keeps trying, with a growing backoff
        assert not daemon.connection.connected.is_set()
        assert not any(b'"online"' in payload for payload in seen), seen
        assert daemon.health_problem() == ""  # a broker's refusal is not a fault of ours
    finally:
        observer.loop_stop()
        daemon.stopping.set()
        daemon.shutdown("shutdown", "test over")
        broker.stop()
        shutil.rmtree(directory)
