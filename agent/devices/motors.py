"""What moves the robot: a motor, and a robot's two motors (left and right) that move and turn it
on the spot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from agent.devices._kind import Ops, OpSpec, Output, Params, Publish, Wiring

SPEED = {"speed": 1.0}
FORWARD_BACKWARD = {"direction": frozenset({"forward", "backward"})}


class Motor(Output):
    kind = "motor"
    ops: ClassVar[Ops] = {
        "run": OpSpec({"direction": "forward", **SPEED}, frozenset({"duration_s"}), timed=True,
                      choices=FORWARD_BACKWARD),
        "stop": OpSpec(safe=True)}
    wiring = ("forward", "backward")
    moves = True
    pwm = True  # speed

    @classmethod
    def create(cls, name: str, config: Wiring, pin_factory: Any, publish: Publish) -> Output:
        import gpiozero

        return cls(name, config, gpiozero.Motor(config.forward, config.backward,
                                                pin_factory=pin_factory))

    @classmethod
    def said(cls, shown: str, be: str, state: Mapping[str, Any], then: str) -> str:
        moving = any(state.get(k) for k in ("left", "right", "value"))
        return f"The {shown} {be} {'moving' if moving else 'stopped'}{then}."

    def drive(self, op: str, p: Params) -> None:
        if op == "stop":
            self.hw.stop()
        elif p["direction"] == "backward":
            self.hw.backward(float(p["speed"]))
        else:
            self.hw.forward(float(p["speed"]))

    def safe(self) -> None:
        self.hw.stop()
        self.last_op = "safe"

    def details(self) -> dict[str, Any]:
        return {"value": round(self.hw.value, 3)}


class Robot(Motor):
    """Two motors, left and right: moves and turns on the spot."""

    kind = "robot"
    ops: ClassVar[Ops] = {
        "move": OpSpec({"direction": "forward", **SPEED}, frozenset({"distance_m"}), timed=True,
                       choices=FORWARD_BACKWARD),
        "turn": OpSpec({"direction": "left", **SPEED}, frozenset({"degrees"}), timed=True,
                       choices={"direction": frozenset({"left", "right"})}),
        "stop": OpSpec(safe=True)}
    wiring = ("left", "right")

    @classmethod
    def create(cls, name: str, config: Wiring, pin_factory: Any, publish: Publish) -> Output:
        import gpiozero

        f = {"pin_factory": pin_factory}
        return cls(name, config, gpiozero.Robot(left=gpiozero.Motor(*config.left or (), **f),
                                                right=gpiozero.Motor(*config.right or (), **f),
                                                **f))

    @classmethod
    def duration_s(cls, device: Wiring, op: str, params: Params) -> float | None:
        spec = cls.op_spec(op)
        if spec is None or not spec.timed:
            return None
        p = {**spec.defaults, **params}
        speed = max(float(p.get("speed", 1.0)), 1e-3)
        if op == "move":
            return float(p["distance_m"]) / (device.speed_mps * speed)
        return float(p["degrees"]) / (device.turn_dps * speed)

    def drive(self, op: str, p: Params) -> None:
        speed = float(p.get("speed", 1.0))
        if op == "stop":
            self.hw.stop()
        elif op == "move":
            (self.hw.backward if p["direction"] == "backward" else self.hw.forward)(speed)
        else:
            (self.hw.right if p["direction"] == "right" else self.hw.left)(speed)

    def motion(self) -> tuple[float, float]:
        left, right = self.hw.value
        return (self.config.speed_mps * (left + right) / 2,
                self.config.turn_dps * (right - left) / 2)

    def details(self) -> dict[str, Any]:
        left, right = self.hw.value
        return {"left": round(left, 3), "right": round(right, 3)}
