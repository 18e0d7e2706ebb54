"""Deterministic matching of a request to the config's actions, by shared concepts.

Each action gets a profile of concepts taken from the config alone: its name, description,
examples, device name and kind, operation and enum values. A request scores against a profile
by the weight of the concepts they share (rarer across actions = heavier), minus the weight of
operations the request asks for that the action does not do.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from agent.config import Config
from agent.devices import kind_of
from agent.interpret._lexicon import (
    ASSISTANT_NAMES,
    COLOUR_WORDS,
    GENERIC_DEVICES,
    NUMBER_WORDS,
    OP_CONCEPTS,
    OPERATION_CONCEPTS,
    PLACES,
    SAME_OPERATION,
    VALUE_SYNONYMS,
    concept,
    concepts,
    said,
)
from agent.interpret._slots import takes
from agent.interpret._text import UNITS, tokens, without_asides


@dataclass(frozen=True)
class Profile:
    action: str
    operation: str  # the concept of the action's op
    concepts: frozenset[str]
    examples: tuple[tuple[str, ...], ...]  # the examples' words (said())
    device: frozenset[str]  # the concepts of the device's own name
    values: frozenset[str]  # the concepts of its parameters' values
    takes_colour_as_result: bool  # its device's kind takes "make the room blue"


@dataclass(frozen=True)
class Match:
    action: str
    score: float
    operation_matched: bool
    thing_matched: bool
    exact_example: bool
    device_named: bool
    object_named: bool  # a thing it acts on, not only one of its parameter values

    @property
    def standing(self) -> tuple[float, bool, bool]:
        """What ranks it: shared concepts, then its own operation asked, then its device named
        ("turn the heater on": the heater's on, not the glue gun's "heat"). Equal: a tie."""
        return round(self.score, 9), self.operation_matched, self.device_named


# Where a device is, a word for any device, or a name for the assistant: evidence only for an
# action that says it
UNSAID = frozenset(concept(w) for w in PLACES | GENERIC_DEVICES | set(ASSISTANT_NAMES))


class Matcher:
    def __init__(self, config: Config) -> None:
        self.profiles: list[Profile] = []
        for name, action in config.actions.items():
            device = config.devices[action.device]
            words = tokens(name.replace("_", " "))
            values = [w for spec in action.params.values() for value in spec.enum or []
                      for w in tokens(str(value))]
            words += values
            examples = tuple(said(tokens(e)) for e in action.examples)
            # A description says what the action acts on; its verbs ("turn on the spot")
            # are not reliable operations, the op itself is.
            # A device's name ("drive") is no operation either.
            described = {c for c in concepts(tokens(without_asides(action.description)) +
                                             tokens(action.device.replace("_", " ")) +
                                             tokens(without_asides(device.description)) +
                                             tokens(device.room))
                         if c not in OPERATION_CONCEPTS}
            found = set(concepts(words)) | described | {
                c for e in action.examples for c in concepts(tokens(e))}
            operation = OP_CONCEPTS.get(action.op, concept(action.op))
            found |= {operation}
            kind = kind_of(device.kind)
            if kind.concept:
                found.add(kind.concept)
            own = {c for c in concepts(tokens(action.device.replace("_", " ")))
                   if c not in OPERATION_CONCEPTS}
            self.profiles.append(Profile(name, operation, frozenset(found), examples,
                                         frozenset(own), frozenset(concepts(values)),
                                         kind.takes_colour_as_result))
        self.by_name = {p.action: p for p in self.profiles}
        self.levels = {name for name, a in config.actions.items() if "percent" in takes(a)}
        self.queries: dict[tuple[str, ...], list[str]] = {}  # a request is read many times
        self.value_words = {w for a in config.actions.values() for spec in a.params.values()
                            for value in spec.enum or [] for v in tokens(str(value))
                            for w in (v, *VALUE_SYNONYMS.get(v, ()))}
        # Actions whose operation needs an amount (a distance, an angle...): "go" alone says
        # none, and a default is no answer to what was not asked.
        self.needs_amounts = {name for name, a in config.actions.items()
                              if (spec := kind_of(config.devices[a.device].kind).op_spec(a.op))
                              and spec.required}
        df = Counter(c for p in self.profiles for c in p.concepts)
        n = len(self.profiles)
        self.weight = {c: math.log(1 + n / k) for c, k in df.items()}

    def profile(self, action: str) -> Profile:
        return self.by_name[action]

    def operation_is_unique(self, operation: str) -> bool:
        """Only one action does this operation ("drive backward" where the belt's direction
        also says backward: only the cart drives)."""
        return sum(p.operation == operation or {p.operation, operation} == {"on", "start"}
                   for p in self.profiles) == 1

    def things_of_other_actions(self, action: str, query: list[str]) -> set[str]:
        """Concepts of the request that only other actions have, and that name a thing (not an
        operation): the request is about something else too."""
        mine = self.by_name[action].concepts
        return {c for c in query if c not in OPERATION_CONCEPTS and c not in mine and
                any(c in p.concepts for p in self.profiles if p.action != action)}

    def has_values(self, words: list[str]) -> bool:
        """The request says a number, a unit or an enum value: more than an operation."""
        return any(w[0].isdigit() or w in NUMBER_WORDS or w in UNITS or w in self.value_words
                   for w in words)

    def known(self, concept: str) -> bool:
        """Some action's profile has this concept."""
        return concept in self.weight

    def query(self, words: list[str]) -> list[str]:
        """The concepts of a request; a place or a word for any device that no action mentions
        ("in the living room", "the coffee machine") is no evidence either way."""
        key = tuple(words)
        if key not in self.queries:
            if len(self.queries) > 256:
                self.queries.clear()
            # "put the fan on low", "the ring on blue": "on" before a value is no operation
            said = [w for i, w in enumerate(words)
                    if not (w == "on" and i + 1 < len(words) and
                            words[i + 1] in self.value_words | COLOUR_WORDS)]
            self.queries[key] = [c for c in concepts(said)
                                 if c in self.weight or c not in UNSAID]
        return self.queries[key]

    def rank(self, words: list[str]) -> list[Match]:
        """Actions sharing anything with the request, best first (an exact example first
        among equals)."""
        query = self.query(words)
        words_said = said(words)
        asked_ops = {c for c in query if c in OPERATION_CONCEPTS}
        matches = []
        for p in self.profiles:
            shared = [c for c in set(query) if c in p.concepts]
            if not shared:
                continue
            score = sum(self.weight[c] for c in shared)
            score -= sum(self.weight.get(c, 1.0) for c in asked_ops
                         if c not in p.concepts and SAME_OPERATION.get(c) != p.operation)
            matches.append(Match(
                p.action, score,
                p.operation in query or SAME_OPERATION.get(p.operation) in query,
                any(c not in OPERATION_CONCEPTS for c in shared),
                bool(words) and words_said in p.examples,
                bool(p.device & set(query)),
                any(c not in OPERATION_CONCEPTS and c not in p.values for c in shared)))
        return sorted(matches, key=lambda m: (m.standing, m.exact_example), reverse=True)
