"""What the fine-tuned model is asked and what it may answer: prompts, grammars, parsing.

Two tasks were measured on the same data (docs/interpreter.md, "The reading adapter"):
- frame: the request alone in the prompt; the model reads it into a config-independent frame,
  `op thing value place number unit` ("bathe the seedlings in blue" -> `color light blue - - -`),
  and agent.interpret._binder maps the frame onto a config's actions.
- call: the config's actions are listed in the prompt (a fixed prefix, cached), and the model
  names one with its value and number, function-call style (`grow_lights_spectrum blue - -`).
Either answer is decoded under a GBNF grammar built from these vocabularies (or from the
config's actions): the model cannot say anything else. A field it leaves empty is `-`.

Pure Python: the training script (scripts/train_adapter.py) renders the same prompts, token for
token, as the runtime (agent.interpret._reader).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

EMPTY = "-"
NONE = "none"
# The frame's words. An operation or thing word is general English; a config's own words are
# bound to them by agent.interpret._binder, never shown to the model.
OPS = ("on", "off", "color", "brighter", "dimmer", "level", "move", "turn", "stop", "start",
       "beep", "open", "close", "angle", "run", "position", "volume", "speed", "photo", "mist",
       "roll")
THINGS = ("wheels", "light", "plug", "fan", "heater", "tv", "coffee", "vacuum", "kettle",
          "pump", "fog", "horn", "door", "vent", "arm", "belt", "blinds", "speaker", "camera",
          "mister", "backdrop",
          # things the robots it was trained on never have: read as themselves, bound to none
          "oven", "dishwasher", "washer", "car", "alarm", "printer", "microwave", "aircon",
          "toaster", "mower", "drone", "music", "other")
VALUES = ("red", "green", "blue", "white", "yellow", "purple", "pink", "orange", "warm white",
          "cyan", "magenta", "black", "grey", "forward", "backward", "left", "right", "open",
          "half", "closed", "quiet", "normal", "loud", "off", "low", "medium", "high")
UNITS = ("m", "cm", "mm", "km", "ft", "in", "yd", "deg", "turn", "s", "ms", "min", "h",
         "percent", "times")
PLACES = ("kitchen", "living room", "bedroom", "hall", "office", "garage", "garden",
          "bathroom", "lounge", "dining room", "landing", "study", "workshop", "greenhouse",
          "here")
MAX_REQUEST_CHARS = 500  # as the scorer: what a spoken request can be
NUMBER = r'"-"? [0-9] [0-9]? [0-9]? [0-9]? ("." [0-9] [0-9]? [0-9]?)?'


@dataclass(frozen=True)
class Frame:
    """A request read into config-independent words; "" where it says nothing."""

    op: str
    thing: str = ""
    value: str = ""
    place: str = ""
    number: float | None = None
    unit: str = ""


@dataclass(frozen=True)
class Call:
    """One of a config's actions named, with the value and number said; action "" is none."""

    action: str
    value: str = ""
    number: float | None = None
    unit: str = ""


@dataclass(frozen=True)
class ModelReading:
    """The model's answer as decoded (grammatical by construction) and its log-probability
    under the grammar."""

    answer: str
    logprob: float

    @property
    def probability(self) -> float:
        return math.exp(self.logprob)


@dataclass(frozen=True)
class Listed:
    """An action as the call prompt lists it: its name, what it does, what it takes."""

    name: str
    description: str
    values: tuple[str, ...] = ()
    numeric: bool = False


# ---- prompts: a fixed prefix, the request, a short suffix ------------------------------------

# Short on purpose: the model is fine-tuned to the task, and every prefix token costs training
# time on every example.
FRAME_PREFIX = "Robot request:"
FRAME_SUFFIX = "\nReading:"
CALL_SUFFIX = "\nAction:"


def request_part(text: str, suffix: str) -> str:
    """The part of the prompt after the cached prefix. Newlines in the request cannot start a
    field of the prompt: they are spaces."""
    return " " + " ".join(text[:MAX_REQUEST_CHARS].split()) + suffix


def call_prefix(listed: list[Listed]) -> str:
    lines = []
    for a in listed:
        takes = f" ({'|'.join(a.values)})" if a.values else ""
        takes += " [number]" if a.numeric else ""
        lines.append(f"{a.name}{takes}: {a.description}")
    return ("Name the action the request asks for, with its value and number ('-' for none).\n"
            "Actions:\n" + "\n".join(lines) + "\nnone: anything else\nRequest:")


# ---- answers ---------------------------------------------------------------------------------


def _number_text(number: float | None) -> str:
    if number is None:
        return EMPTY
    return f"{number:.3f}".rstrip("0").rstrip(".")


def frame_answer(frame: Frame | None) -> str:
    if frame is None:
        return f" {NONE}\n"
    fields = (frame.op, frame.thing, frame.value, frame.place, _number_text(frame.number),
              frame.unit)
    return " " + " ".join(f or EMPTY for f in fields) + "\n"


def call_answer(call: Call) -> str:
    if not call.action:
        return f" {NONE}\n"
    fields = (call.action, call.value, _number_text(call.number), call.unit)
    return " " + " ".join(f or EMPTY for f in fields) + "\n"


def _literal(word: str) -> str:
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _alternatives(words: tuple[str, ...] | list[str]) -> str:
    return " | ".join(_literal(w) for w in words)


def frame_grammar() -> str:
    return "\n".join((
        f'root ::= " " ("{NONE}" | op " " thing " " value " " place " " number " " unit) "\\n"',
        f"op ::= {_alternatives(OPS)}",
        f'thing ::= "-" | {_alternatives(THINGS)}',
        f'value ::= "-" | {_alternatives(VALUES)}',
        f'place ::= "-" | {_alternatives(PLACES)}',
        f'number ::= "-" | {NUMBER}',
        f'unit ::= "-" | {_alternatives(UNITS)}',
    )) + "\n"


def call_grammar(listed: list[Listed]) -> str:
    """Each action with only the values it takes, and a number only if it takes one."""
    rules = [f'root ::= " " ("{NONE}" | ' + " | ".join(f"a{n}" for n in range(len(listed))) +
             ') "\\n"', f'number ::= {NUMBER}', f'unit ::= "-" | {_alternatives(UNITS)}']
    for n, a in enumerate(listed):
        value = f'("-" | {_alternatives(a.values)})' if a.values else '"-"'
        amount = '("-" " -" | number " " unit)' if a.numeric else '"-" " -"'
        rules.append(f'a{n} ::= {_literal(a.name)} " " {value} " " {amount}')
    return "\n".join(rules) + "\n"


def _field(word: str) -> str:
    return "" if word == EMPTY else word


def _number(word: str) -> float | None:
    return None if word == EMPTY else float(word)


def _split(answer: str, known: tuple[str, ...]) -> list[str]:
    """Fields of an answer; a known value of several words ("warm white") is one field."""
    text = answer.strip()
    for many in (w for w in known if " " in w):
        text = re.sub(rf"(?<!\S){re.escape(many)}(?!\S)", many.replace(" ", "\0"), text)
    return [f.replace("\0", " ") for f in text.split()]


def parse_frame(answer: str) -> Frame | None:
    """The frame of a grammar-constrained answer; None for 'none'."""
    fields = _split(answer, VALUES + PLACES)
    if fields == [NONE]:
        return None
    op, thing, value, place, number, unit = fields
    return Frame(op, _field(thing), _field(value), _field(place), _number(number), _field(unit))


def parse_call(answer: str, listed: list[Listed]) -> Call:
    fields = _split(answer, tuple(v for a in listed for v in a.values))
    if fields == [NONE]:
        return Call("")
    action, value, number, unit = fields
    return Call(action, _field(value), _number(number), _field(unit))


def grammatical(answer: str, task: str, listed: list[Listed]) -> bool:
    """The answer is one the task's grammar allows (a worker's reply is checked with this)."""
    try:
        if task == "frame":
            frame = parse_frame(answer)
            return frame is None or (
                frame.op in OPS and frame.thing in ("", *THINGS) and
                frame.value in ("", *VALUES) and frame.place in ("", *PLACES) and
                frame.unit in ("", *UNITS))
        call = parse_call(answer, listed)
        known = {a.name: a for a in listed}
        return not call.action or (call.action in known and
                                   call.value in ("", *known[call.action].values) and
                                   call.unit in ("", *UNITS))
    except ValueError:
        return False
