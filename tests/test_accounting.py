"""Every content word accounted for (agent/interpret/_accounting.py): what the words name that
this robot lacks is asked back, reason not_here, naming what it has; a word the interpreter does
not know is asked back by its measured confidence; a value out of bounds is the gate's
out_of_bounds. Nothing here runs anything it should not."""

from __future__ import annotations

import tomllib
from datetime import datetime
from typing import Any

import pytest

from agent.config import Config, parse_config
from agent.interpret import Interpreter
from agent.interpret._lexicon import ROOMS, concept
from agent.safety.gate import Gate
from agent.text.decide import decide_statically

NOW = datetime(2026, 12, 9, 10, 0).astimezone()
# A flat's robot: a strip light in the kitchen, a reading lamp in the study, a buzzer, wheels
FLAT = """policy_version = "test-accounting-1"

[device]
id = "rolly"
class = "raspberry_pi_4"

[mqtt]
host = "127.0.0.1"
port = 1883
prefix = "flat/rolly"

[gpio]
pin_factory = "mock"

[safety]
estop_button_pin = 0

[sensors.front_distance]
topic = "flat/rolly/front"
unit = "m"
max_age_s = 1.0

[devices.drive]
kind = "robot"
left = [4, 14]
right = [17, 18]
speed_mps = 0.2
turn_dps = 90

[devices.strip]
kind = "led"
pin = 21
room = "kitchen"
description = "the LED strip under the cupboards"

[devices.reading_lamp]
kind = "led"
pin = 20
room = "study"

[devices.buzzer]
kind = "buzzer"
pin = 22

[actions.move]
description = "drive forward or backward by a distance"
device = "drive"
op = "move"
params.direction = { enum = ["forward", "backward"], default = "forward" }
params.distance_m = { type = "number", minimum = 0.05, maximum = 2.0 }
[[actions.move.interlocks]]
sensor = "front_distance"
min = 0.3
when = { direction = "forward" }

[actions.stop]
description = "stop moving"
device = "drive"
op = "stop"

[actions.strip_on]
description = "switch the kitchen strip light on"
device = "strip"
op = "on"
stays_on = true

[actions.strip_off]
description = "switch the kitchen strip light off"
device = "strip"
op = "off"

[actions.lamp_on]
description = "switch the reading lamp on"
device = "reading_lamp"
op = "on"
stays_on = true

[actions.beep]
description = "beep the buzzer"
device = "buzzer"
op = "beep"
"""


def flat(without_rooms: bool = False) -> Config:
    raw = tomllib.loads(FLAT)
    if without_rooms:
        for device in raw["devices"].values():
            device.pop("room", None)
        raw["actions"]["strip_on"]["description"] = "switch the strip light on"
        raw["actions"]["strip_off"]["description"] = "switch the strip light off"
    return parse_config(raw)


def decided(config: Config, text: str) -> Any:
    return decide_statically(Interpreter(config).interpret(text, NOW), config,
                             Gate.static(config))


@pytest.mark.parametrize("room", sorted(r for r in ROOMS if concept(r) not in
                                        {concept("kitchen"), concept("study")}))
def test_a_room_with_no_such_device_is_asked_back_naming_what_there_is(room: str) -> None:
    out = decided(flat(), f"turn on the {room} light")
    assert (str(out.decision), str(out.reason)) == ("none", "not_here"), out
    assert out.extra["question"].startswith(f"I have no light in the {room}"), out
    assert "the strip (kitchen)" in out.extra["question"]


@pytest.mark.parametrize(("text", "action"), [
    ("turn on the kitchen light", "strip_on"),
    ("switch on the light in the kitchen", "strip_on"),
    ("turn on the lamp in the study", "lamp_on"),
    ("turn on the lamp", "lamp_on"),  # the reading lamp is called a lamp; the strip is not
])
def test_a_room_where_the_device_is_runs_it(text: str, action: str) -> None:
    out = decided(flat(), text)
    assert (str(out.decision), out.action) == ("execute", action), out


def test_a_room_of_two_words_is_said_as_two() -> None:
    out = decided(flat(), "switch on the light in the living room")
    assert out.extra["question"].startswith("I have no light in the living room:"), out


def test_without_rooms_in_the_config_a_room_word_is_no_evidence_either_way() -> None:
    out = decided(flat(without_rooms=True), "turn on the bedroom strip")
    assert (str(out.decision), out.action) == ("execute", "strip_on"), out


def test_two_devices_of_the_same_kind_of_thing_are_asked_which() -> None:
    out = decided(flat(), "turn on the light")
    assert str(out.decision) == "none"
    assert out.extra["question"] == ("Which do you mean: the strip (kitchen) or the reading "
                                     "lamp (study)?")


@pytest.mark.parametrize(("text", "says"), [
    ("turn on the fan", "There is no fan here. This robot has: buzzer, drive, reading lamp"),
    ("drive to the kitchen", "I cannot go to the kitchen: I move by a distance"),
    ("kitchen light on to seven", "I heard seven, but strip on takes no number"),
])
def test_what_the_robot_lacks_is_asked_back_not_here(text: str, says: str) -> None:
    out = decided(flat(), text)
    assert (str(out.decision), str(out.reason)) == ("none", "not_here"), out
    assert out.extra["question"].startswith(says), out.extra["question"]


@pytest.mark.parametrize("text", ["turn on the closet light", "switch on the disco light",
                                  "make the kitchen light purple", "tunr on the lamp"])
def test_a_word_the_interpreter_cannot_place_is_asked_back(text: str) -> None:
    out = decided(flat(), text)
    assert str(out.decision) in ("none", "refuse"), out


def test_a_value_out_of_bounds_is_the_gates_refusal() -> None:
    out = decided(flat(), "go forward 50 metres")
    assert (str(out.decision), str(out.reason)) == ("refuse", "out_of_bounds"), out
