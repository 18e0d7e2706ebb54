"""What the robot has: its sensors and its devices (the wiring of each)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from agent.config._base import Pin, Strict, plain_topic
from agent.devices import KINDS

SensorKind = Literal["number", "bool", "event", "camera"]
EventFormat = Literal["text", "frigate"]
CAMERA_MAX_BYTES = 2_000_000  # a camera's frames, by default
CAMERA_MAX_AGE_S = 5.0  # a camera publishes a frame every second or few, not ten times a second


class SensorConfig(Strict):
    topic: str
    # event: free text from another part of the stack; camera: raw JPEG or PNG frames
    kind: SensorKind = "number"
    unit: str = ""  # of a number: "m", "%", "°C"...
    max_age_s: Annotated[float, Field(gt=0, le=3600)] = 1.0  # a camera's: CAMERA_MAX_AGE_S
    description: str = ""
    window_s: Annotated[float, Field(gt=0, le=86400)] = 60.0  # statistics for the cloud planner
    max_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] | None = None  # a camera's
    format: EventFormat = "text"  # an event sensor's payload: text, or Frigate's events JSON

    @model_validator(mode="before")
    @classmethod
    def _camera_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("kind") == "camera" and "max_age_s" not in data:
            return {**data, "max_age_s": CAMERA_MAX_AGE_S}
        return data

    @field_validator("topic")
    @classmethod
    def _plain_topic(cls, value: str) -> str:
        return plain_topic(value, may_be_empty=False)

    @property
    def frame_limit(self) -> int:
        """The largest frame a camera keeps, in bytes."""
        return self.max_bytes or CAMERA_MAX_BYTES


def sensor_problems(sensor: SensorConfig) -> list[str]:
    """Keys that belong to another kind of sensor ('.key: why')."""
    problems = []
    if sensor.max_bytes is not None and sensor.kind != "camera":
        problems.append(f".max_bytes: a {sensor.kind} sensor takes no frames (kind = \"camera\")")
    if sensor.format != "text" and sensor.kind != "event":
        problems.append(f".format: a {sensor.kind} sensor has no format; it is for kind = "
                        "\"event\"")
    if sensor.unit and sensor.kind == "camera":
        problems.append(".unit: a camera's frames have no unit")
    return problems


class DeviceConfig(Strict):
    kind: str
    description: str = ""  # what and where it is, in words: read by the interpreter
    room: str = ""  # where it is (CONTRACT section 6): a request naming another room is asked back
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
