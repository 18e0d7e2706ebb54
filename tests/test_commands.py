"""Structured commands over a real broker: what runs, what is refused, and that nothing moves."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from agent.safety.signing import sign
from tests.conftest import TEST_KEY, Broker, Client, Running, make_config, start_daemon

ARM = """
[devices.arm]
kind = "mqtt"
topic = "arm/cmd"
[actions.arm_stop]
device = "arm"
op = "stop"
"""

CMD = "robots/t/cmd"
RESULT = "robots/t/result"


def drive_pins(d: Running) -> list[float]:
    return [d.pin(n).state for n in (4, 14, 17, 18)]


def still(d: Running) -> bool:
    return all(v == 0 for v in drive_pins(d))


def fresh_front(client: Client, value: float = 2.0) -> None:
    client.publish("robots/t/sensors/front", str(value))


def test_move_runs_then_stops_with_running_and_done_results(daemon: Running,
                                                            client: Client) -> None:
    fresh_front(client)
    client.publish(CMD, {"id": "m1", "action": "move",
                         "params": {"direction": "forward", "distance_m": 0.3}})
    running = client.result("m1", "running")
    assert running["decision"] == "execute" and running["route"] == "direct"
    assert running["params"] == {"direction": "forward", "distance_m": 0.3}
    assert drive_pins(daemon) == [1.0, 0, 1.0, 0]
    state = client.wait_for("robots/t/state/drive", lambda s: s["op"] == "move")
    assert state["left"] == 1.0
    client.publish("robots/t/sensors/front", "2.0")  # keep the interlock fresh
    done = client.result("m1", "done", timeout=3)
    assert done["reason"] is None
    assert still(daemon)


def test_defaults_are_filled_in(daemon: Running, client: Client) -> None:
    fresh_front(client)
    client.publish(CMD, {"id": "d1", "action": "move"})
    assert client.result("d1", "running")["params"] == {"direction": "forward", "distance_m": 0.3}


@pytest.mark.parametrize("payload, reason", [
    (b"{not json", "malformed"),
    (b"\xff\xfe\x00garbage", "malformed"),
    (b"[1, 2, 3]", "malformed"),
    (b'{"action": "move"}', "malformed"),
    (b'{"id": "x", "action": "move", "params": {}, "extra": 1}', "malformed"),
    (b'{"id": "x", "action": "fly"}', "unknown_action"),
    (b'{"id": "x", "action": 7}', "unknown_action"),
    (b'{"id": "x", "action": "move", "params": {"distance_m": "far"}}', "invalid_params"),
    (b'{"id": "x", "action": "move", "params": {"distance_m": true}}', "invalid_params"),
    (b'{"id": "x", "action": "move", "params": {"speed": 1}}', "invalid_params"),
    (b'{"id": "x", "action": "move", "params": [1]}', "invalid_params"),
    (b'{"id": "x", "action": "turn", "params": {"degrees": 90}}', "invalid_params"),
    (b'{"id": "x", "action": "move", "params": {"direction": "up"}}', "invalid_params"),
    (b'{"id": "x", "action": "move", "params": {"distance_m": 5}}', "out_of_bounds"),
    (b'{"id": "x", "action": "move", "params": {"distance_m": -1}}', "out_of_bounds"),
    (b'{"id": "x", "action": "move", "params": {"distance_m": NaN}}', "malformed"),
    (b'{"id": "x", "action": "move", "params": {"distance_m": Infinity}}', "malformed"),
    (b'{"id": "x", "action": "move", "params": {"distance_m": 1e999}}', "malformed"),
    (b'{"id": "x", "action": "water"}', "signature_required"),
    (b'{"id": "x", "action": "move", "ts": 1000}', "replayed"),
    (b'{"id": "x", "action": "move", "sig": "00"}', "bad_signature"),
    (b'{"id": "x", "action": "lights_color", "params": {"color": "mauve"}}', "invalid_params"),
])
def test_bad_commands_get_a_reason_and_nothing_moves(daemon: Running, client: Client,
                                                     payload: bytes, reason: str) -> None:
    fresh_front(client)
    client.publish(CMD, payload)
    result = client.wait_for(RESULT)
    assert (result["status"], result["decision"], result["reason"]) == (
        "refused", "refuse", reason), result
    assert result["detail"]
    assert still(daemon)
    assert daemon.daemon.health_problem() == ""


def test_oversized_payload_is_too_large(daemon: Running, client: Client) -> None:
    client.publish(CMD, b'{"id":"big","action":"move","params":{"x":"' + b"a" * 5000 + b'"}}')
    result = client.wait_for(RESULT)
    assert result["reason"] == "too_large"
    assert still(daemon)


def test_repeated_id_is_duplicate_and_runs_once(daemon: Running, client: Client) -> None:
    client.publish(CMD, {"id": "dup", "action": "lights_color", "params": {"color": "red"}})
    assert client.result("dup")["status"] == "done"
    daemon.pin(5).state = 0  # if it ran again, the red pin would be driven again
    client.publish(CMD, {"id": "dup", "action": "lights_color", "params": {"color": "red"}})
    again = client.result("dup", "duplicate")
    assert again["reason"] == "duplicate" and again["action"] == "lights_color"
    record = client.wait_for("robots/t/events", lambda e: e["status"] == "duplicate")
    assert record["action"] == "lights_color"  # the journal line says what was repeated
    assert daemon.pin(5).state == 0


def test_a_reset_with_an_unusable_reply_to_is_refused_on_result(daemon: Running,
                                                                client: Client) -> None:
    """Every request reads its reply_to the same way (issue 13): refusing a reset is safe."""
    daemon.daemon.estop.engage("cli", "test")
    client.publish("robots/t/estop/reset", {"id": "r-bad", "reason": "checked",
                                            "reply_to": "app/#"})
    refused = client.result("r-bad")
    assert (refused["status"], refused["reason"]) == ("refused", "malformed")
    assert daemon.daemon.latch.engaged


def test_a_reset_without_reason_is_answered_on_its_reply_to(daemon: Running,
                                                            client: Client) -> None:
    client.publish("robots/t/estop/reset", {"id": "r-why", "reply_to": "app/resets"})
    answer = client.wait_for("app/resets", lambda r: r["id"] == "r-why")
    assert (answer["status"], answer["reason"]) == ("refused", "malformed")


def test_interlock_refuses_forward_but_allows_backward(daemon: Running, client: Client) -> None:
    fresh_front(client, 0.1)
    client.publish(CMD, {"id": "f", "action": "move", "params": {"direction": "forward"}})
    result = client.result("f")
    assert result["reason"] == "interlock" and "0.1" in result["detail"]
    client.publish(CMD, {"id": "b", "action": "move", "params": {"direction": "backward"}})
    assert client.result("b")["status"] == "running"


def test_missing_and_stale_sensor_refuse(daemon: Running, client: Client) -> None:
    client.publish(CMD, {"id": "never", "action": "move"})
    assert client.result("never")["reason"] == "stale_sensor"
    fresh_front(client)
    time.sleep(0.7)  # max_age_s is 0.5
    client.publish(CMD, {"id": "old", "action": "move"})
    result = client.result("old")
    assert result["reason"] == "stale_sensor" and "stale" in result["detail"]
    assert still(daemon)


def test_non_number_sensor_payload_counts_as_no_reading(daemon: Running,
                                                        client: Client) -> None:
    fresh_front(client)
    client.publish("robots/t/sensors/front", "banana")
    event = client.wait_for("robots/t/events", lambda e: e["input_kind"] == "sensor")
    assert event["reason"] == "malformed"
    client.publish(CMD, {"id": "s", "action": "move"})
    assert client.result("s")["reason"] == "stale_sensor"
    client.publish("robots/t/sensors/front", json.dumps({"value": 1.5, "ts": time.time()}))
    client.publish(CMD, {"id": "s2", "action": "move"})
    assert client.result("s2")["status"] == "running"


def test_obstacle_mid_move_stops_at_once(daemon: Running, client: Client) -> None:
    fresh_front(client)
    client.publish(CMD, {"id": "long", "action": "move", "params": {"distance_m": 2.0}})
    client.result("long", "running")
    assert not still(daemon)
    client.publish("robots/t/sensors/front", "0.1")
    failed = client.result("long", "failed", timeout=1)
    assert failed["reason"] == "interlock"
    assert still(daemon)
    event = client.wait_for("robots/t/events", lambda e: e["id"] == "long" and
                            e["decision"] == "abort")
    assert event["input_kind"] == "supervision"


def test_sensor_going_stale_mid_move_stops_it(daemon: Running, client: Client) -> None:
    fresh_front(client)
    client.publish(CMD, {"id": "stale", "action": "move", "params": {"distance_m": 2.0}})
    client.result("stale", "running")
    failed = client.result("stale", "failed", timeout=2)
    assert failed["reason"] == "stale_sensor"
    assert still(daemon)


def test_newer_motion_replaces_running_one(daemon: Running, client: Client) -> None:
    fresh_front(client)
    client.publish(CMD, {"id": "a", "action": "move", "params": {"distance_m": 2.0}})
    client.result("a", "running")
    client.publish(CMD, {"id": "b", "action": "turn", "params": {"direction": "left"}})
    replaced = client.result("a", "failed")
    assert (replaced["reason"], replaced["detail"]) == (
        "superseded", "replaced by a newer turn on drive (cmd b)")
    client.result("b", "running")
    assert drive_pins(daemon) == [0, 1.0, 1.0, 0]  # left: left wheel back, right wheel forward
    client.result("b", "done", timeout=2)
    assert still(daemon)


def test_per_action_rate_limit_but_stop_is_never_limited(daemon: Running,
                                                         client: Client) -> None:
    for i in range(3):
        client.publish(CMD, {"id": f"t{i}", "action": "turn",
                             "params": {"direction": "left", "degrees": 1}})
        assert client.result(f"t{i}")["status"] == "running"
    client.publish(CMD, {"id": "t3", "action": "turn", "params": {"direction": "left"}})
    assert client.result("t3")["reason"] == "rate_limited"
    for i in range(5):
        client.publish(CMD, {"id": f"s{i}", "action": "stop"})
        assert client.result(f"s{i}")["status"] == "done"


def test_signed_high_risk_command_runs_once(daemon: Running, client: Client) -> None:
    msg = {"id": "w1", "action": "water", "params": {"duration_s": 0.2}, "ts": time.time()}
    msg["sig"] = sign(msg, TEST_KEY)
    client.publish(CMD, msg)
    assert client.result("w1")["status"] == "running"
    assert daemon.pin(23).state == 1
    client.result("w1", "done")
    assert daemon.pin(23).state == 0
    client.publish(CMD, msg)
    assert client.result("w1", "refused")["reason"] == "replayed"
    tampered = {**msg, "params": {"duration_s": 5}}
    client.forget()
    client.publish(CMD, tampered)
    assert client.result("w1", "refused")["reason"] == "bad_signature"


def test_reply_to_and_mqtt5_response_topic(daemon: Running, client: Client) -> None:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    client.publish(CMD, {"id": "r1", "action": "stop", "reply_to": "app/replies"})
    assert client.result("r1", topic="app/replies")["status"] == "done"
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = "app/v5"
    props.CorrelationData = b"corr-7"
    client.publish(CMD, '{"id": "r2", "action": "stop"}', properties=props)
    _, _, received = client.wait_raw("app/v5")
    assert received.CorrelationData == b"corr-7"
    # A reply_to pointing at a topic the daemon acts on is refused; nothing engages.
    client.publish(CMD, {"id": "r3", "action": "stop", "reply_to": "robots/t/estop"})
    assert client.result("r3")["reason"] == "bad_reply_to"
    assert not daemon.daemon.latch.engaged


@pytest.mark.parametrize("target", ["robots/t/estop/state", "robots/t/status",
                                    "robots/t/state/drive", "robots/t/events", "robots/t/result",
                                    "robots/t/sensors/front", "robots/t", "arm/cmd"])
@pytest.mark.parametrize("how", ["reply_to", "response_topic"])
def test_a_reply_can_never_forge_the_daemons_state_or_drive_a_device(
        broker: Broker, client: Client, tmp_path: Path, target: str, how: str) -> None:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    running = start_daemon(make_config(broker.port, ARM), tmp_path / "state", client)
    try:
        client.forget()
        message: dict[str, Any] = {"id": "f1", "action": "stop"}
        props = None
        if how == "reply_to":
            message["reply_to"] = target
        else:
            props = Properties(PacketTypes.PUBLISH)
            props.ResponseTopic = target
        client.publish(CMD, json.dumps(message), properties=props)
        refused = client.result("f1")
        assert (refused["status"], refused["reason"]) == ("refused", "bad_reply_to")
        # The record follows the result on the same connection: all that came before is here.
        client.wait_for("robots/t/events", lambda e: e["id"] == "f1")
        on_target = [json.loads(m[1]) for m in client.history[client.mark:]
                     if m[0] == target and b'"f1"' in m[1]]
        # Only what the daemon publishes there anyway: the refusal's record, the one result.
        expected = {"robots/t/events": 1, "robots/t/result": 1}.get(target, 0)
        assert len(on_target) == expected, on_target
        assert running.daemon.health_problem() == ""
    finally:
        running.stop()


def test_every_decision_is_an_event_with_policy_fields(daemon: Running, client: Client) -> None:
    client.publish(CMD, {"id": "ev", "action": "fly"})
    event = client.wait_for("robots/t/events", lambda e: e["id"] == "ev")
    assert event["decision"] == "refuse" and event["reason"] == "unknown_action"
    assert event["policy_version"] == "test-1" and event["device_class"] == "test"
    for key in ("ts", "input_kind", "route", "action", "params", "confidence", "latency_ms",
                "cloud_escalated", "model", "text"):
        assert key in event


def test_an_id_stays_a_duplicate_after_a_restart(broker: Broker, client: Client,
                                                 tmp_path: Path) -> None:
    for expected in ("done", "duplicate"):
        running = start_daemon(make_config(broker.port), tmp_path / "state", client)
        try:
            client.forget()
            client.publish(CMD, {"id": "once", "action": "lights_off"})
            assert client.result("once")["status"] == expected
        finally:
            running.stop()
