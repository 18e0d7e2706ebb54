"""Output devices on gpiozero: one class per device kind, each able to apply its operations, go
to its safe state and say what state it is in. The pin factory is injected (mock pins in
simulation and tests), as gpiozero does.

What each kind can do is declared in agent.devices.kinds; this module only drives hardware. To add a
kind: a KindSpec there, and a class here registered in OUTPUTS (docs/architecture.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from agent.config import DeviceConfig
from agent.devices.kinds import COLORS, STEP, Params, beep_count, op_spec, parse_color


class Delivery(Protocol):
    """What publishing a message returns (paho's MQTTMessageInfo)."""

    def wait_for_publish(self, timeout: float | None = None) -> None: ...
    def is_published(self) -> bool: ...


Publish = Callable[[str, str], Delivery]


class Output:
    """One configured device. Subclasses set kind, make their gpiozero object in create() and
    implement drive(); safe() and state() have defaults that most kinds keep."""

    kind: ClassVar[str]

    def __init__(self, name: str, config: DeviceConfig, hw: Any) -> None:
        self.name = name
        self.config = config
        self.hw = hw
        self.last_op = "safe"
        self.heartbeat_s = config.heartbeat_s  # mqtt devices only (the config check says so)

    @classmethod
    def create(cls, name: str, config: DeviceConfig, pin_factory: Any,
               publish: Publish) -> Output:
        raise NotImplementedError

    def apply(self, op: str, params: Params) -> None:
        spec = op_spec(self.config.kind, op)
        self.drive(op, {**(spec.defaults if spec else {}), **params})
        self.last_op = op

    def drive(self, op: str, p: Params) -> None:
        raise NotImplementedError

    def safe(self) -> None:
        self.hw.off()
        self.last_op = "safe"

    def refresh(self) -> None:
        """Say the current operation again (a heartbeat); only an mqtt device has one."""

    def safe_confirmed(self, timeout: float) -> bool:
        """Whether the device is known to be safe, waiting at most timeout for the proof: a pin
        is safe once driven; an mqtt device once the broker has acknowledged its safe message."""
        return True

    def state(self) -> dict[str, Any]:
        return {"kind": self.kind, "op": self.last_op, **self.details()}

    def details(self) -> dict[str, Any]:
        return {"on": bool(self.hw.value)}

    def close(self) -> None:
        if hasattr(self.hw, "close"):
            self.hw.close()


class SwitchedOutput(Output):
    """on and off; a timed operation (beep, pulse) is on until the executor ends it."""

    timed_op: ClassVar[str] = ""
    gpiozero_class: ClassVar[str] = ""  # the gpiozero class that drives one pin

    @classmethod
    def create(cls, name: str, config: DeviceConfig, pin_factory: Any,
               publish: Publish) -> Output:
        import gpiozero

        make = getattr(gpiozero, cls.gpiozero_class)
        return cls(name, config, make(config.pin, pin_factory=pin_factory))

    def drive(self, op: str, p: Params) -> None:
        self.hw.on() if op in ("on", self.timed_op) else self.hw.off()


class Led(SwitchedOutput):
    kind = "led"
    gpiozero_class = "LED"


class Buzzer(SwitchedOutput):
    """A beep is gpiozero's own: `times` beeps of duration_s, each followed by an equal gap,
    on gpiozero's background thread. safe() (off) stops that thread; the executor ends the
    action after the last gap, and the deadman and the e-stop still cut it short."""

    kind = "buzzer"
    gpiozero_class = "Buzzer"

    def drive(self, op: str, p: Params) -> None:
        if op == "beep":
            seconds = float(p["duration_s"])
            self.hw.beep(on_time=seconds, off_time=seconds, n=beep_count(p["times"]))
        else:
            super().drive(op, p)


class Relay(SwitchedOutput):
    """A relay (or any plain output pin), with its polarity from the config."""

    kind = "relay"
    timed_op = "pulse"

    @classmethod
    def create(cls, name: str, config: DeviceConfig, pin_factory: Any,
               publish: Publish) -> Output:
        import gpiozero

        return cls(name, config, gpiozero.OutputDevice(
            config.pin, active_high=config.active_high, initial_value=False,
            pin_factory=pin_factory))


def stepped(op: str, current: float) -> float:
    """The level after brighter or dimmer: a step up or down, never quite off."""
    if op == "brighter":
        return min(1.0, current + STEP)
    return max(STEP, current - STEP)


class PwmLed(Output):
    kind = "pwm_led"

    def __init__(self, name: str, config: DeviceConfig, hw: Any) -> None:
        super().__init__(name, config, hw)
        self.level = 1.0

    @classmethod
    def create(cls, name: str, config: DeviceConfig, pin_factory: Any,
               publish: Publish) -> Output:
        import gpiozero

        return cls(name, config, gpiozero.PWMLED(config.pin, pin_factory=pin_factory))

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

    def __init__(self, name: str, config: DeviceConfig, hw: Any) -> None:
        super().__init__(name, config, hw)
        self.level = 1.0
        self.color: tuple[float, float, float] = COLORS["white"]

    @classmethod
    def create(cls, name: str, config: DeviceConfig, pin_factory: Any,
               publish: Publish) -> Output:
        import gpiozero

        return cls(name, config, gpiozero.RGBLED(*config.pins or (), pin_factory=pin_factory))

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


class Motor(Output):
    kind = "motor"

    @classmethod
    def create(cls, name: str, config: DeviceConfig, pin_factory: Any,
               publish: Publish) -> Output:
        import gpiozero

        return cls(name, config, gpiozero.Motor(config.forward, config.backward,
                                                pin_factory=pin_factory))

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

    @classmethod
    def create(cls, name: str, config: DeviceConfig, pin_factory: Any,
               publish: Publish) -> Output:
        import gpiozero

        f = {"pin_factory": pin_factory}
        return cls(name, config, gpiozero.Robot(left=gpiozero.Motor(*config.left or (), **f),
                                                right=gpiozero.Motor(*config.right or (), **f),
                                                **f))

    def drive(self, op: str, p: Params) -> None:
        speed = float(p.get("speed", 1.0))
        if op == "stop":
            self.hw.stop()
        elif op == "move":
            (self.hw.backward if p["direction"] == "backward" else self.hw.forward)(speed)
        else:
            (self.hw.right if p["direction"] == "right" else self.hw.left)(speed)

    def details(self) -> dict[str, Any]:
        left, right = self.hw.value
        return {"left": round(left, 3), "right": round(right, 3)}


class Servo(Output):
    kind = "servo"

    @classmethod
    def create(cls, name: str, config: DeviceConfig, pin_factory: Any,
               publish: Publish) -> Output:
        import gpiozero

        return cls(name, config, gpiozero.AngularServo(
            config.pin, initial_angle=None, min_angle=config.min_angle,
            max_angle=config.max_angle, pin_factory=pin_factory))

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


class MqttDevice(Output):
    """Another part of the robot stack: each operation is published to its topic as JSON (QoS 1),
    and its safe state is the message {"op":"safe"}. With heartbeat_s, an operation that holds is
    published again every heartbeat_s, so the device can time out when the daemon goes quiet
    (as a velocity multiplexer times out a silent source)."""

    kind = "mqtt"
    SAFE = '{"op":"safe"}'

    def __init__(self, name: str, config: DeviceConfig, publish: Publish) -> None:
        super().__init__(name, config, None)
        self.publish = publish
        self.message = self.SAFE
        self.safe_delivery: Delivery | None = None  # the last safe message, until acknowledged

    @classmethod
    def create(cls, name: str, config: DeviceConfig, pin_factory: Any,
               publish: Publish) -> Output:
        """Safe from the start: the device hears so (once connected), whatever an earlier run
        of the daemon left it doing."""
        device = cls(name, config, publish)
        device.safe()
        return device

    def drive(self, op: str, p: Params) -> None:
        self.message = json.dumps({"op": op, "params": p}, separators=(",", ":"))
        self.safe_delivery = None
        self.publish(self.config.topic, self.message)

    def refresh(self) -> None:
        self.publish(self.config.topic, self.message)

    def safe(self) -> None:
        self.message = self.SAFE
        self.safe_delivery = self.publish(self.config.topic, self.SAFE)
        self.last_op = "safe"

    def safe_confirmed(self, timeout: float) -> bool:
        delivery = self.safe_delivery
        if delivery is None:  # driven since its last safe message
            return False
        try:
            delivery.wait_for_publish(timeout)
            return delivery.is_published()
        except (RuntimeError, ValueError):  # it could not even be queued
            return False

    def details(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        pass


OUTPUTS: dict[str, type[Output]] = {
    cls.kind: cls for cls in (Led, PwmLed, RgbLed, Buzzer, Relay, Motor, Robot, Servo,
                              MqttDevice)}


def build_outputs(devices: dict[str, DeviceConfig], pin_factory: Any,
                  publish: Publish) -> dict[str, Output]:
    """Create every configured device, each already in its safe state."""
    outputs: dict[str, Output] = {}
    try:
        for name, cfg in devices.items():
            outputs[name] = OUTPUTS[cfg.kind].create(name, cfg, pin_factory, publish)
    except Exception:
        for out in outputs.values():
            out.close()
        raise
    return outputs
