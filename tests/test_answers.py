"""State answers say what the picture says, with the facts, and a stale reading says so."""

from __future__ import annotations

from typing import Any

from agent.config import load_config
from agent.state.answers import answer
from tests.conftest import ROOT

CONFIG = load_config(ROOT / "scripts/eval-data/home-current.toml")


def state(**changes: Any) -> dict[str, Any]:
    picture: dict[str, Any] = {
        "estop": False,
        "devices": {"lights": {"kind": "rgb_led", "op": "color", "on": True,
                               "color": [0.0, 0.0, 1.0]},
                    "socket": {"kind": "relay", "op": "off", "on": False},
                    "wheels": {"kind": "robot", "op": "move", "left": 0.5, "right": 0.5},
                    "door": {"kind": "servo", "op": "angle", "angle": 90.0}},
        "sensors": {"front_distance": {"value": 0.82, "unit": "m", "age_s": 0.2, "fresh": True},
                    "battery": {"value": 71.0, "unit": "%", "age_s": 95.0, "fresh": False},
                    "door_contact": {"value": None, "unit": "", "age_s": None, "fresh": False}},
        "running": [{"action": "move", "device": "wheels", "params": {"distance_m": 1.0},
                     "ends_in_s": 2.5}],
    }
    picture.update(changes)
    return picture


def test_devices_are_described_by_their_state() -> None:
    said, facts = answer(CONFIG, state(), devices=["lights", "socket", "door"])
    assert said == ("The lights are on, blue. The socket is off (last operation: off). "
                    "The door is at 90°.")
    assert facts["devices"]["socket"]["on"] is False and facts["devices"]["lights"]["running"] == []


def test_what_runs_is_said_with_the_time_left() -> None:
    said, facts = answer(CONFIG, state(), devices=["wheels"], running=True)
    assert said == "The wheels are running move (2.5 s left). Running now: move (2.5 s left)."
    assert facts["running"][0]["action"] == "move"


def test_an_action_that_stays_on_has_no_time_left() -> None:
    lights = {"action": "lights_color", "device": "lights", "params": {}, "ends_in_s": None}
    said, _ = answer(CONFIG, state(running=[lights]), devices=["lights"], running=True)
    assert said == "The lights are on, blue. Running now: lights_color (stays on)."


def test_a_sensor_answer_says_its_age_and_a_stale_one_says_so() -> None:
    said, facts = answer(CONFIG, state(), sensors=["front_distance", "battery", "door_contact"])
    assert "The front distance is 0.82 m (read 0.2 s ago)." in said
    assert "There is no fresh reading from battery: the last was 71 %, 95.0 s ago." in said
    assert "There is no usable reading from door contact yet." in said
    assert facts["sensors"]["front_distance"] == {"value": 0.82, "unit": "m", "age_s": 0.2,
                                                  "fresh": True}


def test_an_engaged_estop_comes_first() -> None:
    said, facts = answer(CONFIG, state(estop=True), devices=["socket"])
    assert said.startswith("The e-stop is engaged") and facts["estop"] is True
