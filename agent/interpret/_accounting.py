"""Every content word of a request accounted for, once the matcher has chosen an action.

A word is explained by the chosen action (its name, operation, device, kind, description,
examples, values), by the grammar (form, time, numbers and units: cut or skipped before here),
or by the closed list of fillers. What remains is one of two things:

- a word the interpreter knows to name something this robot lacks: a room the config places
  none of the asked device in, a destination for a robot that moves only by distances, a
  device or object no action names (a fan, a tv, a kettle), a colour the action cannot take.
  The request is asked back (reason `not_here`), naming what the robot has: a hard rule;
- a word the interpreter does not know at all ("bathe", "seedlings"): counted, and the kind of
  evidence carries it (`..._unexplained`), so its cost in confidence is measured by
  scripts/calibrate.py, not set here.

Rooms count only when the config places its devices (a device's `room`, or a room word in a
device's or action's name, description or examples); otherwise a room word is no evidence
either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.config import Config
from agent.devices import kind_of
from agent.interpret._language import english
from agent.interpret._lexicon import (
    AMOUNT_WORDS,
    ASSISTANT_NAMES,
    COLOUR_WORDS,
    COMPARATIVES,
    CONCEPT_OF,
    FILLER,
    GENERIC_DEVICES,
    OBJECTS,
    OPERATION_CONCEPTS,
    PHRASES,
    PLACES,
    ROOMS,
    SAME_OPERATION,
    STATES,
    SWITCH_WORDS,
    THINGS,
    TURN_WORDS,
    VALUE_SYNONYMS,
    concept,
    rephrase,
    spoken_forms,
)
from agent.interpret._matcher import Matcher
from agent.interpret._slots import ANY_VALUE, CHANGE_VERBS, LEVEL_WORDS, MEANT_VALUE
from agent.interpret._text import UNITS, quantities, stem, tokens, without_asides
from agent.interpret._time import CUE_PATTERNS

_EN = english()
# Words a request may hold besides its content: interjections, discourse, stops (read before)
DISCOURSE = frozenset(_EN.lexicon.words.discourse) | frozenset(_EN.stops.words)
MEASURES = frozenset(_EN.lexicon.words.measures)  # things a sensor measures, not a device
DEVICE_THINGS = frozenset(THINGS) - MEASURES  # "coffee", "plug": what a device is for
TIME_WORDS = frozenset(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", "january", "february", "march", "april", "june", "july", "august", "september",
    "october", "november", "december", "tomorrow", "today", "tonight", "morning", "afternoon",
    "evening", "night", "noon", "midnight", "daily", "weekly", "hourly", "later",))
DESTINATION = re.compile(r"\b(?:to|into|towards?|over to|up to|round to|back to)\s+(?:the\s+|my\s+"
                         r"|our\s+|your\s+)?(\w+)")


@dataclass(frozen=True)
class Accounting:
    lacks: str = ""  # the question that names what the robot lacks (not_here), or ""
    unknown: tuple[str, ...] = ()  # words the interpreter does not know at all
    which: str = ""  # the question when the words fit more than one device equally


def _humane(name: str) -> str:
    return name.replace("_", " ")


class Accountant:
    def __init__(self, config: Config, matcher: Matcher) -> None:
        self.config = config
        self.matcher = matcher
        self.rooms: dict[str, set[str]] = {}  # device -> the room concepts it is placed by
        self.where: dict[str, str] = {}  # device -> its room, as the config says it
        vocabulary: list[str] = []
        for name, device in config.devices.items():
            said = tokens(_humane(name)) + tokens(without_asides(device.description))
            own = [a for a in config.actions.values() if a.device == name]
            for action in own:
                said += tokens(without_asides(action.description))
                for example in action.examples:
                    said += tokens(example)
            placed = {w for w in said if w in ROOMS} | set(tokens(device.room))
            self.rooms[name] = {concept(w) for w in placed}
            self.where[name] = device.room or " ".join(sorted(placed))
            vocabulary += said + tokens(device.room) + tokens(_humane(device.kind))
        for name, action in config.actions.items():
            vocabulary += tokens(_humane(name)) + [
                w for spec in action.params.values() for v in spec.enum or []
                for form in spoken_forms(str(v)) for w in tokens(form)] + [
                w for p in action.params for w in tokens(_humane(p))]
        self.words = set(vocabulary)  # as written: what the speller knows of the config
        self.vocabulary = {stem(w) for w in vocabulary} | {concept(w) for w in vocabulary}
        self.placed = any(self.rooms.values())
        self.device_concepts: dict[str, set[str]] = {d: set() for d in config.devices}
        for profile in matcher.profiles:
            self.device_concepts[config.actions[profile.action].device] |= profile.concepts
        self.room_words = {w for words in self.rooms.values() for w in words}

    def account(self, words: list[str], action: str) -> Accounting:
        config = self.config.actions[action]
        device = self.config.devices[config.device]
        profile = self.matcher.profile(action)
        said = rephrase(words)
        lacks = (self._destination(said, device.kind) or self._room(words, said, config.device)
                 or self._object(said, profile.concepts) or self._colour(said, action)
                 or self._number(said, action))
        if lacks:
            return Accounting(lacks)
        unknown = tuple(dict.fromkeys(w for w in self._content(said) if not self._known(w)))
        return Accounting(unknown=unknown, which=self._which(words, action))

    def content_words(self) -> set[str]:
        """The words that name what to do, to what, how much: a typo is read as one of these
        (agent/interpret/_speller.py), never as a filler ("getting" is no "setting")."""
        return (set(CONCEPT_OF) | PLACES | OBJECTS | COLOUR_WORDS | set(UNITS) | AMOUNT_WORDS
                | {w for ws in VALUE_SYNONYMS.values() for w in ws} | TIME_WORDS
                | self.words) - FILLER - DISCOURSE - set(english().stops.phrases)

    def known_words(self) -> set[str]:
        """Every word the interpreter knows, as written: the content words and the fillers,
        discourse and cues around them."""
        data = english()
        cues = " ".join([data.forms.model_dump_json(), *data.stops.phrases,
                         *CUE_PATTERNS.values()])
        return (self.content_words() | FILLER | DISCOURSE | GENERIC_DEVICES | MEASURES
                | SWITCH_WORDS | TURN_WORDS | set(STATES) | set(ASSISTANT_NAMES)
                | set(COMPARATIVES.split()) | set(re.findall(r"[a-z]{3,}", cues)))

    def says_nothing(self, words: list[str]) -> bool:
        """Only discourse and fillers: "uh", "can you like"."""
        return all(w in FILLER or w in DISCOURSE for w in words)

    def _which(self, words: list[str], action: str) -> str:
        """"Turn on the light" to a robot with two lights: which? The things said fit
        several devices, and nothing said (its name, its room) names this one rather than the
        others. The robot's own motion needs no name: "turn right" turns the robot."""
        device = self.config.actions[action].device
        if kind_of(self.config.devices[device].kind).moves:
            return ""
        query = [c for c in self.matcher.query(words) if c not in OPERATION_CONCEPTS]
        # the device called by its own name ("the heater"), not by a word of the same concept
        # ("the light" to a reading lamp and a strip light: which?)
        if not query or {stem(w) for w in words} & {stem(w) for w in tokens(_humane(device))}:
            return ""
        fitting = [d for d, concepts in self.device_concepts.items()
                   if all(c in concepts for c in query)]
        if device not in fitting or len(fitting) < 2:
            return ""
        others = set.intersection(*(self.device_concepts[d] for d in fitting if d != device))
        if any(c in self.device_concepts[device] - others for c in query):
            return ""
        listed = " or ".join(f"the {_humane(d)}" + (f" ({self.where[d]})" if self.where[d] else "")
                             for d in fitting)
        return f"Which do you mean: {listed}?"

    # ---- what the robot lacks -----------------------------------------------------------------

    def _room(self, words: list[str], said: list[str], device: str) -> str:
        """A room said where the config places its devices, and the asked one is not there."""
        if not self.placed:
            return ""
        # a room word of English's or of the config's, compared by concept ("office": "offic")
        named = [w for w in said if (w in ROOMS or concept(w) in self.room_words)
                 and concept(w) not in self.rooms[device]]
        if not named:
            return ""
        room = next((" ".join(phrase) for phrase, one in PHRASES.items()  # "living room"
                     if one == named[0] and " ".join(phrase) in " ".join(words)), named[0])
        asked = next((w for w in said if concept(w) in DEVICE_THINGS and
                      concept(w) in self.device_concepts[device]), _humane(device))
        where = ", ".join(f"the {_humane(d)} ({self.where[d]})"
                          for d in sorted(self.where) if self.where[d])
        return (f"I have no {asked} in the {room}: what I have is placed as {where}. "
                "Which do you mean?")

    def _destination(self, said: list[str], kind: str) -> str:
        """A place to go to, for a robot that moves by distances and angles only."""
        if not kind_of(kind).moves:
            return ""
        place = DESTINATION.search(" ".join(said))
        if place is None or not (place[1] in PLACES or place[1] in self.room_words):
            return ""
        return (f"I cannot go to the {place[1]}: I move by a distance and turn by an angle. "
                "How far, or which way?")

    def _object(self, said: list[str], mine: frozenset[str]) -> str:
        """A device or object no action of this robot names."""
        for word in said:
            c = concept(word)
            if (word in OBJECTS or c in DEVICE_THINGS) and c not in mine and \
                    not self.matcher.known(c) and stem(word) not in self.vocabulary:
                have = ", ".join(sorted(_humane(d) for d in self.config.devices))
                return f"There is no {word} here. This robot has: {have}."
        return ""

    def _colour(self, said: list[str], action: str) -> str:
        """A colour the action's colour parameter cannot take."""
        config = self.config.actions[action]
        colours = [spec for spec in config.params.values()
                   if spec.enum and any(str(v).split()[-1] in COLOUR_WORDS for v in spec.enum)]
        if not colours:
            return ""
        offered = {w for v in colours[0].enum or [] for w in tokens(str(v))}
        asked = [w for w in said if w in COLOUR_WORDS and w not in offered]
        if not asked:
            return ""
        choices = ", ".join(str(v) for v in colours[0].enum or [])
        return f"The {_humane(config.device)} cannot be {asked[0]}: it can be {choices}."

    def _number(self, said: list[str], action: str) -> str:
        """A number said to an action that takes none ("dim the lights to 13"), unless the
        config's own words hold it ("desk lamp two")."""
        config = self.config.actions[action]
        if any(s.type in ("number", "integer") and s.enum is None
               for s in config.params.values()):
            return ""  # the slots read it, or ask which unit
        numbers = [q for q in quantities(said) if q.dimension != "count"
                   and said[q.start] not in self.vocabulary]
        if not numbers:
            return ""
        return (f"I heard {' '.join(said[numbers[0].start:numbers[0].end])}, but "
                f"{_humane(action)} takes no number or level. What should I do?")

    # ---- what is not known at all ------------------------------------------------------------

    def _content(self, said: list[str]) -> list[str]:
        out = []
        for i, word in enumerate(said):
            after_number = i > 0 and (said[i - 1][0].isdigit() or said[i - 1] in AMOUNT_WORDS)
            if word in FILLER or word[0].isdigit() or word in AMOUNT_WORDS or (
                    word in UNITS and after_number):
                continue
            out.append(word)
        return out

    def _known(self, word: str) -> bool:
        c = concept(word)
        return (word in CONCEPT_OF or stem(word) in CONCEPT_OF or c in OPERATION_CONCEPTS
                or self.matcher.known(c) or stem(word) in self.vocabulary
                or c in self.vocabulary or word in UNITS or word in DISCOURSE
                or word in PLACES or word in GENERIC_DEVICES or word in ASSISTANT_NAMES
                or word in OBJECTS or word in COLOUR_WORDS or word in STATES
                or word in SWITCH_WORDS or word in TURN_WORDS or word in MEASURES
                or word in COMPARATIVES.split() or word in LEVEL_WORDS
                or word in ANY_VALUE | CHANGE_VERBS | MEANT_VALUE
                or any(word in synonyms for synonyms in VALUE_SYNONYMS.values())
                or SAME_OPERATION.get(c) is not None)
