"""Stops, read before anything else in a sentence: every stop stops.

A stop word ("stop", "halt"), a stop idiom ("hit the brakes", "that's enough") or a likely typo
of a stop word ("stpo", "haltt") stops the motion, however the sentence is wrapped: a question
("can you stop?"), politeness, reported speech ("stop, my kid said so"), a condition, a time
("stop in ten minutes" stops now: a stop is never scheduled), a long preamble, repetition.
Only two things keep a stop word from stopping: the stop itself is negated ("don't stop",
"no need to stop"; "don't turn, stop" still stops), or what it stops is positively something
else: a thing that is not motion ("stop the music"), a device of this robot that does not
move ("stop the coffee machine"), or a schedule ("stop the light timer" cancels it). The words
are data (agent/interpret/lang/en/stops.toml); this is the mechanism.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from agent.interpret._form import AFFIRMING, CANCEL_WORDS, NEGATION, normalise
from agent.interpret._language import alternatives, english
from agent.interpret._lexicon import concepts
from agent.interpret._text import tokens

_EN = english().stops
STOP_WORDS = frozenset(_EN.words)
NOT_MOTION = frozenset(_EN.not_motion)
ITSELF = frozenset(_EN.itself)
IDIOMS = tuple(sorted(_EN.phrases, key=len, reverse=True))  # the longest first
NOUN = re.compile(rf"(?<![\w'])(?:{'|'.join(re.escape(n) for n in _EN.nouns)})(?![\w'])")
IDIOM = re.compile(rf"(?<![\w'])(?:{'|'.join(re.escape(idiom) for idiom in IDIOMS)})(?![\w'])")
# Where what a stop is about ends: the next clause, or "and" before a new request ("stop and
# turn the lights off"), not "and" before more things ("stop the music and the robot")
OBJECT_END = re.compile(r"[,;:.!?]|\b(?:but|then|instead)\b"
                        r"|\band\s+(?!(?:the|my|your|its|this|that|all|everything|you)\b)"
                        rf"|\b(?:{alternatives(english().forms.statements.subject_verbs)})\b")
# A negation that ends right before a stop word: "don't stop", "please don't ever stop"; but
# not one that asks after all: "why don't you stop"
NEGATED_BEFORE = re.compile(rf"(?:{NEGATION.pattern[1:]})(?:\s+(?:please|just|ever|you))*\s*$")
AFFIRMED_BEFORE = re.compile(rf"(?:{AFFIRMING.pattern[1:]})(?:\s+(?:please|just|you))*\s*$")
REFRAINING = re.compile(r"^\s*(?:yourself|you|it)\s+from\b")  # "stop yourself from ..."
TOLD_SOMEONE_ELSE = re.compile(alternatives(_EN.told_someone_else))


@dataclass(frozen=True)
class StopRead:
    """What a sentence's stop words say: stop now, or why they do not."""

    stops: bool
    why: str
    later: str = ""  # a time said with the stop, which it does not wait for


@functools.lru_cache(maxsize=4096)  # the same words come again and again
def likely_typo(word: str) -> str:
    """The stop word a token is a likely typo of ("stpo", "sotp", "haltt"), or ''. Only two
    adjacent letters swapped or one letter doubled, in words of four letters or more: a
    substitution ("shop", "step", "half") is a real word too often to be read as a stop."""
    for stop in STOP_WORDS:
        if len(stop) < 4 or word == stop:
            continue
        if len(word) == len(stop) and sorted(word) == sorted(stop) and sum(
                a != b for a, b in zip(word, stop, strict=True)) == 2 and any(
                word[i:i + 2] == stop[i + 1] + stop[i] for i in range(len(stop) - 1)):
            return stop
        if len(word) == len(stop) + 1 and any(
                word[:i] + word[i + 1:] == stop and word[i] == word[i - 1]
                for i in range(1, len(word))):
            return stop
    return ""


class StopReader:
    """Reads the stop words of a sentence against what this robot's devices are.

    other_things: concepts that name a device of this robot that does not move; motion: the
    concepts of what its moving devices do (a stop of those is a stop)."""

    def __init__(self, other_things: set[str], motion: set[str]) -> None:
        self.other_things = other_things
        self.motion = motion

    def read(self, text: str) -> StopRead | None:
        """None when the sentence has no stop word at all."""
        low = normalise(text)
        triggers = self._triggers(low)
        if not triggers:
            return None
        kept = []
        for start, end, said in triggers:
            before = low[:start]
            if NEGATED_BEFORE.search(before) and not AFFIRMED_BEFORE.search(before):
                continue  # "don't stop": the stop itself is negated
            after = low[end:]
            if TOLD_SOMEONE_ELSE.search(before):
                continue  # "she told me to stop parking here": not said to the robot
            if REFRAINING.match(after):
                continue  # "stop yourself from driving into the wall": refrain from it
            if self._cancels(low, start):
                continue  # "stop the light timer": a schedule
            about = self._about_else(after)
            if about:
                kept.append((said, about))
                continue
            return StopRead(True, f"stop: '{said}'")
        if kept:
            said, about = kept[0]
            return StopRead(False, f"'{said}' is about {about}, not the robot's motion")
        return StopRead(False, "the stop is negated")

    def is_stop(self, text: str) -> bool:
        read = self.read(text)
        return read is not None and read.stops

    def _triggers(self, low: str) -> list[tuple[int, int, str]]:
        """(start, end, what was said) of every stop word, idiom or likely typo."""
        found = [(m.start(), m.end(), "") for m in NOUN.finditer(low)]  # no stop in these
        found += [(m.start(), m.end(), m.group()) for m in IDIOM.finditer(low)
                  if not any(s <= m.start() < e for s, e, _ in found)]
        for m in re.finditer(r"[a-z]+(?:'[a-z]+)?", low):
            word = m.group()
            if any(s <= m.start() < e for s, e, _ in found):
                continue
            if word in STOP_WORDS or likely_typo(word):
                found.append((m.start(), m.end(), word))
        return sorted(t for t in found if t[2])

    def _cancels(self, low: str, start: int) -> bool:
        cancel = CANCEL_WORDS.search(low, start)
        return cancel is not None and cancel.start() == start

    def _about_else(self, after: str) -> str:
        """What the words after a stop word name, when it is positively not motion."""
        object_words = tokens(OBJECT_END.split(after, maxsplit=1)[0])
        if ITSELF & set(object_words):
            return ""
        found = set(concepts(object_words))
        if self.motion & found:
            return ""
        named = sorted((NOT_MOTION & set(object_words)) | (found & self.other_things))
        return ", ".join(named)
