"""Events read by the interpreter: the text another part of the stack publishes on an event
sensor ("someone is standing at the door") against what each reaction on that sensor `means`
("a person is at the front door"), with a confidence read off the evidence, as for requests.

Deterministic, like the matcher: words become concepts through the interpreter's lexicon plus
a few words for situations (people, doors, animals, parcels...). The model is not asked: a
model this small is no judge of meaning (docs/interpreter.md), and a reaction must never wait
behind an inference. The caller fires a reaction only at `model.execute_threshold` or above.

- 0.2: the event says no, not, nobody, gone, left (it did not happen, or ended);
- 0.97: every concept of the meaning, nothing else;
- 0.91: every concept of the meaning, and one more word;
- 0.92: every situation word of the meaning (person, door), at least half of its words and
  nothing else: only some of its other words unsaid ("front"), when no other reaction
  differs by just those words;
- 0.75: the same, but another reaction differs by just those words (either could be meant);
- otherwise 0.8 x the share of the meaning's concepts found.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.interpret._language import english
from agent.interpret._lexicon import FILLER, concept
from agent.interpret._text import tokens

_EN = english().events  # the words: agent/interpret/lang/en/events.toml
SITUATIONS: dict[str, str] = {name: " ".join(ws) for name, ws in _EN.situations.items()}
SITUATION_OF = {word: name for name, words in SITUATIONS.items() for word in words.split()}
# Words that only say something is there: "person detected", "someone is standing".
PRESENCE = frozenset(_EN.words.presence)
# Words that say it is not, or no longer: "nobody at the door", "the person left".
ABSENCE = frozenset(_EN.words.absence)


@dataclass(frozen=True)
class EventMatch:
    reaction: str
    confidence: float
    why: str


@dataclass(frozen=True)
class Meaning:
    reaction: str
    words: dict[str, str]  # each concept of the meaning and the word that says it
    situations: frozenset[str]  # the concepts the situation words give

    @property
    def concepts(self) -> frozenset[str]:
        return frozenset(self.words)


def event_concepts(text: str) -> dict[str, str]:
    """The concepts of a text's content words, each with the (first) word that says it."""
    found: dict[str, str] = {}
    for w in tokens(text):
        if w not in FILLER and w not in PRESENCE and not w[0].isdigit():
            found.setdefault(SITUATION_OF.get(w) or concept(w), w)
    return found


def says_not(text: str) -> bool:
    return any(w in ABSENCE or w.endswith("n't") for w in tokens(text))


class EventReader:
    def __init__(self, means: dict[str, tuple[str, str]]) -> None:
        """means: each event reaction's name -> (its sensor, what it means)."""
        self.by_sensor: dict[str, list[Meaning]] = {}
        for reaction, (sensor, text) in means.items():
            found = event_concepts(text)
            self.by_sensor.setdefault(sensor, []).append(
                Meaning(reaction, found, frozenset(c for c in found if c in SITUATIONS)))

    def read(self, sensor: str, text: str) -> list[EventMatch]:
        """How well the event fits each reaction on its sensor, best first."""
        meanings = self.by_sensor.get(sensor, [])
        if says_not(text):
            return [EventMatch(m.reaction, 0.2, "the event says no, not or gone: nothing to "
                               "react to") for m in meanings]
        said = event_concepts(text)
        relaxed = [m for m in meanings if self._relaxed(m, set(said))]
        matches = []
        for m in meanings:
            confidence, why = self._fit(m, said, relaxed)
            matches.append(EventMatch(m.reaction, confidence, why))
        return sorted(matches, key=lambda match: -match.confidence)

    @staticmethod
    def _relaxed(m: Meaning, said: set[str]) -> bool:
        """Every situation word of the meaning said, nothing else, and at least half of it:
        only some of its other words unsaid."""
        return (bool(m.situations) and m.situations <= said <= m.concepts
                and 2 * len(said) >= len(m.concepts))

    def _fit(self, m: Meaning, said: dict[str, str], relaxed: list[Meaning]
             ) -> tuple[float, str]:
        missing = m.concepts - set(said)
        extra = set(said) - m.concepts
        if not missing:
            if not extra:
                return 0.97, "every part of the meaning, nothing else"
            if len(extra) == 1:
                return 0.91, f"every part of the meaning, and {said[next(iter(extra))]!r}"
        elif m in relaxed:
            unsaid = ", ".join(repr(m.words[c]) for c in sorted(missing))
            others = [o.reaction for o in relaxed if o.concepts != m.concepts]
            if others:
                return 0.75, f"{unsaid} not said: as likely {' or '.join(others)}"
            return 0.92, f"the situation named; {unsaid} not said"
        share = len(m.concepts & set(said)) / max(1, len(m.concepts))
        return round(0.8 * share, 3), f"{share:.0%} of the meaning found"
