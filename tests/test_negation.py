"""Negation as grammar: every way the grammar knows to say "not" (a cue, a verb of avoiding or
refraining, a negative adverb), put before every request of a config, runs nothing; and its
scope ends where a new request is marked ("don't X, Y instead" runs Y). The sentences are
generated from the grammar's categories, so a new cue is measured here by one more line."""

from __future__ import annotations

from datetime import datetime

import pytest

from agent.config import load_config
from agent.interpret import Interpreter
from agent.safety.gate import Gate
from agent.text.decide import decide_statically
from tests.conftest import ROOT

NOW = datetime(2026, 12, 9, 10, 0).astimezone()
CONFIG = load_config(ROOT / "scripts/eval-data/home.toml")
INTERPRETER = Interpreter(CONFIG)
GATE = Gate.static(CONFIG)
# (imperative, gerund, noun phrase, the action it asks for)
REQUESTS = [
    ("turn left", "turning left", "the left turn", "turn"),
    ("turn on the kitchen lights", "turning on the kitchen lights", "the kitchen lights",
     "lights_on"),
    ("honk", "honking", "the horn", "honk"),
    ("start the vacuum", "starting the vacuum", "the vacuum", "vacuum_start"),
    ("open the door", "opening the door", "the door", "door_open"),
    ("drive forward one metre", "driving forward one metre", "the drive", "move"),
]
CUES = [
    "don't {imp}", "do not {imp}", "never {imp}", "please don't {imp}", "just don't {imp}",
    "let's not {imp}", "I'd rather you didn't {imp}", "you don't need to {imp}",
    "no need to {imp}", "there's no need to {imp}", "you'd better not {imp}",
    "better not {imp}", "I don't want you to {imp}", "you shouldn't {imp}",
    "you mustn't {imp}", "I wouldn't {imp}", "don't you dare {imp}", "not now, {imp} later",
]
REFRAINING = [
    "avoid {ing}", "refrain from {ing}", "hold off on {ing}", "skip {noun}",
    "quit {ing}", "forget about {noun}", "steer clear of {ing}", "please avoid {ing}",
    "could you avoid {ing}",
]
ADVERBS = [
    "by no means {imp}", "under no circumstances {imp}", "on no account {imp}",
    "in no way should you {imp}", "I can hardly think of a worse time to {imp}",
]
NEGATED = [(t.format(imp=imp, ing=ing, noun=noun), action)
           for imp, ing, noun, action in REQUESTS for t in CUES + REFRAINING + ADVERBS]
CONTRASTS = [
    "don't {a}, {b}", "don't {a}, {b} instead", "not {a}, {b}", "skip {noun_a} and just {b}",
    "avoid {ing_a}, just {b}", "never mind {noun_a}, {b}",
]


def decided(text: str) -> tuple[str, str | None]:
    out = decide_statically(INTERPRETER.interpret(text, NOW), CONFIG, GATE)
    return str(out.decision), out.action


def test_every_negation_the_grammar_knows_runs_nothing() -> None:
    ran = [(text, decided(text)) for text, _ in NEGATED
           if decided(text)[0] in ("execute", "plan", "schedule")]
    assert ran == [], f"{len(ran)} of {len(NEGATED)} ran something: {ran}"


@pytest.mark.parametrize("template", CONTRASTS)
def test_a_negation_ends_where_a_new_request_is_marked(template: str) -> None:
    wrong = []
    for (imp_a, ing_a, noun_a, _), (imp_b, _, _, action_b) in zip(
            REQUESTS, REQUESTS[1:] + REQUESTS[:1], strict=True):
        text = template.format(a=imp_a, b=imp_b, ing_a=ing_a, noun_a=noun_a)
        if decided(text) != ("execute", action_b):
            wrong.append((text, decided(text)))
    assert wrong == []


# A request taken back by what follows it: nothing runs ("turn left, no")
TAKEN_BACK = [
    "turn left, no", "turn left... no sorry", "turn left no wait", "open the door, wait",
    "honk, oops", "drive forward one metre then turn left, no wait",
    "start the vacuum, scratch that", "turn on the kitchen lights, actually",
]
# ...and "the other way" reverses it
OTHER_WAY = [
    ("turn left, no, the other way", "turn", "right"),
    ("turn right... sorry, the opposite direction", "turn", "left"),
    ("drive forward one metre, no wait, the other way", "move", "backward"),
    ("turn left, actually the other way", "turn", "right"),
]


@pytest.mark.parametrize("text", TAKEN_BACK)
def test_a_request_taken_back_runs_nothing(text: str) -> None:
    assert decided(text)[0] == "none", text


@pytest.mark.parametrize(("text", "action", "direction"), OTHER_WAY)
def test_the_other_way_reverses_what_was_taken_back(text: str, action: str,
                                                    direction: str) -> None:
    out = decide_statically(INTERPRETER.interpret(text, NOW), CONFIG, GATE)
    assert (str(out.decision), out.action, out.params.get("direction")) == (
        "execute", action, direction), out


@pytest.mark.parametrize(("text", "action"), [
    ("start the vacuum, no beeping", "vacuum_start"),  # a "no" of its own, not a taking back
    ("no, turn on the kitchen lights", "lights_on"),  # said first: only a lead-in
])
def test_a_no_that_takes_nothing_back(text: str, action: str) -> None:
    assert decided(text) == ("execute", action)
