"""The latest reading of each configured sensor, with how old it is.

Only the newest reading is kept, so a flood of sensor messages costs a parse and an assignment
each, and no memory grows.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from agent.clock import Clock
from agent.config import SensorConfig


@dataclass(frozen=True)
class Reading:
    value: float | None  # None: the last message was not a usable number
    measured: float  # monotonic time the value was measured (its ts, if older than receipt)
    problem: str = ""


def parse_reading(payload: bytes) -> tuple[float, float | None]:
    """A number, or {"value": number, "ts": epoch seconds}; raise ValueError otherwise."""
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError("not a number or a JSON object") from exc
    ts = None
    if isinstance(data, dict):
        ts = data.get("ts")
        data = data.get("value")
        if ts is not None and (isinstance(ts, bool) or not isinstance(ts, int | float)):
            raise ValueError("ts is not a number")
    if isinstance(data, bool) or not isinstance(data, int | float):
        raise ValueError("value is not a number")
    value = float(data)
    if not math.isfinite(value) or (ts is not None and not math.isfinite(ts)):
        raise ValueError("not a finite number")
    return value, (float(ts) if ts is not None else None)


class Sensors:
    def __init__(self, configs: dict[str, SensorConfig], clock: Clock) -> None:
        self.configs = configs
        self.clock = clock
        self.by_topic = {cfg.topic: name for name, cfg in configs.items()}
        self.readings: dict[str, Reading] = {}

    def update(self, name: str, payload: bytes) -> str:
        """Store a reading; return what was wrong with it ('' when fine)."""
        now = self.clock.monotonic()
        try:
            value, ts = parse_reading(payload)
        except ValueError as exc:
            self.readings[name] = Reading(None, now, str(exc))
            return str(exc)
        measured = now
        if ts is not None:  # a timestamp in the future never makes a reading fresher
            measured = now - max(0.0, self.clock.time() - ts)
        self.readings[name] = Reading(value, measured)
        return ""

    def fresh_value(self, name: str) -> tuple[float | None, str]:
        """The value if it is fresh, else None and why not."""
        reading = self.readings.get(name)
        if reading is None:
            return None, f"no reading from sensor {name} yet"
        if reading.value is None:
            return None, f"the last message from sensor {name} was unusable: {reading.problem}"
        age = self.clock.monotonic() - reading.measured
        limit = self.configs[name].max_age_s
        if age > limit:
            return None, f"sensor {name} is stale: {age:.2f} s old (max {limit:g} s)"
        return reading.value, ""

    def summary(self) -> dict[str, float | None]:
        return {name: self.fresh_value(name)[0] for name in self.configs}
