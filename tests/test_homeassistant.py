"""Home Assistant discovery: what the message holds, and the daemon publishing, repeating and
removing it on a real broker. Home Assistant itself: tests/test_homeassistant_real.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent.config import ConfigError
from agent.mqtt.homeassistant import (
    MARKER,
    button_actions,
    discovery_payload,
    sensor_device_class,
)
from tests.conftest import (
    BASE_CONFIG,
    ROOT,
    Broker,
    Client,
    connect_client,
    make_config,
    start_daemon,
    wait_until,
)

TOPIC = "homeassistant/device/t/config"
SENSORS = """
[sensors.battery]
topic = "robots/t/sensors/battery"
unit = "%"
max_age_s = 30
[sensors.bumper]
topic = "robots/t/sensors/bumper"
kind = "bool"
max_age_s = 0.4
[sensors.camera]
topic = "robots/t/events/camera"
kind = "event"
[sensors.motor_temp]
topic = "robots/t/sensors/motor_temp"
unit = "°C"
"""
ENABLED = "\n[homeassistant]\nenabled = true\n"


def components(extra: str = "") -> dict[str, Any]:
    return dict(discovery_payload(make_config(1883, SENSORS + extra))["cmps"])


def test_a_button_for_each_action_a_press_can_ask_for_whole() -> None:
    config = make_config(1883)
    # turn and lights_color need a parameter with no default; water is high-risk
    assert button_actions(config) == ["move", "stop", "lights_off"]
    cmps = components()
    assert {k for k, c in cmps.items() if c["p"] == "button"} == {
        "estop", "estop_reset", "action_move", "action_stop", "action_lights_off"}
    move = cmps["action_move"]
    assert move["command_topic"] == "robots/t/cmd"
    assert json.loads(move["command_template"]) == {
        "id": "ha-{{ now().timestamp() }}", "action": "move"}  # a fresh id at every press


def test_estop_and_reset_use_the_contracts_topics() -> None:
    cmps = components()
    assert cmps["estop"]["command_topic"] == "robots/t/estop"
    assert json.loads(cmps["estop"]["payload_press"]) == {"reason": "e-stop from Home Assistant"}
    assert cmps["estop_reset"]["command_topic"] == "robots/t/estop/reset"
    assert json.loads(cmps["estop_reset"]["command_template"])["reason"] == (
        "reset from Home Assistant")
    engaged = cmps["estop_engaged"]
    assert (engaged["p"], engaged["state_topic"]) == ("binary_sensor", "robots/t/estop/state")
    assert engaged["device_class"] == "safety"


def test_no_reset_button_when_resets_must_be_signed() -> None:
    config = BASE_CONFIG.replace("[safety]\n", "[safety]\nrequire_signed_reset = true\n")
    import tomllib

    from agent.config import parse_config

    cmps = discovery_payload(parse_config(tomllib.loads(config.format(port=1883))))["cmps"]
    assert "estop_reset" not in cmps and "estop" in cmps


@pytest.mark.parametrize("key, platform, device_class, unit", [
    ("sensor_front", "sensor", None, None),  # no unit configured
    ("sensor_battery", "sensor", "battery", "%"),
    ("sensor_motor_temp", "sensor", "temperature", "°C"),
    ("sensor_bumper", "binary_sensor", None, None),
    ("sensor_camera", "sensor", None, None),  # an event: the last text
])
def test_each_sensor_with_its_unit_and_a_fitting_class(key: str, platform: str,
                                                       device_class: str | None,
                                                       unit: str | None) -> None:
    sensor = components()[key]
    assert sensor["p"] == platform
    assert sensor.get("device_class") == device_class
    assert sensor.get("unit_of_measurement") == unit


def test_device_classes_follow_units_and_names() -> None:
    assert sensor_device_class("front_distance", "m") == "distance"
    assert sensor_device_class("height", "cm") == "distance"
    assert sensor_device_class("battery", "%") == "battery"
    assert sensor_device_class("soil_humidity", "%") == "humidity"
    assert sensor_device_class("duty", "%") is None  # a percentage of what? no class
    assert sensor_device_class("light", "lx") == "illuminance"
    assert sensor_device_class("odd", "furlongs") is None


def test_a_stale_sensor_goes_unavailable_after_twice_its_max_age() -> None:
    cmps = components()
    assert cmps["sensor_bumper"]["expire_after"] == 1
    assert cmps["sensor_battery"]["expire_after"] == 60
    assert "expire_after" not in cmps["sensor_camera"]  # events come when they come


def test_text_status_and_last_decision_read_the_daemons_topics() -> None:
    cmps = components()
    assert (cmps["ask"]["p"], cmps["ask"]["command_topic"]) == ("text", "robots/t/ask")
    assert cmps["model"]["state_topic"] == cmps["cloud"]["state_topic"] == "robots/t/status"
    assert cmps["last_decision"]["state_topic"] == "robots/t/events"


def test_every_component_is_unique_and_available_with_the_daemon() -> None:
    payload = discovery_payload(make_config(1883, SENSORS))
    ids = [c["unique_id"] for c in payload["cmps"].values()]
    assert len(ids) == len(set(ids))
    assert all(c["qos"] == 1 for c in payload["cmps"].values())
    assert payload["avty"] == [{"t": "robots/t/status", "val_tpl": "{{ value_json.state }}",
                                "pl_avail": "online", "pl_not_avail": "offline"}]
    assert payload["dev"]["ids"] == ["robot-agent-t"] and payload["o"]["name"] == "robot-agent"


def test_the_discovery_prefix_must_be_a_plain_topic() -> None:
    with pytest.raises(ConfigError) as err:
        make_config(1883, '\n[homeassistant]\ndiscovery_prefix = "ha/#"\n')
    assert err.value.problems[0].startswith("homeassistant.discovery_prefix:")


# ---- the daemon, on a real broker ------------------------------------------------------------

def retained(port: int, topic: str = "homeassistant/#", wait_s: float = 1.0) -> list[Any]:
    """What a client subscribing now is given (retained messages), as (topic, payload)."""
    fresh = connect_client(port, topic)
    try:
        wait_until(lambda: False, wait_s)
        fresh.forget()
        return [(t, p) for t, p, _ in fresh.history]
    finally:
        fresh.client.loop_stop()
        fresh.client.disconnect()


def on(client: Client, topic: str, since: int = 0) -> list[bytes]:
    """Every payload received on topic (after the first `since` messages)."""
    client.forget()  # moves everything received into history
    return [p for t, p, _ in client.history[since:] if t == topic]


def test_discovery_is_retained_and_told_again_when_home_assistant_starts(
        broker: Broker, client: Client, tmp_path: Path) -> None:
    running = start_daemon(make_config(broker.port, ENABLED), tmp_path / "state", client)
    try:
        [(topic, payload)] = retained(broker.port)
        assert topic == TOPIC
        assert json.loads(payload)["cmps"]["estop"]["command_topic"] == "robots/t/estop"
        before = len(on(client, TOPIC))
        client.publish("homeassistant/status", "online")
        assert wait_until(lambda: len(on(client, TOPIC)) == before + 1)
        client.publish("homeassistant/status", "offline")  # Home Assistant stopping: nothing
        assert not wait_until(lambda: len(on(client, TOPIC)) > before + 1, timeout=0.5)
    finally:
        running.stop()
    assert json.loads((tmp_path / "state" / MARKER).read_text()) == {"topic": TOPIC}


def test_switching_it_off_removes_it_and_then_publishes_nothing(
        broker: Broker, client: Client, tmp_path: Path) -> None:
    state = tmp_path / "state"
    start_daemon(make_config(broker.port, ENABLED), state, client).stop()
    assert [t for t, _ in retained(broker.port)] == [TOPIC]
    start_daemon(make_config(broker.port), state, client).stop()
    assert retained(broker.port) == []  # the empty retained message removed it
    assert b"" in on(client, TOPIC) and not (state / MARKER).exists()
    client.forget()
    seen = len(client.history)
    start_daemon(make_config(broker.port), state, client).stop()
    assert on(client, TOPIC, seen) == []  # nothing left to remove: nothing sent outside P


def test_a_daemon_that_never_enabled_it_publishes_nothing_outside_its_prefix(
        broker: Broker, client: Client, tmp_path: Path) -> None:
    start_daemon(make_config(broker.port), tmp_path / "state", client).stop()
    client.forget()
    assert not [t for t, _, _ in client.history if not t.startswith("robots/t/")]


def test_discovery_remove_clears_it_from_the_broker(broker: Broker, client: Client,
                                                    tmp_path: Path) -> None:
    state = tmp_path / "state"
    start_daemon(make_config(broker.port, ENABLED), state, client).stop()
    config = tmp_path / "robot.toml"
    config.write_text(BASE_CONFIG.format(port=broker.port) + ENABLED)
    shown = subprocess.run([sys.executable, "-m", "agent.cli", "discovery", "--config",
                            str(config)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert shown.returncode == 0 and shown.stdout.startswith(f"# {TOPIC} (retained")
    assert json.loads(shown.stdout.split("\n", 1)[1])["dev"]["name"] == "t"
    removed = subprocess.run([sys.executable, "-m", "agent.cli", "discovery", "--remove",
                              "--config", str(config)], capture_output=True, text=True, cwd=ROOT,
                             timeout=60, env={**os.environ, "ROBOT_AGENT_STATE_DIR": str(state)})
    assert removed.returncode == 0, removed.stderr
    assert f"removed {TOPIC}" in removed.stdout
    assert retained(broker.port) == [] and not (state / MARKER).exists()
