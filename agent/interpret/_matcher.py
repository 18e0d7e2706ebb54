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
from agent.interpret._lexicon import (
    KIND_CONCEPTS,
    OP_CONCEPTS,
    OPERATION_CONCEPTS,
    SAME_OPERATION,
    concept,
    concepts,
)
from agent.interpret._text import tokens


@dataclass(frozen=True)
class Profile:
    action: str
    operation: str  # the concept of the action's op
    concepts: frozenset[str]
    examples: tuple[tuple[str, ...], ...]  # concept sequences of the examples


@dataclass(frozen=True)
class Match:
    action: str
    score: float
    operation_matched: bool
    thing_matched: bool
    exact_example: bool


class Matcher:
    def __init__(self, config: Config) -> None:
        self.profiles: list[Profile] = []
        for name, action in config.actions.items():
            device = config.devices[action.device]
            words = tokens(name.replace("_", " "))
            for spec in action.params.values():
                words += [w for value in spec.enum or [] for w in tokens(str(value))]
            examples = tuple(tuple(concepts(tokens(e))) for e in action.examples)
            # A description says what the action acts on; its verbs ("turn on the spot")
            # are not reliable operations, the op itself is.
            # A device's name ("drive") is no operation either.
            described = {c for c in concepts(tokens(action.description) +
                                             tokens(action.device.replace("_", " ")))
                         if c not in OPERATION_CONCEPTS}
            found = set(concepts(words)) | described | {c for e in examples for c in e}
            operation = OP_CONCEPTS.get(action.op, concept(action.op))
            found |= {operation}
            if device.kind in KIND_CONCEPTS:
                found.add(KIND_CONCEPTS[device.kind])
            self.profiles.append(Profile(name, operation, frozenset(found), examples))
        self.by_name = {p.action: p for p in self.profiles}
        df = Counter(c for p in self.profiles for c in p.concepts)
        n = len(self.profiles)
        self.weight = {c: math.log(1 + n / k) for c, k in df.items()}

    def profile(self, action: str) -> Profile:
        return self.by_name[action]

    def operation_is_unique(self, operation: str) -> bool:
        """No other action's profile has this operation concept."""
        return sum(operation in p.concepts for p in self.profiles) == 1

    def things_of_other_actions(self, action: str, query: list[str]) -> set[str]:
        """Concepts of the request that only other actions have, and that name a thing (not an
        operation): the request is about something else too."""
        mine = self.by_name[action].concepts
        return {c for c in query if c not in OPERATION_CONCEPTS and c not in mine and
                any(c in p.concepts for p in self.profiles if p.action != action)}

    def rank(self, text: str) -> list[Match]:
        """Actions sharing anything with the request, best first."""
        query = concepts(tokens(text))
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
                bool(query) and tuple(query) in p.examples))
        return sorted(matches, key=lambda m: -m.score)
