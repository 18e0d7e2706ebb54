"""A relay (or any plain output pin), with its polarity from the config: on, off, a pulse."""

from __future__ import annotations

from typing import Any, ClassVar

from agent.devices._kind import ON_OFF, Ops, OpSpec, Output, Publish, SwitchedOutput, Wiring


class Relay(SwitchedOutput):
    kind = "relay"
    ops: ClassVar[Ops] = {**ON_OFF, "pulse": OpSpec({"duration_s": 0.5}, timed=True)}
    timed_op = "pulse"

    @classmethod
    def create(cls, name: str, config: Wiring, pin_factory: Any, publish: Publish) -> Output:
        import gpiozero

        return cls(name, config, gpiozero.OutputDevice(
            config.pin, active_high=config.active_high, initial_value=False,
            pin_factory=pin_factory))
