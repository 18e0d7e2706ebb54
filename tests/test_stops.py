"""Every stop stops: a stop phrase (a word, an idiom, slang, repetition, a likely typo) wrapped in
any form the interpreter knows (reported speech, politeness, a question, a condition, a time, a
long preamble, a negation of something else) executes the robot's stop, now. Only a negation
of the stop itself does not stop, nor a stop of something that is positively not motion."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import load_config
from agent.interpret import Interpreter
from agent.safety.gate import Gate
from agent.text.decide import decide_statically
from tests.conftest import ROOT

NOW = datetime(2026, 12, 9, 10, 0).astimezone()
CONFIGS = [ROOT / "deploy/examples/rover.toml", ROOT / "scripts/eval-data/home.toml",
           ROOT / "scripts/eval-data/workshop.toml"]
# Ours: words, idioms, slang, repetition, typos.
STOPS = [
    "stop", "STOP!", "halt", "freeze", "whoa", "whoa whoa whoa", "stop stop stop",
    "no no no stop", "stop now", "stop it", "stop right there", "stop moving", "stop driving",
    "stop the robot", "emergency stop", "e-stop", "hit the brakes", "brake!",
    "slam the brakes", "cut the motors", "kill the engine", "that's enough", "that is enough",
    "enough already, stop", "hold it", "hold on", "hang on", "hold your horses", "pause",
    "stand still", "stay put", "stay still", "knock it off", "cut it out", "quit it", "abort",
    "cease", "stpo", "sotp", "haltt", "stopp", "tsop", "frezee", "stop the music and the robot",
    "stop the car", "stop start the juice",
]
WRAPPERS = [
    "{s}", "{s}!", "{s}.", "please {s}", "{s} please", "{s}, please", "could you please {s}",
    "can you {s}?", "would you {s}", "would you mind, {s}", "robot, {s}", "hey robot {s}",
    "{s}, he said so", "my kid said {s}", "please {s}, my boss said so",
    "the manager says {s} right now", "I said {s}", "{s} in ten minutes", "{s} at 7 pm",
    "{s} immediately", "if you can, {s}", "if the wall is close, {s}",
    "ok so I was going to ask about the lights but honestly right now just {s}",
    "don't turn left, {s}", "no, {s}", "wait, {s}", "{s} and turn the lights off",
    "turn left then {s}", "{s} {s}", "um uh {s}", "why don't you {s}", "I need you to {s}",
    "{s}?", "{s}, thanks",
]
NOT_STOPS = [
    "don't stop", "do not stop", "please don't stop", "never stop", "no need to stop",
    "you don't have to stop", "stop the music", "stop play", "stop the radio please",
    "stop the timer", "stop yourself from driving into the wall",
    "where's the nearest bus stop",
]


def interpreters() -> list[tuple[Interpreter, Any, Gate]]:
    out = []
    for path in CONFIGS:
        config = load_config(path)
        out.append((Interpreter(config), config, Gate.static(config)))
    return out


READERS = interpreters()


def decided(text: str, which: int) -> Any:
    interpreter, config, gate = READERS[which]
    return decide_statically(interpreter.interpret(text, NOW), config, gate), interpreter


@pytest.mark.parametrize("which", range(len(CONFIGS)))
def test_every_stop_phrase_in_every_wrapper_stops(which: int) -> None:
    missed = []
    for stop in STOPS:
        for wrapper in WRAPPERS:
            text = wrapper.format(s=stop)
            out, interpreter = decided(text, which)
            if (out.decision, out.action) != ("execute", interpreter.stop_action):
                missed.append(f"{text!r} -> {out.decision}/{out.action}")
            elif not interpreter.is_stop_text(text):
                missed.append(f"{text!r} does not jump the queue")
    assert missed == [], missed


@settings(max_examples=300, deadline=None)
@given(stop=st.sampled_from(STOPS), outer=st.sampled_from(WRAPPERS),
       inner=st.sampled_from(WRAPPERS), which=st.integers(0, len(CONFIGS) - 1),
       upper=st.booleans())
def test_a_stop_wrapped_twice_still_stops(stop: str, outer: str, inner: str, which: int,
                                          upper: bool) -> None:
    text = outer.format(s=inner.format(s=stop))
    text = text.upper() if upper else text
    out, interpreter = decided(text, which)
    assert (out.decision, out.action) == ("execute", interpreter.stop_action), text


@pytest.mark.parametrize("text", NOT_STOPS)
def test_a_negated_stop_or_a_stop_of_something_else_does_not_stop(text: str) -> None:
    out, interpreter = decided(text, 1)
    assert out.decision not in ("execute", "plan", "schedule"), (text, out)
    assert not interpreter.is_stop_text(text)


def test_a_stop_with_a_time_stops_now_and_says_so() -> None:
    out, _ = decided("stop in ten minutes", 0)
    assert (out.decision, out.action) == ("execute", "stop")
    assert "never scheduled" in out.detail


@pytest.mark.parametrize("word", ["shop", "step", "half", "top", "salt", "hat", "spot", "post",
                                  "tops", "pots"])
def test_a_real_word_near_a_stop_word_is_no_stop(word: str) -> None:
    interpreter = READERS[0][0]
    assert not interpreter.is_stop_text(f"drive to the {word}")


def test_a_moving_part_with_its_own_off_is_what_stop_names() -> None:
    """"stop the fan" of a fan on a motor is the fan's off, not the wheels'; a moving part with
    no stop of its own ("stop the conveyor") still stops the wheels rather than nothing."""
    flat = load_config(ROOT / "scripts/eval-data/heldout/set-f/flat-helper.toml")
    out = decide_statically(Interpreter(flat).interpret("stop the fan", NOW), flat,
                            Gate.static(flat))
    assert (str(out.decision), out.action) == ("execute", "fan_off"), out
    out, interpreter = decided("stop the conveyor", 2)  # the workshop
    assert (str(out.decision), out.action) == ("execute", interpreter.stop_action), out
