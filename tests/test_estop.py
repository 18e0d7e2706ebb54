"""The e-stop: anything engages it, outputs are safe before anyone is told, it latches across
restarts, and a reset never restarts motion."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from agent.safety.signing import sign
from tests.conftest import (
    NO_MODEL,
    TEST_KEY,
    Broker,
    Client,
    Running,
    make_config,
    start_daemon,
)

ESTOP = "robots/t/estop"
STATE = "robots/t/estop/state"


def engaged(s: Any) -> bool:
    return bool(s.get("engaged"))


@pytest.mark.parametrize("payload", [b"", b"\xff\x00garbage", b"{", b'{"reason": "test"}',
                                     b"x" * 100_000])
def test_any_message_engages_and_stops_motion(daemon: Running, client: Client,
                                              payload: bytes) -> None:
    client.publish("robots/t/sensors/front", "2.0")
    client.publish("robots/t/cmd", {"id": "m", "action": "move", "params": {"distance_m": 2}})
    client.result("m", "running")
    client.publish(ESTOP, payload)
    state = client.wait_for(STATE, engaged)
    assert state["source"] == "mqtt" and state["since"] > 0
    assert all(daemon.pin(n).state == 0 for n in (4, 14, 17, 18))
    assert client.result("m", "failed")["reason"] == "estop_engaged"
    assert client.wait_for("robots/t/status", lambda s: s.get("estop") is True)


def test_outputs_are_safe_before_the_engaged_state_is_published(daemon: Running,
                                                                client: Client) -> None:
    pins_when_told: list[list[float]] = []
    inner = client.client.on_message

    def on_message(c: Any, u: Any, msg: Any) -> None:
        if msg.topic == STATE and json.loads(msg.payload).get("engaged"):
            pins_when_told.append([daemon.pin(n).state for n in (4, 14, 17, 18, 5, 23)])
        inner(c, u, msg)  # type: ignore[misc]

    client.client.on_message = on_message
    for i in range(20):
        client.publish("robots/t/sensors/front", "2.0")
        client.publish("robots/t/cmd", {"id": f"m{i}", "action": "move",
                                        "params": {"distance_m": 2}})
        client.publish("robots/t/cmd", {"id": f"c{i}", "action": "lights_color",
                                        "params": {"color": "red"}})
        client.result(f"c{i}", "done")
        client.publish(ESTOP, "")
        client.wait_for(STATE, engaged)
        client.publish("robots/t/estop/reset", {"id": f"r{i}", "reason": "test"})
        client.result(f"r{i}", "done")
        client.forget()
    assert len(pins_when_told) >= 20
    assert all(v == 0 for pins in pins_when_told for v in pins)


def test_commands_refused_while_engaged_except_stop(daemon: Running, client: Client) -> None:
    client.publish(ESTOP, "")
    client.wait_for(STATE, engaged)
    client.publish("robots/t/sensors/front", "2.0")
    client.publish("robots/t/cmd", {"id": "m", "action": "move"})
    assert client.result("m")["reason"] == "estop_engaged"
    client.publish("robots/t/cmd", {"id": "s", "action": "stop"})
    assert client.result("s")["status"] == "done"
    assert all(daemon.pin(n).state == 0 for n in (4, 14, 17, 18))


def test_reset_releases_but_never_resumes(daemon: Running, client: Client) -> None:
    client.publish("robots/t/sensors/front", "2.0")
    client.publish("robots/t/cmd", {"id": "m", "action": "move", "params": {"distance_m": 2}})
    client.result("m", "running")
    client.publish(ESTOP, "stop!")
    client.wait_for(STATE, engaged)
    client.publish("robots/t/estop/reset", {"id": "r", "reason": "area clear, checked by Ana"})
    result = client.result("r")
    assert result["status"] == "done" and "nothing resumes" in result["detail"]
    assert client.wait_for(STATE, lambda s: s["engaged"] is False)
    time.sleep(0.3)
    assert all(daemon.pin(n).state == 0 for n in (4, 14, 17, 18))
    client.publish("robots/t/sensors/front", "2.0")
    client.publish("robots/t/cmd", {"id": "m2", "action": "move"})
    assert client.result("m2")["status"] == "running"


@pytest.mark.parametrize("payload, reason", [
    (b"nope", "malformed"),
    (b'{"id": "r"}', "malformed"),
    (b'{"reason": "x"}', "malformed"),
])
def test_bad_resets_are_refused_and_the_latch_holds(daemon: Running, client: Client,
                                                    payload: bytes, reason: str) -> None:
    client.publish(ESTOP, "")
    client.wait_for(STATE, engaged)
    client.publish("robots/t/estop/reset", payload)
    assert client.wait_for("robots/t/result")["reason"] == reason
    assert daemon.daemon.latch.engaged


def test_latch_survives_a_restart(broker: Broker, client: Client, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    first = start_daemon(make_config(broker.port), state_dir, client)
    client.publish(ESTOP, '{"reason": "bumper hit"}')
    client.wait_for(STATE, engaged)
    assert first.stop() == 0
    client.forget()
    second = start_daemon(make_config(broker.port), state_dir, client)
    try:
        state = client.wait_for(STATE, lambda s: "engaged" in s)
        assert state["engaged"] and state["reason"] == "bumper hit"
        client.publish("robots/t/sensors/front", "2.0")
        client.publish("robots/t/cmd", {"id": "m", "action": "move"})
        assert client.result("m")["reason"] == "estop_engaged"
    finally:
        second.stop()


def test_unreadable_latch_file_starts_engaged(broker: Broker, client: Client,
                                              tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / "estop.json").write_text("{corrupt")
    running = start_daemon(make_config(broker.port), state_dir, client)
    try:
        state = client.wait_for(STATE, lambda s: "engaged" in s)
        assert state["engaged"] and state["source"] == "startup"
    finally:
        running.stop()


def test_estop_still_engages_when_the_state_dir_is_unwritable(broker: Broker, client: Client,
                                                              tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the state directory should be")
    running = start_daemon(make_config(broker.port), blocker / "state", client)
    try:
        client.publish(ESTOP, "")
        assert client.wait_for(STATE, engaged)["engaged"]
        assert running.daemon.health_problem() == ""
    finally:
        running.stop()


def test_signed_reset_when_required(broker: Broker, client: Client, tmp_path: Path) -> None:
    config = make_config(broker.port).model_copy(update={"safety": make_config(
        broker.port).safety.model_copy(update={"require_signed_reset": True})})
    running = start_daemon(config, tmp_path / "state", client)
    try:
        client.publish(ESTOP, "")
        client.wait_for(STATE, engaged)
        client.publish("robots/t/estop/reset", {"id": "u", "reason": "x"})
        assert client.result("u")["reason"] == "signature_required"
        bad = {"id": "b", "reason": "x", "ts": time.time(), "sig": "ab" * 32}
        client.publish("robots/t/estop/reset", bad)
        assert client.result("b")["reason"] == "bad_signature"
        good: dict[str, Any] = {"id": "g", "reason": "checked", "ts": time.time()}
        good["sig"] = sign(good, TEST_KEY)
        client.publish("robots/t/estop/reset", good)
        assert client.result("g")["status"] == "done"
        client.publish("robots/t/estop/reset", good)
        assert client.result("g", "refused")["reason"] == "replayed"
    finally:
        running.stop()


def button_config(port: int, contact: str) -> Any:
    config = make_config(port)
    return config.model_copy(update={"safety": config.safety.model_copy(
        update={"estop_button_pin": 26, "estop_button_contact": contact})})


@pytest.mark.parametrize("contact, pin_at_start, says", [
    ("nc", "drive_high", "e-stop circuit open at start-up: button pressed, or a wire cut"),
    ("no", "drive_low", "e-stop button held at start-up"),
])
def test_a_button_tripped_at_start_engages_at_start(broker: Broker, client: Client,
                                                    tmp_path: Path, contact: str,
                                                    pin_at_start: str, says: str) -> None:
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    from agent.daemon import Daemon

    factory = MockFactory(pin_class=MockPWMPin)
    daemon = Daemon(button_config(broker.port, contact), pin_factory=factory,
                    state_dir=tmp_path / "state", model=NO_MODEL)
    getattr(factory.pin(26), pin_at_start)()  # before start: the circuit as the button left it
    assert not daemon.latch.engaged
    daemon.start()
    try:
        assert daemon.latch.engaged and daemon.latch.state.source == "button"
        state = client.wait_for(STATE, engaged)
        assert state["reason"] == says
    finally:
        daemon.shutdown("shutdown", "test over")


@pytest.mark.parametrize("contact, press, release, says", [
    ("nc", "drive_high", "drive_low", "circuit opened"),  # pressed, or the wire cut: it opens
    ("no", "drive_low", "drive_high", "button pressed"),  # pressed: it pulls the pin to ground
])
def test_the_button_engages_and_blocks_reset_while_pressed(
        broker: Broker, client: Client, tmp_path: Path, contact: str, press: str,
        release: str, says: str) -> None:
    from agent.devices.sim_pins import sim_factory

    running = start_daemon(button_config(broker.port, contact), tmp_path / "state", client,
                           factory=sim_factory(closed=(26,) if contact == "nc" else ()))
    try:
        assert not running.daemon.latch.engaged  # not pressed, the circuit whole
        button = running.pin(26)
        getattr(button, press)()
        state = client.wait_for(STATE, engaged)
        assert state["source"] == "button" and says in state["reason"]
        client.publish("robots/t/estop/reset", {"id": "r", "reason": "x"})
        assert client.result("r")["reason"] == "estop_engaged"
        getattr(button, release)()
        client.publish("robots/t/estop/reset", {"id": "r2", "reason": "released"})
        assert client.result("r2")["status"] == "done"
    finally:
        running.stop()


def test_a_broken_estop_circuit_at_start_engages_and_latches(broker: Broker, client: Client,
                                                            tmp_path: Path) -> None:
    from agent.devices.sim_pins import sim_factory

    running = start_daemon(button_config(broker.port, "nc"), tmp_path / "state", client,
                           factory=sim_factory())  # nothing closes the circuit: a cut wire
    try:
        state = client.wait_for(STATE, engaged)
        assert state["source"] == "button" and "open at start-up" in state["reason"]
        client.publish("robots/t/estop/reset", {"id": "r", "reason": "x"})
        assert client.result("r")["reason"] == "estop_engaged"  # still open: refused
    finally:
        running.stop()
    assert running.daemon.latch.engaged and (tmp_path / "state" / "estop.json").exists()


def test_command_queued_before_estop_never_runs_after_reset(daemon: Running,
                                                            client: Client) -> None:
    from agent.mqtt.inbound import Inbound

    client.publish("robots/t/sensors/front", "2.0")
    d = daemon.daemon
    work = d.pipeline.work(Inbound("robots/t/cmd", b'{"id":"q","action":"move"}'), "cmd",
                           d.commands.run)
    daemon.daemon.estop.engage("cli", "test")
    client.publish("robots/t/estop/reset", {"id": "r", "reason": "x"})
    client.result("r", "done")
    work.run()
    assert client.result("q")["reason"] == "estop_engaged"
    assert all(daemon.pin(n).state == 0 for n in (4, 14, 17, 18))


def test_a_signed_message_cannot_be_replayed_across_a_restart(broker: Broker, client: Client,
                                                              tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    first = start_daemon(make_config(broker.port), state_dir, client)
    msg: dict[str, Any] = {"id": "w-once", "action": "water", "ts": time.time()}
    msg["sig"] = sign(msg, TEST_KEY)
    client.publish("robots/t/cmd", msg)
    assert client.result("w-once")["status"] == "running"
    first.stop()
    client.forget()
    second = start_daemon(make_config(broker.port), state_dir, client)
    try:
        client.publish("robots/t/cmd", msg)
        assert client.result("w-once", "refused")["reason"] == "replayed"
        assert second.pin(23).state == 0
    finally:
        second.stop()


def test_an_estop_sent_while_the_robot_is_disconnected_arrives(broker: Broker, client: Client,
                                                               tmp_path: Path) -> None:
    first = start_daemon(make_config(broker.port), tmp_path / "state", client)
    first.daemon.connection.stopping.set()  # the robot drops off the broker (a network blip)...
    first.daemon.estop.connection.stopping.set()
    first.daemon.estop.connection.client.disconnect()
    first.thread.join(10)
    client.forget()
    client.publish(ESTOP, '{"reason": "sent while the robot was away"}')
    second = start_daemon(make_config(broker.port), tmp_path / "state2", client)
    try:  # ...and the same robot (same client id) comes back: the broker kept its e-stop
        state = client.wait_for(STATE, engaged)
        assert state["reason"] == "sent while the robot was away"
    finally:
        second.stop()
