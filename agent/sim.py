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


def sim_factory() -> MockFactory:
    return MockFactory(pin_class=SimPin)
