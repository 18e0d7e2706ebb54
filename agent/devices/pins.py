"""Which pin factory drives the GPIO, and whether it can do PWM: `robot-agent doctor` and the
daemon's start-up line name it.

gpiozero picks the first factory that loads, in this order: lgpio, RPi.GPIO, pigpio, and its
own native one (GPIOZERO_PIN_FACTORY names one instead). The native factory has no PWM, so
a motor, a dimmable or colour light or a servo cannot be created on it, and it does not drive a
Pi 5 at all (docs/wiring.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.devices._kind import Wiring, kind_of


def default_factory() -> Any:
    """The factory gpiozero would load here, without making it the process's own; raises
    (gpiozero's BadPinFactory, or the chosen factory's error) when none loads."""
    from gpiozero import Device

    return Device._default_pin_factory()


def in_use(pin_factory: Any) -> Any:
    """The factory the outputs were created on: the one given, else gpiozero's default, once
    a device has made gpiozero load it (None before)."""
    if pin_factory is not None:
        return pin_factory
    from gpiozero import Device

    return Device.pin_factory


def name_of(factory: Any) -> str:
    """e.g. "LGPIOFactory", "MockFactory (SimPin)"."""
    if factory is None:
        return "none loaded (no GPIO device)"
    pin_class = getattr(factory, "pin_class", None)
    name = type(factory).__name__
    return f"{name} ({pin_class.__name__})" if name == "MockFactory" and pin_class else name


def can_pwm(factory: Any) -> bool:
    """Whether the factory's pins do PWM: their class sets a frequency of its own, instead of
    gpiozero's default that refuses one (its base Pin's; MockPin's)."""
    from gpiozero.pins import Pin
    from gpiozero.pins.mock import MockPin

    pin_class = getattr(factory, "pin_class", None)
    if pin_class is None:
        return False
    owner = next(c for c in pin_class.__mro__ if "_set_frequency" in c.__dict__)
    return owner not in (Pin, MockPin)


def needing_pwm(devices: Mapping[str, Wiring]) -> list[str]:
    """The configured devices whose kind drives its pins with PWM."""
    return [name for name, device in devices.items() if kind_of(device.kind).pwm]
