"""Against the real Home Assistant (scripts/setup-ha builds it in .venv-ha): every discovery
message validated by Home Assistant's own schema code, and one end-to-end run in which it
discovers the daemon from a real broker and its buttons work the robot.

Both skip, saying why, only when no Home Assistant venv exists (no Python 3.12/3.13 to build it
with); scripts/test builds it, so CI runs them.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from agent.config import Config
from agent.mqtt.homeassistant import UNIT_CLASSES, discovery_payload, discovery_topic
from tests.conftest import (
    ROOT,
    Broker,
    Client,
    free_port,
    make_config,
    start_daemon,
    wait_until,
)
from tests.ha_harness import HomeAssistant

HA_VENV = Path(os.environ.get("ROBOT_AGENT_HA_VENV") or ROOT / ".venv-ha")
pytestmark = pytest.mark.skipif(
    not (HA_VENV / "bin" / "hass").exists(),
    reason=f"no Home Assistant in {HA_VENV}: scripts/setup-ha builds it (needs Python 3.12+)")
ENABLED = "\n[homeassistant]\nenabled = true\n"


def every_sensor_kind() -> str:
    """A sensor for each unit the discovery maps, both percentages, a bool, an event and a
    camera."""
    units = {**{f"u{i}": unit for i, unit in enumerate(UNIT_CLASSES)}, "battery": "%",
             "soil_humidity": "%", "duty": "%", "plain": ""}
    text = "".join(f'[sensors.{name}]\ntopic = "robots/t/sensors/{name}"\nunit = "{unit}"\n'
                   for name, unit in units.items())
    return text + ('[sensors.bumper]\ntopic = "robots/t/sensors/bumper"\nkind = "bool"\n'
                   '[sensors.camera]\ntopic = "robots/t/events/camera"\nkind = "event"\n'
                   '[sensors.front_camera]\ntopic = "robots/t/camera/front"\nkind = "camera"\n')


def validated(payloads: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    items = [{"topic": topic, "payload": json.dumps(p)} for topic, p in payloads]
    done = subprocess.run([str(HA_VENV / "bin" / "python"), str(ROOT / "tests/ha_validate.py")],
                          input=json.dumps(items), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout)["results"])


def rover() -> Config:
    from agent.config import load_config

    return load_config(ROOT / "deploy/examples/rover.toml")


def test_every_discovery_message_passes_home_assistants_own_schemas() -> None:
    signed = make_config(1883).model_copy(update={"safety": make_config(1883).safety.model_copy(
        update={"require_signed_reset": True})})
    configs = [rover(), make_config(1883), make_config(1883, every_sensor_kind()), signed]
    payloads = [(discovery_topic(c), discovery_payload(c)) for c in configs]
    for (_, payload), result in zip(payloads, validated(payloads), strict=True):
        assert result["ok"], result["errors"]
        # Home Assistant drops a broken component silently: every one must have come through
        assert set(result["components"]) == set(payload["cmps"])
        assert result["components"]["estop"] == "button"
        assert result["components"]["estop_engaged"] == "binary_sensor"
    assert validated(payloads[2:3])[0]["components"]["sensor_front_camera"] == "camera"


SPOILED: dict[str, tuple[Any, str]] = {
    "a component without a unique_id": (lambda p: p["cmps"]["estop"].pop("unique_id"),
                                        "unique_id"),
    "no origin": (lambda p: p.pop("o"), "origin"),
    "a unit that does not fit": (lambda p: p["cmps"]["sensor_front"].update(
        unit_of_measurement="kg", device_class="distance"), "kg"),
    "a misspelt key": (lambda p: p["cmps"]["estop"].update(comand_topic="x"), "comand_topic"),
}


@pytest.fixture(scope="module")
def spoiled_results() -> dict[str, dict[str, Any]]:
    payloads = []
    for spoil, _ in SPOILED.values():
        payload = copy.deepcopy(discovery_payload(make_config(1883)))
        spoil(payload)
        payloads.append(("homeassistant/device/t/config", payload))
    return dict(zip(SPOILED, validated(payloads), strict=True))  # one Home Assistant import


@pytest.mark.parametrize("case", SPOILED)
def test_the_validator_refuses_what_home_assistant_would_drop(
        spoiled_results: dict[str, dict[str, Any]], case: str) -> None:
    result = spoiled_results[case]
    assert not result["ok"] and SPOILED[case][1] in " ".join(result["errors"])


@pytest.fixture
def home_assistant(broker: Broker, tmp_path: Path) -> Any:
    ha = HomeAssistant(HA_VENV, tmp_path, broker.port, free_port())
    try:
        ha.start()
        yield ha
    finally:
        ha.stop()


def results(client: Client, **match: Any) -> list[Any]:
    client.forget()
    found = []
    for topic, payload, _ in client.history:
        if topic == "robots/t/result":
            result = json.loads(payload)
            if all(result.get(k) == v for k, v in match.items()):
                found.append(result)
    return found


def test_home_assistant_discovers_the_robot_and_its_buttons_work_it(
        broker: Broker, client: Client, tmp_path: Path, home_assistant: HomeAssistant) -> None:
    config = make_config(broker.port, ENABLED)
    robot = start_daemon(config, tmp_path / "state", client)
    try:
        names = {"E-stop", "E-stop engaged", "Reset e-stop", "Move", "Stop", "Lights off", "Ask",
                 "Model", "Cloud", "Last decision"}
        entity = home_assistant.entities("t", names)
        assert home_assistant.state(entity["E-stop engaged"])["state"] == "off"
        assert home_assistant.state(entity["Model"])["state"] == "failed"  # tests load none

        home_assistant.call("button", "press", {"entity_id": entity["E-stop"]})
        assert wait_until(lambda: robot.daemon.latch.engaged, 10), "the e-stop did not latch"
        assert robot.daemon.latch.state.reason == "e-stop from Home Assistant"
        home_assistant.wait_state(entity["E-stop engaged"], "on")

        home_assistant.call("button", "press", {"entity_id": entity["Reset e-stop"]})
        assert wait_until(lambda: not robot.daemon.latch.engaged, 10), "the reset did not work"
        assert robot.daemon.latch.state.reason == "reset from Home Assistant"
        home_assistant.wait_state(entity["E-stop engaged"], "off")

        for _ in range(2):  # each press has an id of its own: the second is no duplicate
            home_assistant.call("button", "press", {"entity_id": entity["Lights off"]})
        assert wait_until(lambda: len(results(client, action="lights_off", status="done")) == 2,
                          10), results(client)
        ids = {r["id"] for r in results(client, action="lights_off")}
        assert len(ids) == 2 and all(i.startswith("ha-") for i in ids)

        client.publish("robots/t/sensors/front", "1.5")
        front = home_assistant.entities("t", {"Front"})["Front"]
        home_assistant.wait_state(front, "1.5")

        home_assistant.call("text", "set_value", {"entity_id": entity["Ask"],
                                                  "value": "turn right 45 degrees"})
        assert wait_until(lambda: results(client, action="turn", status="done"), 10)
        home_assistant.wait_state(entity["Last decision"], "execute turn")
    finally:
        robot.stop()
    home_assistant.wait_state(entity["E-stop"], "unavailable")  # the daemon's offline status
