"""Link loss is a protective stop: a broker stopped or frozen mid-move stops the wheels (and
every output that moves), leaves the lights alone, refuses motion until the link is back,
latches nothing, and the hardware button keeps working throughout."""

from __future__ import annotations

import logging
import os
import signal
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from agent.config import parse_config
from agent.core.clock import SystemClock
from agent.core.protocol import Reason
from agent.devices import build_outputs
from agent.interpret import Interpreter
from agent.mqtt.connection import Connection, Probe
from agent.safety.executor import Executor
from tests.conftest import (
    Broker,
    Client,
    Running,
    connect_client,
    make_config,
    start_daemon,
    wait_until,
)
from tests.test_devices import DEVICES

WHEELS = (4, 14, 17, 18)
RED = 5  # the lamp's red pin
BACK = {"direction": "backward", "distance_m": 0.3}


def wheels_turning(running: Running) -> bool:
    return any(running.pin(n).state for n in WHEELS)


def start_moving(client: Client, rid: str = "m") -> None:
    """The lamp red (it stays on) and a 2.5 m move backward (2.5 s at 1 m/s: no interlock on
    the front sensor, which goes stale with the broker) under way."""
    client.publish("robots/t/cmd", {"id": f"{rid}-lamp", "action": "lights_color",
                                    "params": {"color": "red"}})
    assert client.result(f"{rid}-lamp")["status"] == "done"
    client.publish("robots/t/cmd", {"id": rid, "action": "move",
                                    "params": {"direction": "backward", "distance_m": 2.5}})
    assert client.result(rid)["status"] == "running"


def records(running: Running, action: str) -> list[dict[str, Any]]:
    return [r for r in running.daemon.publisher.recent if r["action"] == action]


@pytest.fixture
def frozen(broker: Broker) -> Iterator[Broker]:
    """The broker, to be frozen with SIGSTOP by the test; thawed again before it is stopped."""
    yield broker
    if broker.proc is not None:
        os.kill(broker.proc.pid, signal.SIGCONT)


def test_a_stopped_broker_stops_the_wheels_not_the_lamp_and_nothing_latches(
        daemon: Running, broker: Broker, client: Client) -> None:
    start_moving(client)
    broker.stop()
    assert wait_until(lambda: not wheels_turning(daemon), 3.0), "the wheels kept turning"
    assert daemon.pin(RED).state == 1  # the lamp is not motion
    assert daemon.daemon.gate.admit("move", BACK).reason == Reason.LINK_LOST
    assert daemon.daemon.gate.admit("lights_off", {}).allowed
    assert wait_until(lambda: records(daemon, "link_loss_stop"))
    [stop] = records(daemon, "link_loss_stop")
    assert stop["reason"] == "link_lost" and "drive made safe" in stop["detail"]
    assert not daemon.daemon.latch.engaged
    broker.start()
    fresh = connect_client(broker.port)
    try:
        status = fresh.wait_for("robots/t/status", lambda s: s.get("link_losses") == 1 and
                                not s["link_lost"], timeout=15)
        last = status["last_link_loss"]
        assert last["stopped"] == ["drive"] and last["back"] >= last["since"] > 0
        assert last["down_s"] > 0.5
        [end] = [r for r in daemon.daemon.publisher.recent if r["id"] == "m" and
                 r["status"] == "failed"]
        assert end["reason"] == "link_lost"
        assert records(daemon, "link_back")
        # No reset: motion is allowed again once the link is back (nothing resumed by itself).
        assert not wheels_turning(daemon)
        fresh.publish("robots/t/sensors/front", "2.0")
        fresh.publish("robots/t/cmd", {"id": "m2", "action": "move"})
        assert fresh.result("m2")["status"] == "running"
    finally:
        fresh.client.loop_stop()


def test_a_frozen_broker_stops_the_wheels_and_the_button_still_works(
        frozen: Broker, client: Client, tmp_path: Path) -> None:
    config = make_config(frozen.port)
    config = config.model_copy(update={"safety": config.safety.model_copy(
        update={"estop_button_pin": 26, "estop_button_contact": "no"})})
    running = start_daemon(config, tmp_path / "state", client)
    try:
        start_moving(client)
        assert frozen.proc is not None
        os.kill(frozen.proc.pid, signal.SIGSTOP)
        assert wait_until(lambda: not wheels_turning(running), 4.0), "the wheels kept turning"
        assert running.pin(RED).state == 1
        assert wait_until(lambda: records(running, "link_loss_stop"))
        [stop] = records(running, "link_loss_stop")
        assert "no answer from the broker" in stop["detail"]
        assert running.daemon.gate.admit("turn", {"direction": "left"}).reason == \
            Reason.LINK_LOST
        running.pin(26).drive_low()  # the button, pressed while the broker is frozen
        assert wait_until(lambda: running.daemon.latch.engaged)
        assert running.daemon.latch.state.source == "button"
        running.pin(26).drive_high()
        os.kill(frozen.proc.pid, signal.SIGCONT)
        assert wait_until(lambda: not running.daemon.link.lost, 15), "the link did not return"
        assert running.daemon.gate.admit("move", BACK).reason == Reason.ESTOP_ENGAGED
    finally:
        running.stop()


def test_with_link_loss_stop_off_the_wheels_keep_turning_and_it_says_so_at_start(
        broker: Broker, client: Client, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_config(broker.port)
    config = config.model_copy(update={"safety": config.safety.model_copy(
        update={"link_loss_stop_s": 0.0})})
    with caplog.at_level(logging.WARNING):
        running = start_daemon(config, tmp_path / "state", client)
    try:
        assert "link_loss_stop_s = 0" in caplog.text
        start_moving(client)
        broker.stop()
        assert not wait_until(lambda: not wheels_turning(running), 1.5)
        assert running.daemon.gate.admit("move", BACK).allowed
    finally:
        running.stop()


def test_what_stops_on_link_loss_motors_servos_and_devices_marked_moving() -> None:
    config = parse_config(tomllib.loads(
        DEVICES + '[devices.base]\nkind = "mqtt"\ntopic = "other/base"\nmoving = true\n'))
    factory = MockFactory(pin_class=MockPWMPin)
    sent: list[tuple[str, str]] = []
    outputs = build_outputs(config.devices, factory, lambda t, p: sent.append((t, p)))
    for name, op, params in [("led", "on", {}), ("dimmer", "on", {}),
                             ("rgb", "color", {"color": "red"}), ("valve", "on", {}),
                             ("winch", "run", {"duration_s": 5}),
                             ("drive", "move", {"distance_m": 1}), ("arm", "angle",
                                                                    {"degrees": 30}),
                             ("arm_remote", "go", {}), ("base", "drive", {})]:
        outputs[name].apply(op, params)
    sent.clear()
    executor = Executor(outputs, clock=SystemClock(), watch=lambda a, p: None,
                        on_state=lambda out: None)
    _, stopped = executor.stop_motion(Reason.LINK_LOST, "test")
    assert sorted(out.name for out in stopped) == ["arm", "base", "drive", "winch"]
    assert all(factory.pin(n).state == 0 for n in (20, 21, *WHEELS))
    assert outputs["arm"].state()["angle"] is None  # detached
    assert sent == [("other/base", '{"op":"safe"}')]  # not arm_remote: not marked moving
    assert factory.pin(2).state == 1 and factory.pin(5).state == 1  # lights untouched
    assert factory.pin(23).state == 0  # the active-low valve still on


def test_a_servo_stops_on_link_loss_but_stop_in_text_is_still_the_wheels() -> None:
    """A servo moves a part (Output.moves_a_part): link loss detaches it, yet "stop" means the
    wheels, and its angle may still be held with stays_on."""
    config = parse_config(tomllib.loads("""
[device]
id = "d"
[devices.drive]
kind = "robot"
left = [4, 14]
right = [17, 18]
[devices.arm]
kind = "servo"
pin = 12
[actions.stop]
device = "drive"
op = "stop"
[actions.arm_detach]
description = "let the arm go"
device = "arm"
op = "detach"
[actions.arm_hold]
device = "arm"
op = "angle"
stays_on = true
params.degrees = { type = "number", minimum = -90, maximum = 90 }
"""))
    assert Interpreter(config, None).interpret("stop").action == "stop"
    outputs = build_outputs(config.devices, MockFactory(pin_class=MockPWMPin),
                            lambda t, p: None)
    assert sorted(n for n, out in outputs.items() if out.stops_on_link_loss(out.config)) == [
        "arm", "drive"]


def silent_connection(port: int, probe: Probe | None) -> tuple[Connection, threading.Event]:
    down = threading.Event()
    cfg = make_config(port).mqtt
    connection = Connection(cfg, client_id=f"probe-{probe is not None}", clock=SystemClock(),
                            on_message=lambda msg: None, on_disconnect=down.set, probe=probe)
    connection.start([("robots/t/estop", 1)])
    assert connection.connected.wait(5)
    return connection, down


def test_the_probe_finds_a_frozen_broker_that_keepalive_does_not(frozen: Broker) -> None:
    probed, probed_down = silent_connection(frozen.port, Probe("robots/t/estop/probe", 1.0))
    plain, plain_down = silent_connection(frozen.port, None)
    try:
        assert frozen.proc is not None
        os.kill(frozen.proc.pid, signal.SIGSTOP)
        assert probed_down.wait(3.0), "the probed connection did not notice"
        assert "no answer from the broker" in probed.last_error
        assert not plain_down.is_set()  # keepalive_s = 30: it would take 30-60 s
        os.kill(frozen.proc.pid, signal.SIGCONT)
        assert wait_until(probed.connected.is_set, 15), "it did not reconnect"
    finally:
        probed.stop()
        plain.stop()
