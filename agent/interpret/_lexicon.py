"""A small, general English lexicon for commands to robots and home devices.

Words are grouped into concepts. Nothing here names a config's actions: an action's own
name, description, examples, device, operation and enum values are mapped through the same
groups, so a word matches an action when both lead to the same concept. What a user's config
needs beyond this is best said in its actions' `examples`.

Operation concepts say what to do; the rest say what to do it to.
"""

from __future__ import annotations

import functools

from agent.devices import COLORS
from agent.interpret._language import english
from agent.interpret._text import COUNTS, FRACTIONS, NEGATIVE, SCALES, SMALL, TENS, UNITS, stem

_EN = english().lexicon  # the words: agent/interpret/lang/en/lexicon.toml
OPERATIONS: dict[str, str] = {c: " ".join(ws) for c, ws in _EN.operations.items()}
THINGS: dict[str, str] = {c: " ".join(ws) for c, ws in _EN.things.items()}
# General words for the values of common enums, used only when the enum has that value.
VALUE_SYNONYMS: dict[str, tuple[str, ...]] = {v: tuple(ws) for v, ws in _EN.value_synonyms.items()}
# Operation names of CONTRACT section 1, mapped to concepts (what text calls each device kind
# is the kind's own: agent.devices).
OP_CONCEPTS = dict(_EN.operation_names)
# "turn" switches things unless it is about a direction: "turn on" vs "turn left".
SWITCH_WORDS = frozenset(_EN.words.switch)
# ...and without a direction or an angle it changes something: "turn the lights blue"
TURN_WORDS = frozenset(_EN.words.turn)
FILLER = frozenset(_EN.words.filler)
DEMONSTRATIVES = frozenset(_EN.words.demonstratives)
# Words for a property that name the thing when another word asks for more or less of it:
# "decrease the brightness" dims the lights; "lamp brightness 30 percent" sets it.
PROPERTIES = dict(_EN.properties)
MORE_OR_LESS = frozenset(_EN.words.more_or_less)
# Where a device is, when the config does not say: no evidence for or against an action.
ROOMS = frozenset(_EN.words.rooms)
PLACES = frozenset(_EN.words.places) | ROOMS
# Things a robot may or may not have ("the fan", "the tv"): one the config lacks is asked back.
OBJECTS = frozenset(w for w in _EN.words.objects if " " not in w)
# Words for any device ("the coffee machine"): no evidence either way, as a place.
GENERIC_DEVICES = frozenset(_EN.words.generic_devices)
# The names people call an assistant by ("olly, make the room blue"): no evidence either way.
ASSISTANT_NAMES = tuple(_EN.words.assistant_names)
# Phrases whose words mean something else on their own.
PHRASES = {tuple(k.split()): v for k, v in _EN.phrases.items()}
LONGEST_PHRASE = max(map(len, PHRASES), default=2)
# Phrases that mean something else where a request begins, the verb: "light up the kitchen"
# is lights on or brighter (people say both), "turn the light up" is brighter.
LEADING_PHRASES = {tuple(k.split()): v for k, v in _EN.leading_phrases.items()}
# Words that describe a state, not an operation ("it's dark" asks for light, not for dimming):
# they get a concept of their own so no stem claims them.
STATES = tuple(_EN.words.states)
# Operations that stand for each other: turning on a coffee maker is starting it.
SAME_OPERATION = dict(_EN.same_operation)

CONCEPT_OF: dict[str, str] = {w: w for w in STATES}
for _side in ("left", "right"):  # "clockwise" is the value "right"
    CONCEPT_OF.update({w: _side for w in VALUE_SYNONYMS[_side]})
for _group in (OPERATIONS, THINGS):
    for _concept, _words in _group.items():
        for _word in _words.split():
            CONCEPT_OF.setdefault(_word, _concept)
for _group in (OPERATIONS, THINGS):  # stems only where no exact word claims them
    for _concept, _words in _group.items():
        for _word in _words.split():
            CONCEPT_OF.setdefault(stem(_word), _concept)

OPERATION_CONCEPTS = frozenset(OPERATIONS)
NUMBER_WORDS = frozenset(SMALL) | frozenset(TENS) | frozenset(FRACTIONS) | {"a", "an"}
AMOUNT_WORDS = NUMBER_WORDS | frozenset(SCALES) | frozenset(COUNTS) | NEGATIVE | {"point"}


@functools.lru_cache(maxsize=8192)
def concept(word: str) -> str:
    """The concept of a word: its group's name, or else its stem."""
    return CONCEPT_OF.get(word) or CONCEPT_OF.get(stem(word)) or stem(word)


# Words that ask for a value ("make the buzzer blue"): an action that cannot take it is not it.
# A comparison asks for more or less of something ("make the coffee stronger").
COMPARATIVES = " ".join(_EN.words.comparatives)
# Colour names (the last word of one: "warm white" ends in white): a colour names a state of a
# light, where a level word ("normal", "quiet", "medium") could be a state of anything
COLOUR_WORDS = frozenset({name.split()[-1] for name in COLORS} | set(_EN.words.colours))
# Verbs that give a thing a value, said as the result: "make the living room blue"
RESULT_VERBS = frozenset(_EN.words.result_verbs)
VALUE_CONCEPTS = frozenset({concept(w) for name in COLORS for w in name.split()} |
                           {concept(w) for w in COMPARATIVES.split()} | {"left", "right"})


def spoken_forms(value: str) -> tuple[str, ...]:
    """How a user may say an enum value: itself, its general synonyms, and a state said as the
    verb that makes it ("closed": "close the blinds", "locked": "lock the door")."""
    value = value.lower()
    forms = (value, *VALUE_SYNONYMS.get(value, ()))
    if value.endswith("ed") and not value.endswith("eed") and len(value) > 4 and \
            " " not in value:
        forms += (value[:-1] if value[-3] in "s" or value.endswith("ved") else value[:-2],)
    return forms


def refers_back(words: list[str]) -> bool:
    """A pronoun stands for something said elsewhere: "switch it on", "make that blue"; "this
    room" and "that lamp" name their own thing."""
    return any(w in ("it", "them") or (w in DEMONSTRATIVES and not _names_a_thing(words[i + 1:]))
               for i, w in enumerate(words))


def _names_a_thing(after: list[str]) -> bool:
    """The words after a demonstrative begin with a thing: "this room", not "that off"."""
    return bool(after) and after[0] not in FILLER and (
        concept(after[0]) not in OPERATIONS and concept(after[0]) not in VALUE_CONCEPTS)


def said(words: list[str]) -> tuple[str, ...]:
    """The words of a request that carry meaning, stemmed: an example matches "word for word"
    when these are the same ("lights on, please" is the example "lights on")."""
    return tuple(stem(w) for w in words if w not in FILLER)


def rephrase(words: list[str]) -> list[str]:
    """Replace the phrases of PHRASES (and of LEADING_PHRASES as the verb) by what they mean."""
    out: list[str] = []
    i = 0
    while i < len(words):
        pair = tuple(words[i:i + 2])
        if pair in LEADING_PHRASES and all(w in FILLER for w in words[:i]):
            out += LEADING_PHRASES[pair].split()
            i += 2
            continue
        # the longest phrase said from here ("all the way up" before any two of its words)
        said = next((tuple(words[i:i + n]) for n in range(LONGEST_PHRASE, 1, -1)
                     if tuple(words[i:i + n]) in PHRASES), None)
        if said is not None:
            out += PHRASES[said].split()
            i += len(said)
        else:
            out.append(words[i])
            i += 1
    return out


def concepts(words: list[str]) -> list[str]:
    """Concepts of the content words of a request, in order; numbers and units left out."""
    out: list[str] = []
    words = rephrase(words)
    switching = bool(SWITCH_WORDS & set(words)) or (
        len(words) > 1 and not TURN_WORDS & set(words))
    properties: list[tuple[int, str]] = []  # where a property word is in out, and its thing
    for i, word in enumerate(words):
        after_number = i > 0 and (words[i - 1][0].isdigit() or words[i - 1] in NUMBER_WORDS)
        if word in FILLER or word[0].isdigit() or word in AMOUNT_WORDS or (
                word in UNITS and after_number):
            continue
        c = concept(word)
        if word in PROPERTIES:
            properties.append((len(out), PROPERTIES[word]))
        if stem(word) == "turn" and switching:
            continue  # "turn off the light": the operation is 'off', not a rotation
        out.append(c)
    others = [c for n, c in enumerate(out) if c in MORE_OR_LESS and
              n not in {at for at, _ in properties}]
    for at, thing in properties if others else ():
        out[at] = thing
    return out
