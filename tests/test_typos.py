"""A structured command with a typo is refused in the sender's terms, with the likely fix: an
unknown action, parameter, value or field gets "did you mean", never the validator's own
wording; a bound or a type says what the parameter takes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.core.spelling import closest
from tests.conftest import Broker, Client, Running
from tests.test_field import cli

VALIDATOR_WORDS = ("Additional properties", "was unexpected", "is not valid under",
                   "is a required property", "is not of type", "is greater than",
                   "is less than")


@pytest.mark.parametrize("action, params, reason, detail", [
    ("mvoe", {}, "unknown_action", "no action named 'mvoe' (did you mean move?); this robot "
                                   "has: lights_color, lights_off, move, stop, turn, water"),
    ("fly", {}, "unknown_action", "no action named 'fly'; this robot has: lights_color, "
                                  "lights_off, move, stop, turn, water"),
    ("move", {"distnce_m": 1}, "invalid_params",
     "move has no parameter 'distnce_m' (did you mean distance_m?); it takes direction, "
     "distance_m"),
    ("move", {"direction": "foward"}, "invalid_params",
     'direction "foward" is not one of forward, backward (did you mean forward?)'),
    ("move", {"distance_m": "far"}, "invalid_params",
     'distance_m must be a number from 0.05 to 2.5, not "far"'),
    ("move", {"distance_m": 5}, "out_of_bounds", "distance_m 5 is above its maximum of 2.5"),
    ("move", {"distance_m": 0.01}, "out_of_bounds",
     "distance_m 0.01 is below its minimum of 0.05"),
    ("turn", {"degrees": 90}, "invalid_params", "turn needs direction (one of left, right)"),
    ("lights_color", {"colour": "red"}, "invalid_params",
     "lights_color has no parameter 'colour' (did you mean color?); it takes color"),
])
def test_a_typo_is_refused_with_what_was_meant(daemon: Running, client: Client, action: str,
                                               params: dict[str, Any], reason: str,
                                               detail: str) -> None:
    client.publish("robots/t/cmd", {"id": f"typo-{action}-{len(params)}-{reason}",
                                    "action": action, "params": params})
    result = client.final(f"typo-{action}-{len(params)}-{reason}")
    assert (result["status"], result["reason"], result["detail"]) == ("refused", reason, detail)
    assert not any(words in result["detail"] for words in VALIDATOR_WORDS)


def test_a_mistyped_field_of_the_message_says_which_was_meant(daemon: Running,
                                                              client: Client) -> None:
    client.publish("robots/t/cmd", {"id": "f1", "action": "stop", "parms": {}})
    result = client.final("f1")
    assert (result["status"], result["reason"]) == ("refused", "malformed")
    assert result["detail"] == ("unknown fields: parms (did you mean params?); a message of "
                                "this kind takes action, id, params, reply_to, sig, ts")


def test_send_with_a_typo_says_what_went_wrong_in_words(daemon: Running, broker: Broker,
                                                        tmp_path: Path) -> None:
    done = cli(tmp_path, broker.port, "send", "move", "distnce_m=1")
    assert done.returncode == 1
    assert '"invalid_params"' in done.stdout  # the result, as JSON, for scripts
    assert done.stderr.strip() == ("refused, invalid_params: move has no parameter 'distnce_m' "
                                   "(did you mean distance_m?); it takes direction, distance_m")


def test_nothing_far_is_offered() -> None:
    assert closest("fly", ["move", "turn", "stop"]) is None
    assert closest("mvoe", ["move", "turn", "stop"]) == "move"
    assert closest(True, ["true"]) is None and closest(None, ["none"]) is None
