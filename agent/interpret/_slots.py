"""Parameters from words: enum values (with general synonyms) and numbers with units.

A numeric parameter's unit comes from its name: `distance_m` is metres, `duration_s` seconds,
`degrees` (or `*_deg`) degrees, `*_cm`/`*_mm` centimetres/millimetres, `*_ms`/`*_min`,
`*_pct` percent, `level`/`speed` fractions from 0 to 1, and `times`/`*count` a count
("twice", "three times", "3x"). A number spoken with a unit is
converted ("20 centimetres" -> distance_m 0.2); one spoken in a unit the action cannot take is
a question back, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from agent.config import ActionConfig, ParamSpec
from agent.interpret._language import english
from agent.interpret._lexicon import COLOUR_WORDS, concept, rephrase, spoken_forms
from agent.interpret._text import FRACTIONS, UNITS, Quantity, quantities, tokens

# Suffix of a parameter name -> (dimension, how many base units one of it is)
NAME_UNITS: tuple[tuple[str, str, float], ...] = (
    ("_cm", "length", 0.01), ("_mm", "length", 0.001), ("_km", "length", 1000.0),
    ("_m", "length", 1.0), ("_ms", "time", 0.001), ("_min", "time", 60.0), ("_s", "time", 1.0),
    ("_sec", "time", 1.0), ("_deg", "angle", 1.0), ("degrees", "angle", 1.0),
    ("angle", "angle", 1.0), ("_pct", "percent", 1.0), ("percent", "percent", 1.0),
    ("level", "fraction", 1.0), ("speed", "fraction", 1.0), ("times", "count", 1.0),
    ("count", "count", 1.0), ("repeat", "count", 1.0), ("repeats", "count", 1.0),
)
MAX_REPEAT = 5  # "honk three times" with no count parameter: that many steps, at most this
_EN = english().requests  # the words: agent/interpret/lang/en/requests.toml
# A level said as a word, in percent: "lamp to medium" is a level of 0.5; "turn the lights down
# to medium" to an action that takes no level is asked back, as a number it cannot take is.
LEVEL_WORDS = dict(_EN.levels)
POSITION_OPS = frozenset({"angle", "position"})  # an action that sets where a part stands
# Words that leave a value to the robot when the parameter is named without one: "a different
# colour", "some random colour", "change the colour of the lights".
ANY_VALUE = frozenset(_EN.words.any_value)
CHANGE_VERBS = frozenset(_EN.words.change_verbs)
# ...but not when a value is meant, even one the action lacks: "to turquoise", "back", "to the
# same colour", "to my favourite"
MEANT_VALUE = frozenset(_EN.words.meant_value)
TO_A_VALUE = frozenset(_EN.words.to_a_value)


def takes(action: ActionConfig) -> set[str]:
    """The dimensions of the amounts an action's numeric parameters take ("percent" when a
    fraction does)."""
    found = {unit_of(n)[0] for n, s in action.params.items()
             if s.type in ("number", "integer") and s.enum is None}
    return {d for d in found if d} | ({"percent"} if "fraction" in found else set())


def unit_of(name: str) -> tuple[str | None, float]:
    for suffix, dimension, factor in NAME_UNITS:
        if name.endswith(suffix):
            return dimension, factor
    return None, 1.0


@dataclass
class Slots:
    params: dict[str, Any] = field(default_factory=dict)
    question: str = ""  # set when the words cannot be turned into parameters safely
    repeat: int = 1  # "N times" for an action that takes no count: N steps
    pick: str = ""  # an enum parameter whose value was left to the robot: another than now
    lacks: str = ""  # a number, unit or level the action has no parameter for: what it takes


def extract(action: ActionConfig, text: str, *, may_pick: bool = False) -> Slots:
    """may_pick: the caller allows a value left to the robot (a low-risk action of a colour
    light); else such a request is asked back like any other missing value."""
    words = rephrase(tokens(text))
    slots = Slots()
    for name, spec in action.params.items():
        if spec.enum is not None:
            chosen = _enum_value(spec, words)
            if chosen is _AMBIGUOUS:
                slots.question = f"Which {name}: {_choices(spec)}?"
            elif chosen is not None:
                slots.params[name] = chosen
            elif may_pick and not slots.pick and len(spec.enum) > 1 and \
                    _left_to_us(name, words):
                slots.pick = name
    numeric = {n: s for n, s in action.params.items()
               if s.type in ("number", "integer") and s.enum is None}
    found = [q for q in quantities(words) if not _is_enum_number(q, words, action)]
    found += _levels(words, action)
    unclear = _unit_without_number(words, found, numeric)
    if unclear:
        slots.question = f"How much: I heard {unclear} but no number I could read?"
    for q in found:
        target = _param_for(q, numeric, slots.params)
        if target is None and q.dimension == "count":
            if float(q.value).is_integer() and 1 <= q.value <= MAX_REPEAT:
                slots.repeat = int(q.value)
            else:
                slots.question = slots.question or f"{q.value:g} times is more than I repeat"
            continue
        if target is None:
            unit = q.dimension or "number"
            wanted = ", ".join(numeric) or "no number"
            heard = (f"'{words[q.start]}'" if words[q.start] in LEVEL_WORDS
                     else f"a {unit} ({q.value:g})")
            slots.lacks = slots.lacks or (
                f"I heard {heard} but this action takes {wanted}: could you say it again?")
            continue
        dimension, factor = unit_of(target)
        if q.dimension is None and _said_as_fraction(words, q) and dimension != "fraction":
            # "the vent half open": half the span of a position; "go forward half" is no
            # amount of a motion, and an unbounded position has no span: asked
            spec = numeric[target]
            if action.op not in POSITION_OPS or spec.minimum is None or spec.maximum is None \
                    or spec.maximum <= spec.minimum:
                said = " ".join(words[q.start:q.end])
                slots.question = slots.question or f"'{said}' of how much {target}?"
                continue
            q = replace(q, value=spec.minimum + q.value * (spec.maximum - spec.minimum))
        elif q.dimension is None and dimension in ("length", "time"):
            slots.question = slots.question or (  # "go forward 2": metres? centimetres?
                f"{q.value:g} what: which unit for {target}?")
            continue
        value: float | int = (q.value / factor if q.dimension in ("length", "time", "angle")
                              else q.value)
        if dimension == "fraction" and q.dimension == "percent":
            value = q.value / 100
        if numeric[target].type == "integer" and float(value).is_integer():
            value = int(value)
        slots.params[target] = round(value, 6) if isinstance(value, float) else value
    _either_way(action, slots)
    for name, spec in action.params.items():
        if name not in slots.params and spec.default is None and not slots.question and \
                name != slots.pick:
            slots.question = f"Which {name}{': ' + _choices(spec) if spec.enum else ''}?"
    return slots


def _either_way(action: ActionConfig, slots: Slots) -> None:
    """"turn around": half a turn ends the same whichever way it goes, so a left/right
    direction with no default is not asked for."""
    angles = [slots.params.get(n) for n in action.params if unit_of(n)[0] == "angle"]
    direction = action.params.get("direction")
    if (direction and direction.enum and "direction" not in slots.params and
            direction.default is None and {"left", "right"} == set(map(str, direction.enum))
            and any(a is not None and float(a) % 180 == 0 for a in angles)):
        slots.params["direction"] = direction.enum[0]


def _left_to_us(name: str, words: list[str]) -> bool:
    """The parameter is named with a change asked and no value meant: "a different colour",
    "change the colour of the lights"; not "change the colour to turquoise" nor "...back"."""
    said = set(words)
    if not any(concept(w) == concept(name) for w in words) or (COLOUR_WORDS | MEANT_VALUE) & said:
        return False
    return bool(ANY_VALUE & said) or bool(CHANGE_VERBS & said and not TO_A_VALUE & said)


_AMBIGUOUS = object()
# Unit words too common as other words to mean a unit on their own ("turn", "in", "m").
LONE_UNITS_IGNORED = frozenset({"turn", "turns", "in", "m", "s", "h", "min", "second", "x",
                                "time", "times"})


def _unit_without_number(words: list[str], found: list[Quantity],
                         numeric: dict[str, ParamSpec]) -> str:
    """A unit this action takes, spoken without a number we could read ("NaN meters")."""
    wanted = {unit_of(name)[0] for name in numeric}
    used = {i for q in found for i in range(q.start, q.end)}
    for i, word in enumerate(words):
        if i in used or word in LONE_UNITS_IGNORED or word not in UNITS:
            continue
        if UNITS[word][0] in wanted:
            return f"'{word}'"
    return ""


def _enum_value(spec: ParamSpec, words: list[str]) -> Any:
    text = " " + " ".join(words) + " "
    spans = []  # (start, end, value) of every value said
    for value in spec.enum or []:
        for form in spoken_forms(str(value)):
            start = text.find(f" {form} ")
            while start >= 0:
                spans.append((start, start + len(form) + 1, value))
                start = text.find(f" {form} ", start + 1)
    # "warm white" is not also "white"
    hits = sorted((start, value) for start, end, value in spans
                  if not any(s <= start and end <= e and (e - s) > (end - start)
                             for s, e, _ in spans))
    if not hits:
        return None
    values = {v for _, v in hits}
    if len(values) == 1:
        return hits[0][1]
    # "from blue to white": the value after "to" is the one asked for, when the others come
    # before it ("to green and red" asks for both: which?)
    after_to = [(pos, v) for pos, v in hits if text[:pos].rstrip().endswith(" to")]
    if len(after_to) == 1 and all(pos < after_to[0][0] for pos, v in hits if v != after_to[0][1]):
        return after_to[0][1]
    return _AMBIGUOUS


def _choices(spec: ParamSpec) -> str:
    return ", ".join(str(v) for v in spec.enum or [])


def _levels(words: list[str], action: ActionConfig) -> list[Quantity]:
    """Level words that are not one of this action's enum values, as percentages."""
    values = {str(v).lower() for spec in action.params.values() for v in spec.enum or []}
    return [Quantity(LEVEL_WORDS[w], "percent", i, i + 1) for i, w in enumerate(words)
            if w in LEVEL_WORDS and w not in values]


def _said_as_fraction(words: list[str], q: Quantity) -> bool:
    """'half', 'a quarter', 'a third': a share of something, not an amount in a unit."""
    return any(w in FRACTIONS for w in words[q.start:q.end])


def _is_enum_number(q: Quantity, words: list[str], action: ActionConfig) -> bool:
    """'one' in 'desk lamp one' or 'at one pm' is not an amount for this action."""
    if q.dimension is not None:
        return False
    numeric = [s for s in action.params.values() if s.type in ("number", "integer")]
    return not numeric


def _param_for(q: Quantity, numeric: dict[str, ParamSpec], taken: dict[str, Any]) -> str | None:
    free = [n for n in numeric if n not in taken]
    if q.dimension is None:
        return free[0] if len(free) == 1 else None
    fitting = [n for n in free if unit_of(n)[0] == q.dimension or
               (unit_of(n)[0] == "fraction" and q.dimension == "percent")]
    return fitting[0] if len(fitting) == 1 else None
