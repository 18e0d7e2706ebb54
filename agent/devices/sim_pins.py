"""Simulated GPIO for `run --sim` and `gpio.pin_factory = "mock"`: gpiozero's mock pins, with
a bounded memory.

gpiozero's MockPin records every change of state, forever, so tests can assert on the
sequence. A simulation that runs for days would grow by every change (about 0.35 MB a minute
in the 25-minute soak, docs/reliability.md). A simulated pin keeps its last changes only.
"""

from __future__ import annotations

from typing import Any

from gpiozero.pins.mock import MockFactory, MockPWMPin

PIN_HISTORY = 100  # changes kept per pin: enough to look at what a pin just did


class SimPin(MockPWMPin):  # type: ignore[misc]
    def _change_state(self, value: Any) -> bool:
        changed: bool = super()._change_state(value)
        if len(self.states) > PIN_HISTORY:
            del self.states[:-PIN_HISTORY]
        return changed

    def _set_pull(self, value: Any) -> None:
        super()._set_pull(value)
        if any(n in self.info.names for n in getattr(self.factory, "closed", ())):
            self.drive_low()  # a closed contact to ground holds the line low, pull-up or not


def sim_factory(closed: tuple[int, ...] = ()) -> MockFactory:
    """Simulated pins; closed: inputs wired to ground through a closed contact (a normally
    closed e-stop button that is not pressed). Pressing it is pin(n).drive_high()."""
    factory = MockFactory(pin_class=SimPin)
    factory.closed = closed
    return factory
