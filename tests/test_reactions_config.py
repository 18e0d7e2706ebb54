"""[reactions] in the config: every wrong form named by key path; and the event reader that
decides which reactions an event's text fits."""

from __future__ import annotations

import tomllib

import pytest

from agent.config import ConfigError, parse_config
from agent.interpret import EventReader
from tests.conftest import BASE_CONFIG

SENSORS = """
[sensors.bumper]
topic = "robots/t/sensors/bumper"
kind = "bool"
[sensors.battery]
topic = "robots/t/sensors/battery"
unit = "%"
[sensors.camera]
topic = "robots/t/events/camera"
kind = "event"
"""

BAD = {
    "when = { sensor = 'nope', below = 1, clear = 2 }\ndo = { action = 'stop' }":
        "reactions.r.when.sensor: no sensor named 'nope' in [sensors]",
    "when = { sensor = 'bumper', below = 1, clear = 2 }\ndo = { action = 'stop' }":
        "reactions.r.when.below: bumper is a bool sensor; below needs a number sensor (use "
        "equals)",
    "when = { sensor = 'battery', below = 15, clear = 10 }\ndo = { action = 'stop' }":
        "reactions.r.when.clear: must be above below (15), so a reading hovering at the line "
        "fires once",
    "when = { sensor = 'battery', above = 50, clear = 60 }\ndo = { action = 'stop' }":
        "reactions.r.when.clear: must be below above (50)",
    "when = { sensor = 'battery', below = 15 }\ndo = { action = 'stop' }":
        "reactions.r.when.clear: needed with below",
    "when = { sensor = 'battery', below = 15, above = 20, clear = 18 }\ndo = { action = 'stop' }":
        "reactions.r.when: give one of below, above or equals",
    "when = { sensor = 'bumper', equals = 1 }\ndo = { action = 'stop' }":
        "reactions.r.when.equals: bumper is a bool sensor",
    "when = { event = 'battery', means = 'x' }\ndo = { action = 'stop' }":
        "reactions.r.when.event: battery is a number sensor, not kind = \"event\"",
    "when = { event = 'camera', means = ' ' }\ndo = { action = 'stop' }":
        "reactions.r.when.means: say what the event means, in words",
    "when = { sensor = 'bumper', equals = true }\ndo = { action = 'fly' }":
        "reactions.r.do.action: no action named 'fly' in [actions]",
    "when = { sensor = 'bumper', equals = true }\ndo = { action = 'water' }":
        "reactions.r.do.action: water is high-risk",
    "when = { sensor = 'bumper', equals = true }\ndo = {}":
        'reactions.r.do: give either action = "..." or estop = true',
    "when = { sensor = 'bumper', equals = true }\ndo = { estop = true, params = { a = 1 } }":
        "reactions.r.do.params: engaging the e-stop takes no parameters",
    "when = { sensor = 'bumper', equals = true }\n"
    "do = { action = 'lights_color', params = { color = 'pink' } }":
        "reactions.r.do.params.color: 'pink' is not one of",
    "when = { sensor = 'bumper', equals = true }\ndo = { action = 'stop' }\n"
    "while_running = ['lights_off', 'nope']":
        "reactions.r.while_running.0: lights_off is never running",
    "when = { sensor = 'bumper', equals = true }\ndo = { action = 'stop' }\ncooldown_s = -1":
        "reactions.r.cooldown_s: Input should be greater than or equal to 0",
}


def parse(extra: str) -> None:
    parse_config(tomllib.loads(BASE_CONFIG.format(port=1883) + SENSORS + extra))


@pytest.mark.parametrize("reaction, expected", BAD.items())
def test_a_wrong_reaction_is_named_by_key_path(reaction: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(f"[reactions.r]\n{reaction}\n")
    assert any(p.startswith(expected) for p in err.value.problems), err.value.problems


def test_the_contract_examples_are_valid() -> None:
    parse("""
[actions.beep]
device = "lamp"
op = "color"
params.color = { enum = ["red", "green", "blue"] }
[reactions.low_battery]
when = { sensor = "battery", below = 15, clear = 20 }
do = { action = "beep", params = { color = "red" } }
cooldown_s = 60
[reactions.bumper_hit]
when = { sensor = "bumper", equals = true }
do = { estop = true }
[reactions.someone_at_door]
when = { event = "camera", means = "a person is at the front door" }
do = { action = "lights_color", params = { color = "green" } }
[reactions.too_close]
when = { sensor = "front", below = 0.3, clear = 0.4 }
while_running = ["move"]
do = { action = "stop" }
""")


DOORS = EventReader({"front_door": ("camera", "a person is at the front door"),
                     "parcel": ("camera", "a parcel was delivered")})


@pytest.mark.parametrize("text, fits", [
    ("someone is standing at the door", "front_door"),
    ("person detected at the front door", "front_door"),
    ("Somebody waiting at the front door", "front_door"),
    ("package delivered", "parcel"),
    ("motion in the garden", None),
    ("a cat is at the front door", None),
    ("nobody is at the front door", None),
    ("the person left the front door", None),
    ("battery low", None),
])
def test_an_event_fits_the_reaction_it_means_and_no_other(text: str, fits: str | None) -> None:
    fitting = [m.reaction for m in DOORS.read("camera", text) if m.confidence >= 0.9]
    assert fitting == ([fits] if fits else [])


def test_an_event_that_could_mean_either_of_two_fits_neither() -> None:
    reader = EventReader({"front": ("camera", "a person is at the front door"),
                          "back": ("camera", "a person is at the back door")})
    matches = reader.read("camera", "someone is at the door")
    assert all(m.confidence < 0.9 for m in matches)
    assert "as likely" in matches[0].why
    assert [m.reaction for m in reader.read("camera", "someone at the back door")
            if m.confidence >= 0.9] == ["back"]
