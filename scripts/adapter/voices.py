"""How people say a request: amounts in digits or words and many units, the device named or not,
terse operators, long polite requests, non-native speakers, voice transcripts, typos; then the
forms the rules decide (negation, question, time, condition), labelled by form, whose reading is
the request inside them: the model reads, the rules decide what the form allows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from scripts.adapter.world import PLACES, ActionType, DeviceType

NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 8: "eight",
                10: "ten", 12: "twelve", 15: "fifteen", 20: "twenty", 25: "twenty five",
                30: "thirty", 40: "forty", 45: "forty five", 50: "fifty", 60: "sixty",
                75: "seventy five", 90: "ninety", 100: "a hundred", 120: "a hundred and twenty",
                180: "a hundred and eighty"}
# dimension -> (numbers, [(unit as said, unit in the frame)])
AMOUNTS: dict[str, tuple[tuple[float, ...], list[tuple[str, str]]]] = {
    "length": ((1, 2, 3, 5, 10, 15, 20, 25, 30, 40, 50, 0.5, 1.5),
               [("m", "m"), ("metres", "m"), ("meters", "m"), ("metre", "m"), ("cm", "cm"),
                ("centimetres", "cm"), ("centimeters", "cm"), ("ft", "ft"), ("feet", "ft"),
                ("foot", "ft"), ("inches", "in"), ("mm", "mm"), ("yards", "yd")]),
    "angle": ((10, 15, 20, 30, 45, 60, 90, 120, 180, 270),
              [("degrees", "deg"), ("deg", "deg"), ("°", "deg"), ("degree", "deg")]),
    "time": ((1, 2, 3, 5, 10, 15, 20, 30, 45, 0.5),
             [("seconds", "s"), ("secs", "s"), ("s", "s"), ("second", "s"), ("minutes", "min"),
              ("min", "min"), ("minute", "min")]),
    "count": ((1, 2, 3, 4, 5), [("times", "times")]),
    "fraction": ((10, 20, 25, 30, 50, 60, 75, 80, 100), [("percent", "percent"),
                                                         ("%", "percent")]),
}
FIXED_AMOUNTS: dict[str, list[tuple[str, float, str]]] = {  # said, number, unit
    "length": [("half a metre", 0.5, "m"), ("a metre", 1, "m"), ("a foot", 1, "ft"),
               ("a yard", 1, "yd"), ("a meter", 1, "m"), ("an inch", 1, "in")],
    "angle": [("a quarter turn", 0.25, "turn"), ("half a turn", 0.5, "turn"),
              ("a full turn", 1, "turn"), ("a right angle", 90, "deg")],
    "time": [("half a minute", 0.5, "min"), ("a minute", 1, "min"), ("a second", 1, "s"),
             ("a few seconds", 3, "s")],
    "count": [("once", 1, "times"), ("twice", 2, "times"), ("three times", 3, "times"),
              ("3x", 3, "times"), ("a couple of times", 2, "times")],
    "fraction": [("half", 50, "percent"), ("halfway", 50, "percent"), ("full", 100, "percent")],
}
DIRECTIONS = {"forward": ("forward", "forwards", "ahead", "straight ahead", "on", "onward"),
              "backward": ("backward", "backwards", "back", "in reverse", "reverse"),
              "left": ("left", "anticlockwise", "counterclockwise", "port"),
              "right": ("right", "clockwise", "starboard")}
SHORT_DIRECTIONS = {"forward": ("fwd", "fw", "fwd"), "backward": ("bwd", "rev", "back"),
                    "left": ("l", "lt", "left"), "right": ("r", "rt", "right")}
GO = {"forward": ("drive", "go", "move", "roll", "head", "travel", "scoot", "inch", "creep",
                  "advance", "push", "nudge"),
      "backward": ("drive", "go", "move", "roll", "back up", "reverse", "scoot", "inch",
                   "retreat", "creep", "pull")}
TURN_VERBS = ("turn", "spin", "rotate", "pivot", "bank", "veer", "swing", "steer", "twist",
              "yaw")
NUM_NAMES = {"level": "fraction", "distance_m": "length", "degrees": "angle",
             "duration_s": "time", "times": "count"}


@dataclass(frozen=True)
class Said:
    text: str
    value: str | None = ""
    number: float | None = None
    unit: str = ""
    place: str = ""


def _amount(rng: random.Random, dimension: str) -> tuple[str, float, str]:
    if rng.random() < 0.3:
        return rng.choice(FIXED_AMOUNTS[dimension])
    numbers, units = AMOUNTS[dimension]
    number = rng.choice(numbers)
    said_unit, unit = rng.choice(units)
    if dimension == "count":
        return f"{NUMBER_WORDS.get(int(number), str(number))} times", number, unit
    in_words = number in NUMBER_WORDS and rng.random() < 0.4
    text = NUMBER_WORDS[int(number)] if in_words else f"{number:g}"
    glue = "" if said_unit in ("°", "%") or (said_unit in ("m", "cm", "s", "ft") and
                                             not in_words and rng.random() < 0.4) else " "
    return f"{text}{glue}{said_unit}", number, unit


def say(rng: random.Random, device: DeviceType, action: ActionType, device_name: str,
        values: tuple[str, ...]) -> Said:
    """One way to ask for this action of this device."""
    template = rng.choice(action.templates)
    value = rng.choice(values) if values else ""
    direction = value if value in DIRECTIONS else rng.choice(
        ("forward", "backward") if action.op in ("move", "run") else ("left", "right"))
    if "{dir" in template or "{go}" in template:
        value = direction if "direction" in action.param else value
    place = rng.choice(PLACES) if rng.random() < 0.15 else ""
    noun = _noun(rng, device, device_name, place)
    quantity, number, unit = "", None, ""
    numeric = next((p.split(":")[1] for p in action.param.split(";") if p.startswith("num:")),
                   "")
    if numeric and ("{q}" in template):
        quantity, number, unit = _amount(rng, NUM_NAMES.get(numeric, "time"))
        if ("minus {q}" in template or "-{q}" in template) and number is not None:
            quantity, number = quantity.removeprefix("-"), -abs(number)
    elif "around" in template or template in ("do a u-turn", "about face",
                                               "face the other way"):
        number, unit = 180, "deg"
    text = template.format(
        n=noun, v=value, q=quantity, dir=rng.choice(DIRECTIONS[direction]),
        dirshort=rng.choice(SHORT_DIRECTIONS[direction]),
        go=rng.choice(GO.get(direction, GO["forward"])), tv=rng.choice(TURN_VERBS))
    if "{v}" not in template and "{dir" not in template and "{go}" not in template:
        value = ""
    return Said(" ".join(text.split()), value, number, unit, place if place in text else "")


def _noun(rng: random.Random, device: DeviceType, device_name: str, place: str) -> str:
    roll = rng.random()
    own = device_name.replace("_", " ")
    noun = own if roll < 0.45 else rng.choice(device.nouns).removeprefix("the ")
    if place and rng.random() < 0.7:
        noun = f"{place} {noun}" if rng.random() < 0.5 else f"{noun} in the {place}"
    article = rng.choice(("the ", "the ", "the ", "my ", "", "that "))
    return article + noun


POLITE = ("please {r}", "{r} please", "could you {r}", "can you {r} for me", "kindly {r}",
          "i'd like you to {r}", "hey robot, {r}", "olly {r}", "{r}, thanks", "{r} thank you",
          "would you {r}", "hi, when you have a moment could you please {r}? thank you so much",
          "i was wondering if you could {r}", "be a dear and {r}", "{r} asap",
          "if you can, {r}", "go ahead and {r}", "hey can you {r} real quick")
NON_NATIVE = ("please you {r}", "{r} now please", "you {r}", "i want you {r}",
              "please to {r}", "{r} for me please", "make {r}")
TRANSCRIPT = ("um {r}", "uh {r}", "{r} uh", "so um {r}", "okay so {r}", "um can you like {r}",
              "{r} um yeah", "alexa {r}", "hey {r}")
FORMS = {
    "negated": ("don't {r}", "do not {r}", "please don't {r}", "never {r}", "no need to {r}",
                "i don't want you to {r}", "don't {r} yet"),
    "question": ("did you {r}?", "why did you {r}?", "should i {r}?", "is it time to {r}?",
                 "did someone {r}?", "how do i {r}?"),
    "deferred": ("{r} in ten minutes", "{r} at 7 pm", "at nine thirty {r}", "{r} tomorrow",
                 "in an hour {r}", "{r} tonight", "{r} at noon", "in 5 minutes {r}",
                 "{r} later", "every morning at six {r}", "{r} in 45 minutes",
                 "{r} at 3:15 pm", "in two hours {r}", "{r} every day at 6 am",
                 "in 90 seconds {r}", "{r} at half past two", "in a quarter of an hour, {r}",
                 "{r} at 5 pm", "{r} in an hour and a half", "at 10:30 {r}", "{r} on friday",
                 "{r} in 20 mins", "tomorrow at 7 {r}"),
    "conditional": ("if it gets dark, {r}", "when i get home {r}", "{r} if the door opens",
                    "unless it rains, {r}", "as soon as i leave, {r}",
                    "if the battery is low {r}", "when the timer ends {r}"),
    "statement": ("yesterday you had to {r}", "my friend said to {r}", "i forgot to {r}",
                  "someone asked me to {r}", "i think you should never {r}"),
}


def _typo(rng: random.Random, text: str) -> str:
    words = text.split()
    long_ones = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
    if not long_ones:
        return text
    i = rng.choice(long_ones)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    words[i] = rng.choice((w[:j] + w[j + 1:], w[:j] + w[j + 1] + w[j] + w[j + 2:],
                           w[:j] + w[j] + w[j:]))
    return " ".join(words)


CORRECTIONS = ("don't {x}, {r}", "no, {r}", "not that, {r}", "{r} instead", "no wait, {r}",
               "{r}, not {x}", "don't {x}. {r}", "sorry, i meant {r}")


def correction(rng: random.Random, request: str, other: str) -> str:
    """A request corrected: the reading is the one asked for last ("don't go forward, go
    back")."""
    return rng.choice(CORRECTIONS).format(r=request, x=other)


def wrap(rng: random.Random, request: str) -> tuple[str, str]:
    """The request in a voice, then maybe in a form the rules decide: (text, form)."""
    roll = rng.random()
    form = "plain"
    if roll < 0.25:
        request, form = rng.choice(POLITE).format(r=request), "polite"
    elif roll < 0.33:
        request = rng.choice(NON_NATIVE).format(r=request)
    elif roll < 0.4:
        request = rng.choice(TRANSCRIPT).format(r=request)
    if rng.random() < 0.22:
        form = rng.choice(list(FORMS))
        request = rng.choice(FORMS[form]).format(r=request)
    if rng.random() < 0.12:
        request = _typo(rng, request)
    style = rng.random()
    if style < 0.15:
        request = request[0].upper() + request[1:] + rng.choice((".", "!", ""))
    elif style < 0.2:
        request = request.upper()
    return request, form
