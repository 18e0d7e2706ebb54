"""A servo: holds an angle, or is detached (no pulses: its safe state)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from agent.devices._kind import Ops, OpSpec, Output, Params, Publish, Wiring


class Servo(Output):
    kind = "servo"
    ops: ClassVar[Ops] = {"angle": OpSpec(required=frozenset({"degrees"})),
                          "detach": OpSpec(safe=True)}
    wiring = ("pin",)
    concept = "angle"
    pwm = True
    moves_a_part = True  # stops on link loss; "stop" in text is not its stop

    @classmethod
    def create(cls, name: str, config: Wiring, pin_factory: Any, publish: Publish) -> Output:
        import gpiozero

        return cls(name, config, gpiozero.AngularServo(
            config.pin, initial_angle=None, min_angle=config.min_angle,
            max_angle=config.max_angle, pin_factory=pin_factory))

    @classmethod
    def said(cls, shown: str, be: str, state: Mapping[str, Any], then: str) -> str:
        angle = state.get("angle")
        return (f"The {shown} {be} at {angle:g}°." if isinstance(angle, int | float)
                else f"The {shown} {be} detached (not holding an angle){then}.")

    def drive(self, op: str, p: Params) -> None:
        if op == "detach":
            self.hw.detach()
        else:
            self.hw.angle = float(p["degrees"])

    def safe(self) -> None:
        self.hw.detach()
        self.last_op = "safe"

    def details(self) -> dict[str, Any]:
        return {"angle": self.hw.angle}
