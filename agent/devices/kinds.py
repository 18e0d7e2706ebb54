"""What each kind of device can do: its operations, the parameters each reads, which run for a
time and which only ever make the device safer. A pure catalogue, imported by the config check,
the gate, the parameter checks and the interpreter, none of which touches hardware.

The hardware side of each kind is in agent.devices.outputs. To add a kind: a KindSpec here, an
Output class there (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

DeviceKind = Literal[
    "led", "pwm_led", "rgb_led", "buzzer", "relay", "motor", "robot", "servo", "mqtt"
]
Params = dict[str, Any]


class Wiring(Protocol):
    """What the catalogue reads of a device's configuration (agent.config.DeviceConfig)."""

    @property
    def kind(self) -> DeviceKind: ...
    @property
    def pins(self) -> list[int] | None: ...
    @property
    def speed_mps(self) -> float: ...
    @property
    def turn_dps(self) -> float: ...


@dataclass(frozen=True)
class OpSpec:
    defaults: dict[str, Any] = field(default_factory=dict)  # optional parameters and their values
    required: frozenset[str] = frozenset()
    timed: bool = False  # runs for a computed time, then the device goes safe
    safe: bool = False  # only ever makes the device safer: never rate limited, allowed in e-stop
    choices: dict[str, frozenset[str]] = field(default_factory=dict)  # fixed vocabularies

    @property
    def params(self) -> frozenset[str]:
        return self.required | frozenset(self.defaults)


@dataclass(frozen=True)
class KindSpec:
    ops: dict[str, OpSpec]
    wiring: tuple[str, ...]  # the device configuration keys this kind needs
    moves: bool = False  # it moves the robot or a part of it: "stop" in text means its stop
    pin_names: tuple[str, ...] = ()  # for kinds wired with a list of pins: what each one is

    def check_wiring(self, device: Wiring) -> list[str]:
        problems = [f"{key}: a {device.kind} device needs it" for key in self.wiring
                    if not getattr(device, key)]
        if self.pin_names and device.pins and len(device.pins) != len(self.pin_names):
            count = ("no", "one", "two", "three", "four")[len(self.pin_names)]
            problems.append(f"pins: an {device.kind} needs {count} pins: "
                            f"{', '.join(self.pin_names)}")
        return problems


STOP_LIKE = ("stop", "off", "detach", "safe")  # what an mqtt device's safe operations are called
SPEED = {"speed": 1.0}
FORWARD_BACKWARD = {"direction": frozenset({"forward", "backward"})}
ON_OFF = {"on": OpSpec(), "off": OpSpec(safe=True)}
KINDS: dict[str, KindSpec] = {
    "led": KindSpec(ON_OFF, ("pin",)),
    "pwm_led": KindSpec(
        {**ON_OFF, "brightness": OpSpec(required=frozenset({"level"})),
         "brighter": OpSpec(), "dimmer": OpSpec()}, ("pin",)),
    "rgb_led": KindSpec(
        {**ON_OFF, "brighter": OpSpec(), "dimmer": OpSpec(),
         "color": OpSpec(required=frozenset({"color"}))}, ("pins",),
        pin_names=("red", "green", "blue")),
    # A beep sounds `times` times for duration_s each, with a gap as long as a beep after each.
    "buzzer": KindSpec({**ON_OFF, "beep": OpSpec({"duration_s": 0.2, "times": 1}, timed=True)},
                       ("pin",)),
    "relay": KindSpec({**ON_OFF, "pulse": OpSpec({"duration_s": 0.5}, timed=True)}, ("pin",)),
    "motor": KindSpec(
        {"run": OpSpec({"direction": "forward", **SPEED}, frozenset({"duration_s"}), timed=True,
                        choices=FORWARD_BACKWARD),
         "stop": OpSpec(safe=True)}, ("forward", "backward"), moves=True),
    "robot": KindSpec(
        {"move": OpSpec({"direction": "forward", **SPEED}, frozenset({"distance_m"}), timed=True,
                         choices=FORWARD_BACKWARD),
         "turn": OpSpec({"direction": "left", **SPEED}, frozenset({"degrees"}), timed=True,
                        choices={"direction": frozenset({"left", "right"})}),
         "stop": OpSpec(safe=True)}, ("left", "right"), moves=True),
    "servo": KindSpec(
        {"angle": OpSpec(required=frozenset({"degrees"})), "detach": OpSpec(safe=True)}, ("pin",)),
    # An mqtt device forwards any operation, with any parameters, to another part of the stack;
    # the stop-like names are safe there too.
    "mqtt": KindSpec({"*": OpSpec(), **{op: OpSpec(safe=True) for op in STOP_LIKE}},
                     ("topic",)),
}

COLORS: dict[str, tuple[float, float, float]] = {
    "white": (1, 1, 1), "warm white": (1, 0.75, 0.4), "red": (1, 0, 0), "green": (0, 1, 0),
    "blue": (0, 0, 1), "yellow": (1, 1, 0), "cyan": (0, 1, 1), "magenta": (1, 0, 1),
    "purple": (0.5, 0, 1), "pink": (1, 0.4, 0.7), "orange": (1, 0.5, 0),
}
STEP = 0.25  # brighter/dimmer change the level by this much


def colour_name(rgb: object) -> str | None:
    """The name in COLORS of an rgb value, or None when it is none of them."""
    if not isinstance(rgb, list | tuple) or len(rgb) != 3:
        return None
    return next((name for name, value in COLORS.items()
                 if all(abs(a - b) < 0.01 for a, b in zip(rgb, value, strict=True))), None)


def doing(op: str, device: str) -> str:
    """An operation on a device, in words: "move on drive", but "headlight on", not "on on
    headlight"."""
    return f"{device} {op}" if op in ("on", "off") else f"{op} on {device}"


def op_spec(kind: str, op: str) -> OpSpec | None:
    """The operation of a kind, or None when the kind has no such operation."""
    ops = KINDS[kind].ops
    return ops.get(op) or ops.get("*")


def is_safe_op(kind: str, op: str) -> bool:
    spec = op_spec(kind, op)
    return spec is not None and spec.safe


def duration_s(device: Wiring, op: str, params: Params) -> float | None:
    """How long a timed operation runs with these parameters; None for an untimed one."""
    spec = op_spec(device.kind, op)
    if spec is None or not spec.timed:
        return None
    p = {**spec.defaults, **params}
    speed = max(float(p.get("speed", 1.0)), 1e-3)
    if device.kind == "robot" and op == "move":
        return float(p["distance_m"]) / (device.speed_mps * speed)
    if device.kind == "robot" and op == "turn":
        return float(p["degrees"]) / (device.turn_dps * speed)
    if device.kind == "buzzer" and op == "beep":
        return beep_count(p["times"]) * 2 * float(p["duration_s"])  # each beep, then its gap
    return float(p["duration_s"])


def beep_count(value: Any) -> int:
    """A beep's `times` as an int (JSON may say 2.0; value_problem has refused anything else)."""
    return int(value)


def value_problem(kind: str, op: str, name: str, value: Any) -> str | None:
    """What the device itself cannot accept, beyond the action's own schema."""
    spec = op_spec(kind, op)
    choices = spec.choices.get(name) if spec else None
    if choices is not None and value not in choices:
        return f"{name} must be one of {sorted(choices)}"
    if kind == "buzzer" and op == "beep" and name == "times" and not _is_count(value):
        return f"times must be a whole number of at least 1, not {value!r}"
    if kind == "rgb_led" and name == "color" and parse_color(str(value)) is None:
        return f"{value!r} is not a colour this light knows (names: {sorted(COLORS)}, or #rrggbb)"
    return None


def _is_count(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and float(value).is_integer() and value >= 1)


def parse_color(value: str) -> tuple[float, float, float] | None:
    text = value.strip().lower()
    if text in COLORS:
        return COLORS[text]
    if len(text) == 7 and text.startswith("#"):
        try:
            red, green, blue = (int(text[i:i + 2], 16) / 255 for i in (1, 3, 5))
        except ValueError:
            return None
        return red, green, blue
    return None
