"""The model's reading bound to a config: which action, with which parameters.

Deterministic, from the config alone. A frame (agent.interpret._frame) names an operation and a
thing in general words; each action of the config gets the same two words from its operation,
its device's kind and name and its description, and the frame binds to the one action whose
words it has and whose values take the frame's value. A call names the action itself: it binds
when the action exists and takes the value. Numbers are converted to the action's units by the
same code as the rules' (agent.interpret._slots). No action, two actions, or a value the action
lacks: nothing is bound, and the model's reading is no evidence for anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from agent.config import ActionConfig, Config
from agent.interpret._frame import Call, Frame, Listed
from agent.interpret._slots import extract

# A config's operation names, as the frame says them (a kind's own, and common mqtt ones)
OP_WORDS = {"brightness": "level", "pulse": "start", "shoot": "photo", "snap": "photo",
            "capture": "photo", "spray": "mist", "hue": "color", "colour": "color"}
# Frame operations that a pulsed appliance or a motor run answers to: "turn on the kettle"
STARTS = frozenset({"start", "on", "run"})
OPENS = {"open": "open", "close": "close", "shut": "close"}
# Words in a device's name, as the frame's things
THING_WORDS = {
    "light": "light", "lights": "light", "lamp": "light", "bulb": "light", "led": "light",
    "strip": "light", "headlight": "light", "spotlight": "light", "torch": "light",
    "glow": "light", "plug": "plug", "socket": "plug", "outlet": "plug", "fan": "fan",
    "extractor": "fan", "blower": "fan", "heater": "heater", "radiator": "heater",
    "warmer": "heater", "mat": "heater", "tv": "tv", "telly": "tv", "television": "tv",
    "coffee": "coffee", "espresso": "coffee", "vacuum": "vacuum", "cleaner": "vacuum",
    "roomba": "vacuum", "hoover": "vacuum", "kettle": "kettle", "pump": "pump",
    "sprinkler": "pump", "fogger": "fog", "fog": "fog", "smoke": "fog", "horn": "horn",
    "buzzer": "horn", "siren": "horn", "bell": "horn", "beeper": "horn", "door": "door",
    "gate": "door", "hatch": "door", "flap": "door", "vent": "vent", "window": "vent",
    "louvre": "vent", "arm": "arm", "mount": "arm", "boom": "arm", "conveyor": "belt",
    "belt": "belt", "winch": "belt", "turntable": "belt", "blinds": "blinds",
    "curtains": "blinds", "shutters": "blinds", "shades": "blinds", "speaker": "speaker",
    "stereo": "speaker", "camera": "camera", "cam": "camera", "webcam": "camera",
    "mister": "mister", "sprayer": "mister", "humidifier": "mister", "backdrop": "backdrop",
    "background": "backdrop"}
KIND_THINGS = {"robot": "wheels", "rgb_led": "light", "led": "light", "pwm_led": "light",
               "buzzer": "horn"}


@dataclass(frozen=True)
class Bound:
    """The model's reading as one of the config's actions; question: a value is still needed
    or a number cannot be taken (asked back, as the rules would)."""

    action: str
    params: dict[str, Any] = field(default_factory=dict)
    question: str = ""
    # how it was bound, a kind of reading to calibrate apart: "frame" (operation, thing and
    # value all fit), "by_value" (the thing and its value fit, the operation word did not:
    # "move the wheels right" is a turn, "fan off" a fan speed), "call" (the action named)
    how: str = "frame"


def listed(config: Config) -> list[Listed]:
    """The config's actions as the call prompt lists them, in the config's order."""
    out = []
    for name, a in config.actions.items():
        enums = [spec.enum for spec in a.params.values() if spec.enum is not None]
        numeric = any(s.type in ("number", "integer") and s.enum is None
                      for s in a.params.values())
        out.append(Listed(name, a.description or name.replace("_", " "),
                          tuple(str(v) for v in enums[0]) if enums else (), numeric))
    return out


def signature(config: Config, name: str) -> tuple[str, str]:
    """(operation, thing) of an action in the frame's words."""
    action = config.actions[name]
    device = config.devices[action.device]
    described = action.description.lower().split()
    op = OP_WORDS.get(action.op, action.op)
    if op == "angle" and described and described[0] in OPENS and all(
            s.default is not None for s in action.params.values()):
        op = OPENS[described[0]]  # "open the door (servo arm to 90 degrees)", no angle to say
    words = action.device.lower().replace("-", "_").split("_")
    thing = next((THING_WORDS[w] for w in reversed(words) if w in THING_WORDS), "")
    return op, thing or KIND_THINGS.get(device.kind, words[-1])


def _ops_meet(frame_op: str, op: str, config_op: str) -> bool:
    if frame_op == op:
        return True
    if config_op in ("pulse", "run"):
        return frame_op in STARTS
    return False


def _takes(action: ActionConfig, value: str) -> bool:
    return not value or any(value in map(str, spec.enum or ()) for spec in action.params.values())


def bind_frame(config: Config, frame: Frame | None) -> Bound | None:
    if frame is None:
        return None
    fits = []
    for name, action in config.actions.items():
        op, thing = signature(config, name)
        if _ops_meet(frame.op, op, action.op) and frame.thing in ("", thing) and \
                _takes(action, frame.value):
            fits.append(name)
    how = "frame"
    if not fits and frame.value:
        how = "by_value"
        fits = [name for name, action in config.actions.items()
                if frame.thing in ("", signature(config, name)[1]) and any(
                    frame.value in map(str, s.enum or ()) for s in action.params.values())]
    if len(fits) != 1:
        return None
    return replace(_with_params(config, fits[0], frame.value, frame.number, frame.unit),
                   how=how)


def bind_call(config: Config, call: Call) -> Bound | None:
    if not call.action or call.action not in config.actions or \
            not _takes(config.actions[call.action], call.value):
        return None
    return replace(_with_params(config, call.action, call.value, call.number, call.unit),
                   how="call")


def _with_params(config: Config, name: str, value: str, number: float | None, unit: str
                 ) -> Bound:
    said = [value] if value else []
    action = config.actions[name]
    # A number read for an action that takes none is the time of a request for later ("in 45
    # minutes") or a word that is not an amount: the rules read times and ask about numbers
    if number is not None and any(s.type in ("number", "integer") and s.enum is None
                                  for s in action.params.values()):
        said += [f"{number:g}".replace("-", "minus "), unit]
    slots = extract(action, " ".join(said))
    return Bound(name, slots.params, slots.question)
