"""Words, numbers and units in short spoken requests.

Everything here is general English, not tied to any config (the words are data:
agent/interpret/lang/en/numbers.toml): tokenising, a light stemmer, number words ("twenty
five", "one and a half", "half a"), and quantities with units converted to base units
(metres, degrees, seconds, fractions), and counts ("twice", "three times", "3x").
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from agent.interpret._language import english

_EN = english().numbers  # the words: agent/interpret/lang/en/numbers.toml
SMALL = dict(_EN.numbers.small)
TENS = dict(_EN.numbers.tens)
FRACTIONS = dict(_EN.numbers.fractions)
NEGATIVE = frozenset(_EN.numbers.negative)
SCALES = dict(_EN.numbers.scales)
COUNTS = dict(_EN.numbers.counts)  # how many times, in one word: a count that is its own unit
COUNTED_SOUNDS = frozenset(_EN.numbers.counted_sounds)  # "beep beep beep": three times
# unit word -> (dimension, factor to the dimension's base unit)
UNITS: dict[str, tuple[str, float]] = {
    word: (unit.dimension, unit.factor) for unit in _EN.units for word in unit.words}

TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+(?:'[a-z]+)?|°|%")


def tokens(text: str) -> list[str]:
    """Lower-case words and numbers; 'don't' stays one token, '20cm' becomes '20', 'cm',
    '-30' becomes 'minus', '30'."""
    text = text.lower().replace("\u2019", "'")  # curly apostrophe
    text = re.sub(r"(?<![\w.])-(?=\d)", " minus ", text).replace("-", " ")
    return TOKEN.findall(text)


def without_asides(text: str) -> str:
    """A description without its remarks in parentheses: "(it cleans, then docks by itself)"
    explains; it does not name what the action is."""
    return re.sub(r"\([^)]*\)", " ", text)


@functools.lru_cache(maxsize=8192)  # a request's words are stemmed several times over
def stem(word: str) -> str:
    """A light stemmer for matching: lights -> light, brighten -> bright, cleaning -> clean,
    drive and driving -> driv."""
    w = word
    if w.endswith("'s"):
        w = w[:-2]
    for suffix in ("ness", "ing", "ed", "en", "er", "es", "s", "y"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3 and not w.endswith("ss"):
            w = w[: -len(suffix)]
            break
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiousl":
        w = w[:-1]  # dimm -> dim, stopp -> stop
    if len(w) > 3 and w.endswith("e") and not w.endswith("ee"):
        w = w[:-1]  # drive, driving -> driv
    return w


@dataclass(frozen=True)
class Quantity:
    value: float  # in the dimension's base unit (metres, degrees, seconds, percent)
    dimension: str | None  # length | angle | time | percent | count | None (a bare number)
    start: int  # token span
    end: int


def _echoes(words: list[str], i: int) -> int:
    """How often a sound word is said in a row from i: 'ding ding' is 2 (0 for no sound)."""
    if words[i] not in COUNTED_SOUNDS:
        return 0
    n = 1
    while i + n < len(words) and words[i + n] == words[i]:
        n += 1
    return n


def quantities(words: list[str]) -> list[Quantity]:
    """Every number in the tokens, with its unit when one follows."""
    found: list[Quantity] = []
    i = 0
    while i < len(words):
        if words[i] in NEGATIVE and i + 1 < len(words):  # "minus 30 degrees"
            parsed = _number_at(words, i + 1)
            if parsed is not None:
                words = [*words[:i + 1], str(-parsed[0]), *words[parsed[1]:]]
                i += 1
                continue
        if words[i] in COUNTS:
            found.append(Quantity(COUNTS[words[i]], "count", i, i + 1))
            i += 1
            continue
        echoes = _echoes(words, i)
        if echoes > 1:
            found.append(Quantity(echoes, "count", i, i + echoes))
            i += echoes
            continue
        parsed = _number_at(words, i)
        if parsed is None:
            i += 1
            continue
        value, j = parsed
        dimension = None
        if j < len(words) and words[j] in UNITS:
            dimension, factor = UNITS[words[j]]
            value *= factor
            j += 1
        elif j + 1 < len(words) and words[j] == "of" and words[j + 1] in ("a", "an") and \
                j + 2 < len(words) and words[j + 2] in UNITS:
            dimension, factor = UNITS[words[j + 2]]  # "half of a metre"
            value *= factor
            j += 3
        found.append(Quantity(value, dimension, i, j))
        i = j
    return found


def _number_at(words: list[str], i: int) -> tuple[float, int] | None:
    """A number starting at token i: (value, index after it), or None."""
    w = words[i]
    if re.fullmatch(r"-?\d+(?:\.\d+)?", w):
        return float(w), i + 1
    if w in ("a", "an") and i + 1 < len(words):
        nxt = words[i + 1]
        if nxt == "full":  # "a full turn"
            return _number_at(words, i + 1)
        # "a metre", "a second"; but "make a turn to the left" is no full turn
        if nxt in UNITS and nxt not in ("m", "s", "h", "in", "min", "turn"):
            return 1.0, i + 1
        if nxt in FRACTIONS:  # "a half", "a quarter turn"
            return FRACTIONS[nxt], i + 2
        if nxt in SCALES:
            return _words_number(words, i + 1)
        return None
    if w == "full" and i + 1 < len(words) and UNITS.get(words[i + 1], ("",))[0] == "angle":
        return 1.0, i + 1  # "full turn", "full circle"; not "full speed"
    if w in FRACTIONS:
        j = i + 1
        if j < len(words) and words[j] in ("a", "an"):
            j += 1  # "half a metre"
        return FRACTIONS[w], j
    if w in SMALL or w in TENS or w in SCALES:
        return _words_number(words, i)
    return None


def _words_number(words: list[str], i: int) -> tuple[float, int]:
    total, current, j = 0.0, 0.0, i
    while j < len(words):
        w = words[j]
        if w in SMALL:
            current += SMALL[w]
        elif w in TENS:
            current += TENS[w]
        elif w in SCALES:
            current = max(current, 1.0) * SCALES[w]
            total += current
            current = 0.0
        elif w == "and" and j + 1 < len(words) and (words[j + 1] in SMALL or
                                                    words[j + 1] in TENS):
            pass  # "a hundred and twenty"
        else:
            break
        j += 1
    value = total + current
    if j + 2 < len(words) and words[j] == "point" and words[j + 1] in SMALL:
        value += SMALL[words[j + 1]] / 10  # "one point five"
        j += 2
    elif j + 2 < len(words) and words[j] == "and" and words[j + 1] == "a" and \
            words[j + 2] in FRACTIONS:
        value += FRACTIONS[words[j + 2]]  # "one and a half"
        j += 3
    return value, j
