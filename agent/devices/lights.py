"""Lights: a plain LED, a dimmable one (PWM) and a colour one (RGB), and the colours they know."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from agent.devices._kind import ON_OFF, Ops, OpSpec, Output, Params, Publish, SwitchedOutput, Wiring

COLORS: dict[str, tuple[float, float, float]] = {
    "white": (1, 1, 1), "warm white": (1, 0.75, 0.4), "red": (1, 0, 0), "green": (0, 1, 0),
    "blue": (0, 0, 1), "yellow": (1, 1, 0), "cyan": (0, 1, 1), "magenta": (1, 0, 1),
    "purple": (0.5, 0, 1), "pink": (1, 0.4, 0.7), "orange": (1, 0.5, 0),
}
STEP = 0.25  # brighter/dimmer change the level by this much
STEPPED = {"brighter": OpSpec(), "dimmer": OpSpec()}


def colour_name(rgb: object) -> str | None:
    """The name in COLORS of an rgb value, or None when it is none of them."""
    if not isinstance(rgb, list | tuple) or len(rgb) != 3:
        return None
    return next((name for name, value in COLORS.items()
                 if all(abs(a - b) < 0.01 for a, b in zip(rgb, value, strict=True))), None)


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


def stepped(op: str, current: float) -> float:
    """The level after brighter or dimmer: a step up or down, never quite off."""
    if op == "brighter":
        return min(1.0, current + STEP)
    return max(STEP, current - STEP)


class Led(SwitchedOutput):
    kind = "led"
    ops: ClassVar[Ops] = ON_OFF
    concept = "light"
    gpiozero_class = "LED"


class PwmLed(Output):
    kind = "pwm_led"
    ops: ClassVar[Ops] = {**ON_OFF, "brightness": OpSpec(required=frozenset({"level"})), **STEPPED}
    wiring = ("pin",)
    concept = "light"
    pwm = True

    def __init__(self, name: str, config: Wiring, hw: Any) -> None:
        super().__init__(name, config, hw)
        self.level = 1.0

    @classmethod
    def create(cls, name: str, config: Wiring, pin_factory: Any, publish: Publish) -> Output:
        import gpiozero

        return cls(name, config, gpiozero.PWMLED(config.pin, pin_factory=pin_factory))

    @classmethod
    def said(cls, shown: str, be: str, state: Mapping[str, Any], then: str) -> str:
        level = float(state.get("value") or 0.0)
        return f"The {shown} {be} on at {level:.0%}." if level > 0 else f"The {shown} {be} off."

    def drive(self, op: str, p: Params) -> None:
        if op == "on":
            self.level = 1.0
            self.hw.on()
        elif op == "off":
            self.hw.off()
        elif op == "brightness":
            self.level = min(1.0, max(0.0, float(p["level"])))
            self.hw.value = self.level
        else:
            self.level = stepped(op, self.hw.value or self.level)
            self.hw.value = self.level

    def details(self) -> dict[str, Any]:
        return {"value": round(self.hw.value, 3)}


class RgbLed(Output):
    kind = "rgb_led"
    ops: ClassVar[Ops] = {**ON_OFF, **STEPPED, "color": OpSpec(required=frozenset({"color"}))}
    wiring = ("pins",)
    pin_names = ("red", "green", "blue")
    concept = "light"
    picks_a_value = True  # any colour is harmless, and the one it shows is known
    takes_colour_as_result = True
    pwm = True  # gpiozero's RGBLED mixes colours with PWM

    def __init__(self, name: str, config: Wiring, hw: Any) -> None:
        super().__init__(name, config, hw)
        self.level = 1.0
        self.color: tuple[float, float, float] = COLORS["white"]

    @classmethod
    def create(cls, name: str, config: Wiring, pin_factory: Any, publish: Publish) -> Output:
        import gpiozero

        return cls(name, config, gpiozero.RGBLED(*config.pins or (), pin_factory=pin_factory))

    @classmethod
    def value_problem(cls, op: str, name: str, value: Any) -> str | None:
        if name == "color" and parse_color(str(value)) is None:
            return (f"{value!r} is not a colour this light knows (names: {sorted(COLORS)}, "
                    "or #rrggbb)")
        return super().value_problem(op, name, value)

    @classmethod
    def said(cls, shown: str, be: str, state: Mapping[str, Any], then: str) -> str:
        if not state.get("on"):
            return f"The {shown} {be} off."
        rgb = state.get("color")
        colour = colour_name(rgb) or ("colour " + ", ".join(f"{c:g}" for c in rgb)
                                      if isinstance(rgb, list | tuple) else "colour unknown")
        return f"The {shown} {be} on, {colour}."

    def drive(self, op: str, p: Params) -> None:
        if op == "off":
            self.hw.off()
            return
        if op == "color":
            color = parse_color(str(p["color"]))
            if color is None:  # the gate checks colours first; this guards a bad config enum
                raise ValueError(f"unknown colour {p['color']!r}")
            self.color = color
        elif op in ("brighter", "dimmer"):
            self.level = stepped(op, self.level if self.hw.is_lit else 0.0)
        self.hw.color = tuple(c * self.level for c in self.color)

    def details(self) -> dict[str, Any]:
        return {"on": self.hw.is_lit, "color": [round(c, 3) for c in self.hw.value]}
