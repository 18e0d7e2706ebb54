"""Output devices: what each kind of device can do, and the gpiozero objects that do it.

Each kind declares its operations (the parameters each reads, whether it runs for a time,
whether it only ever makes the device safer) so the config check and the safety gate can reason
about an action without touching hardware. Every device can be driven to its safe state.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from agent.config import DeviceConfig

DeviceKind = Literal[
    "led", "pwm_led", "rgb_led", "buzzer", "relay", "motor", "robot", "servo", "mqtt"
]
Params = dict[str, Any]


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
    wiring: tuple[str, ...]  # the DeviceConfig keys this kind needs

    def check_wiring(self, device: DeviceConfig) -> list[str]:
        problems = [f"{key}: a {device.kind} device needs it" for key in self.wiring
                    if not getattr(device, key)]
        if device.kind == "rgb_led" and device.pins and len(device.pins) != 3:
            problems.append("pins: an rgb_led needs three pins: red, green, blue")
        return problems


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
         "color": OpSpec(required=frozenset({"color"}))}, ("pins",)),
    "buzzer": KindSpec({**ON_OFF, "beep": OpSpec({"duration_s": 0.2}, timed=True)}, ("pin",)),
    "relay": KindSpec({**ON_OFF, "pulse": OpSpec({"duration_s": 0.5}, timed=True)}, ("pin",)),
    "motor": KindSpec(
        {"run": OpSpec({"direction": "forward", **SPEED}, frozenset({"duration_s"}), timed=True,
                        choices=FORWARD_BACKWARD),
         "stop": OpSpec(safe=True)}, ("forward", "backward")),
    "robot": KindSpec(
        {"move": OpSpec({"direction": "forward", **SPEED}, frozenset({"distance_m"}), timed=True,
                         choices=FORWARD_BACKWARD),
         "turn": OpSpec({"direction": "left", **SPEED}, frozenset({"degrees"}), timed=True,
                        choices={"direction": frozenset({"left", "right"})}),
         "stop": OpSpec(safe=True)}, ("left", "right")),
    "servo": KindSpec(
        {"angle": OpSpec(required=frozenset({"degrees"})), "detach": OpSpec(safe=True)}, ("pin",)),
    # An mqtt device forwards any operation, with any parameters, to another part of the stack.
    "mqtt": KindSpec({"*": OpSpec()}, ("topic",)),
}

COLORS: dict[str, tuple[float, float, float]] = {
    "white": (1, 1, 1), "warm white": (1, 0.75, 0.4), "red": (1, 0, 0), "green": (0, 1, 0),
    "blue": (0, 0, 1), "yellow": (1, 1, 0), "cyan": (0, 1, 1), "magenta": (1, 0, 1),
    "purple": (0.5, 0, 1), "pink": (1, 0.4, 0.7), "orange": (1, 0.5, 0),
}
STEP = 0.25  # brighter/dimmer change the level by this much


def op_spec(kind: str, op: str) -> OpSpec:
    ops = KINDS[kind].ops
    return ops.get(op) or ops["*"]


def duration_s(device: DeviceConfig, op: str, params: Params) -> float | None:
    """How long a timed operation runs with these parameters; None for an untimed one."""
    spec = op_spec(device.kind, op)
    if not spec.timed:
        return None
    p = {**spec.defaults, **params}
    speed = max(float(p.get("speed", 1.0)), 1e-3)
    if device.kind == "robot" and op == "move":
        return float(p["distance_m"]) / (device.speed_mps * speed)
    if device.kind == "robot" and op == "turn":
        return float(p["degrees"]) / (device.turn_dps * speed)
    return float(p["duration_s"])


def value_problem(kind: str, op: str, name: str, value: Any) -> str | None:
    """What the device itself cannot accept, beyond the action's own schema."""
    choices = op_spec(kind, op).choices.get(name)
    if choices is not None and value not in choices:
        return f"{name} must be one of {sorted(choices)}"
    if kind == "rgb_led" and name == "color" and parse_color(str(value)) is None:
        return f"{value!r} is not a colour this light knows (names: {sorted(COLORS)}, or #rrggbb)"
    return None


def parse_color(value: str) -> tuple[float, float, float] | None:
    text = value.strip().lower()
    if text in COLORS:
        return COLORS[text]
    if len(text) == 7 and text.startswith("#"):
        try:
            return tuple(int(text[i:i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]
        except ValueError:
            return None
    return None


class Output:
    """One configured device: apply an operation, go safe, report state."""

    def __init__(self, name: str, config: DeviceConfig, hw: Any) -> None:
        self.name = name
        self.config = config
        self.hw = hw
        self.level = 1.0  # brightness for dimmable lights
        self.color: tuple[float, float, float] = COLORS["white"]
        self.last_op = "safe"

    def apply(self, op: str, params: Params) -> None:
        p = {**op_spec(self.config.kind, op).defaults, **params}
        getattr(self, f"_{self.config.kind}")(op, p)
        self.last_op = op

    def safe(self) -> None:
        kind = self.config.kind
        if kind == "servo":
            self.hw.detach()
        elif kind in ("motor", "robot"):
            self.hw.stop()
        else:
            self.hw.off()
        self.last_op = "safe"

    def state(self) -> dict[str, Any]:
        kind = self.config.kind
        state: dict[str, Any] = {"kind": kind, "op": self.last_op}
        if kind == "robot":
            left, right = self.hw.value
            state.update(left=round(left, 3), right=round(right, 3))
        elif kind == "servo":
            state["angle"] = self.hw.angle
        elif kind == "rgb_led":
            state.update(on=self.hw.is_lit, color=[round(c, 3) for c in self.hw.value])
        elif kind in ("pwm_led", "motor"):
            state["value"] = round(self.hw.value, 3)
        elif kind != "mqtt":
            state["on"] = bool(self.hw.value)
        return state

    def close(self) -> None:
        if self.hw is not None and hasattr(self.hw, "close"):
            self.hw.close()

    def _on_off(self, op: str) -> None:
        self.hw.on() if op == "on" else self.hw.off()

    def _led(self, op: str, p: Params) -> None:
        self._on_off(op)

    def _buzzer(self, op: str, p: Params) -> None:
        self.hw.on() if op == "beep" else self._on_off(op)

    def _relay(self, op: str, p: Params) -> None:
        self.hw.on() if op == "pulse" else self._on_off(op)

    def _pwm_led(self, op: str, p: Params) -> None:
        if op in ("on", "off"):
            self.level = 1.0 if op == "on" else self.level
            self._on_off(op)
            return
        self.level = _stepped(op, float(p.get("level", self.level)), self.hw.value or self.level)
        self.hw.value = self.level

    def _rgb_led(self, op: str, p: Params) -> None:
        if op == "off":
            self.hw.off()
            return
        if op == "color":
            color = parse_color(str(p["color"]))
            if color is None:  # the gate checks colours first; this guards a bad config enum
                raise ValueError(f"unknown colour {p['color']!r}")
            self.color = color
        elif op in ("brighter", "dimmer"):
            self.level = _stepped(op, self.level, self.level if self.hw.is_lit else 0.0)
        self.hw.color = tuple(c * self.level for c in self.color)

    def _motor(self, op: str, p: Params) -> None:
        if op == "stop":
            self.hw.stop()
        elif p["direction"] == "backward":
            self.hw.backward(float(p["speed"]))
        else:
            self.hw.forward(float(p["speed"]))

    def _robot(self, op: str, p: Params) -> None:
        speed = float(p.get("speed", 1.0))
        if op == "stop":
            self.hw.stop()
        elif op == "move":
            (self.hw.backward if p["direction"] == "backward" else self.hw.forward)(speed)
        else:
            (self.hw.right if p["direction"] == "right" else self.hw.left)(speed)

    def _servo(self, op: str, p: Params) -> None:
        if op == "detach":
            self.hw.detach()
        else:
            self.hw.angle = float(p["degrees"])

    def _mqtt(self, op: str, p: Params) -> None:
        self.hw(json.dumps({"op": op, "params": p}, separators=(",", ":")))


def _stepped(op: str, level: float, current: float) -> float:
    if op == "brighter":
        return min(1.0, current + STEP)
    if op == "dimmer":
        return max(STEP, current - STEP)
    return min(1.0, max(0.0, level))


class MqttForwarder:
    """The 'hardware' of an mqtt device: publishes to its topic; safe() tells the receiver."""

    def __init__(self, topic: str, publish: Callable[[str, str], object]) -> None:
        self.topic = topic
        self.publish = publish

    def __call__(self, payload: str) -> None:
        self.publish(self.topic, payload)

    def off(self) -> None:
        self.publish(self.topic, '{"op":"safe"}')


def build_outputs(
    devices: dict[str, DeviceConfig], pin_factory: Any, publish: Callable[[str, str], object]
) -> dict[str, Output]:
    """Create every configured device, each already in its safe state."""
    import gpiozero as gz

    def make(cfg: DeviceConfig) -> Any:
        f = {"pin_factory": pin_factory}
        match cfg.kind:
            case "led":
                return gz.LED(cfg.pin, **f)
            case "pwm_led":
                return gz.PWMLED(cfg.pin, **f)
            case "rgb_led":
                return gz.RGBLED(*cfg.pins or (), **f)
            case "buzzer":
                return gz.Buzzer(cfg.pin, **f)
            case "relay":
                return gz.OutputDevice(cfg.pin, active_high=cfg.active_high, initial_value=False,
                                       **f)
            case "motor":
                return gz.Motor(cfg.forward, cfg.backward, **f)
            case "robot":
                return gz.Robot(left=gz.Motor(*cfg.left or (), **f),
                                right=gz.Motor(*cfg.right or (), **f), **f)
            case "servo":
                return gz.AngularServo(cfg.pin, initial_angle=None, min_angle=cfg.min_angle,
                                       max_angle=cfg.max_angle, **f)
            case _:
                return MqttForwarder(cfg.topic, publish)

    outputs: dict[str, Output] = {}
    try:
        for name, cfg in devices.items():
            outputs[name] = Output(name, cfg, make(cfg))
    except Exception:
        for out in outputs.values():
            out.close()
        raise
    return outputs
