"""A likely typo of a word the interpreter knows is read as that word, and what it reads is
asked back before anything runs ("did you mean"); a real word is never "corrected" into
another, and a typo of a stop word stops."""

from __future__ import annotations

from datetime import datetime

import pytest

from agent.config import load_config
from agent.interpret import Interpreter
from agent.safety.gate import Gate
from agent.text.decide import decide_statically
from tests.conftest import ROOT

NOW = datetime(2026, 12, 9, 10, 0).astimezone()
CONFIG = load_config(ROOT / "deploy/examples/rover.toml")
INTERPRETER = Interpreter(CONFIG)


@pytest.mark.parametrize("text, action", [
    ("tunr left 45 degres", "turn"), ("trun rihgt 90 degrees", "turn"),
    ("go forwad one meter", "move"), ("headlihgt on", "headlight_on"),
])
def test_a_typo_is_asked_back_naming_what_it_would_do(text: str, action: str) -> None:
    out = decide_statically(INTERPRETER.interpret(text, NOW), CONFIG, Gate.static(CONFIG))
    assert (out.decision, out.action) == ("none", action), out
    assert "Did you mean" in out.extra["question"] and "I read" in out.extra["question"]


@pytest.mark.parametrize("text", ["it is hard to see, headlight on", "chase the cat",
                                  "the road is getting dark, headlight on"])
def test_a_real_word_is_not_read_as_another(text: str) -> None:
    assert "I read" not in str(INTERPRETER.interpret(text, NOW).question)


def test_a_typo_of_a_stop_stops_without_a_question() -> None:
    out = decide_statically(INTERPRETER.interpret("stpo!", NOW), CONFIG, Gate.static(CONFIG))
    assert (out.decision, out.action) == ("execute", "stop")
