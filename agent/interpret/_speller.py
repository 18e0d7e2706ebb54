"""Likely typos of known words: "tunr", "lihgt", "opne", "degres". A word the interpreter does
not know, of four letters or more, one edit (two letters swapped, one letter more or less)
from exactly one word it knows (its lexicon, its numbers and units, the config's own words),
is read as that word. A changed letter is no such edit: "hard" and "yard", "chase" and "cease"
are both words. The caller asks back before anything runs on a corrected
reading ("did you mean: turn left 45 degrees?"), except a stop, which stops."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from agent.interpret._text import tokens

WORD = re.compile(r"[a-z]+")
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def one_edit(word: str) -> set[str]:
    """Every string one swap, insertion or deletion away from word."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b} |
            {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1} |
            {a + c + b for a, b in splits for c in LETTERS})


class Speller:
    """known: every word the interpreter knows; content: the ones a typo may be read as."""

    def __init__(self, known: Iterable[str], content: Iterable[str]) -> None:
        self.known = frozenset(known)
        self.long = frozenset(w for w in content if len(w) >= 4 and w.isalpha())
        # the same unknown words come again and again ("olly", "please"): look each up once
        self.reading: Callable[[str], str] = functools.lru_cache(maxsize=4096)(self._reading)

    def _reading(self, word: str) -> str:
        """The one known word an unknown one is a likely typo of, or ''."""
        candidates = one_edit(word) & self.long
        return next(iter(candidates)) if len(candidates) == 1 else ""

    def correct(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """The text with its likely typos corrected, and (typo, word) for each."""
        fixed: list[tuple[str, str]] = []

        def one(m: re.Match[str]) -> str:
            word = m.group()
            if len(word) < 4 or word in self.known:
                return word
            right = self.reading(word)
            if not right:
                return word  # none, or more than one: not a likely typo of one word
            fixed.append((word, right))
            return right

        corrected = WORD.sub(one, text.lower().replace("\u2019", "'"))
        return (corrected, fixed) if fixed else (text, [])


def words_of(texts: Iterable[str]) -> set[str]:
    return {w for text in texts for w in tokens(text)}
