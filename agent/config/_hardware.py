"""What the robot has: its sensors and its devices (the wiring of each)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from agent.config._base import Pin, Strict, plain_topic
from agent.devices import KINDS

SensorKind = Literal["number", "bool", "event"]


class SensorConfig(Strict):
    topic: str
    kind: SensorKind = "number"  # event: free text from another part of the stack
    unit: str = ""  # of a number: "m", "%", "°C"...
    max_age_s: Annotated[float, Field(gt=0, le=3600)] = 1.0
    description: str = ""
    window_s: Annotated[float, Field(gt=0, le=86400)] = 60.0  # statistics for the cloud planner

    @field_validator("topic")
    @classmethod
    def _plain_topic(cls, value: str) -> str:
        return plain_topic(value, may_be_empty=False)


class DeviceConfig(Strict):
    kind: str
    pin: Pin | None = None
    pins: list[Pin] | None = None
    left: tuple[Pin, Pin] | None = None
    right: tuple[Pin, Pin] | None = None
    forward: Pin | None = None
    backward: Pin | None = None
    active_high: bool = True
    speed_mps: Annotated[float, Field(gt=0, le=20)] = 0.25
    turn_dps: Annotated[float, Field(gt=0, le=3600)] = 90
    min_angle: float = -90
    max_angle: float = 90
    topic: str = ""  # an mqtt device's
    # an mqtt device's operation is published again this often while it holds (a heartbeat)
    heartbeat_s: Annotated[float, Field(ge=0.05, le=60)] | None = None
    # it moves something, whatever its kind (an mqtt device driving a base, a relay driving a
    # conveyor): made safe when the e-stop's link is lost, as motors and servos are
    moving: bool = False

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"no device kind {value!r} (kinds: {', '.join(sorted(KINDS))})")
        return value

    @field_validator("topic")
    @classmethod
    def _device_topic(cls, value: str) -> str:
        return plain_topic(value, may_be_empty=True)  # an mqtt device's; other kinds have none

    def used_pins(self) -> list[int]:
        pins = [p for p in (self.pin, self.forward, self.backward) if p is not None]
        pins += list(self.pins or []) + list(self.left or ()) + list(self.right or ())
        return pins
