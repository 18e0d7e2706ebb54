"""A buzzer: on, off, and a beep that sounds `times` times."""

from __future__ import annotations

from typing import Any, ClassVar

from agent.devices._kind import ON_OFF, Ops, OpSpec, Params, SwitchedOutput, Wiring


def beep_count(value: Any) -> int:
    """A beep's `times` as an int (JSON may say 2.0; value_problem has refused anything else)."""
    return int(value)


def _is_count(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and float(value).is_integer() and value >= 1)


class Buzzer(SwitchedOutput):
    """A beep is gpiozero's own: `times` beeps of duration_s, each followed by an equal gap,
    on gpiozero's background thread. safe() (off) stops that thread; the executor ends the
    action after the last gap, and the deadman and the e-stop still cut it short."""

    kind = "buzzer"
    ops: ClassVar[Ops] = {**ON_OFF, "beep": OpSpec({"duration_s": 0.2, "times": 1}, timed=True)}
    concept = "sound"
    gpiozero_class = "Buzzer"

    @classmethod
    def duration_s(cls, device: Wiring, op: str, params: Params) -> float | None:
        if op != "beep":
            return super().duration_s(device, op, params)
        p = {**cls.ops["beep"].defaults, **params}
        return beep_count(p["times"]) * 2 * float(p["duration_s"])  # each beep, then its gap

    @classmethod
    def value_problem(cls, op: str, name: str, value: Any) -> str | None:
        if op == "beep" and name == "times" and not _is_count(value):
            return f"times must be a whole number of at least 1, not {value!r}"
        return super().value_problem(op, name, value)

    def drive(self, op: str, p: Params) -> None:
        if op == "beep":
            seconds = float(p["duration_s"])
            self.hw.beep(on_time=seconds, off_time=seconds, n=beep_count(p["times"]))
        else:
            super().drive(op, p)
