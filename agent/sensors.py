"""The latest reading of each configured sensor, with how old it is.

A sensor is a number (with its unit), a boolean (a bumper, a door contact) or an event (free
text from another part of the stack). Only the newest reading is kept, so a flood of sensor
messages costs a parse and an assignment each, and no memory grows. A message that cannot be
read replaces the reading with "unusable": it never counts as fresh.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from agent.clock import Clock
from agent.config import SensorConfig

Value = float | bool | str
MAX_EVENT_CHARS = 500
TRUE_WORDS = frozenset({"true", "on", "1", "yes"})
FALSE_WORDS = frozenset({"false", "off", "0", "no"})


@dataclass(frozen=True)
class Reading:
    value: Value | None  # None: the last message was unusable
    measured: float  # monotonic time the value was measured (its ts, if older than receipt)
    problem: str = ""


def parse_reading(payload: bytes, config: SensorConfig) -> tuple[Value, float | None]:
    """The value and its timestamp (epoch seconds), if any; ValueError when unusable.

    Accepted: a bare value (a number, true/false, or text for an event), or JSON
    {"value": ..., "unit"?: ..., "ts"?: epoch seconds}.
    """
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise ValueError("not UTF-8") from exc
    try:
        data: Any = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        data = text  # a bare word: an event's text, or on/off
    ts = None
    if isinstance(data, dict):
        ts = data.get("ts")
        if ts is not None and (isinstance(ts, bool) or not isinstance(ts, int | float)
                               or not math.isfinite(ts)):
            raise ValueError("ts is not a finite number")
        unit = data.get("unit")
        if unit is not None and config.unit and unit != config.unit:
            raise ValueError(f"unit {str(unit)[:20]!r}, expected {config.unit!r}")
        data = data.get("value")
    return _value(data, config), (float(ts) if ts is not None else None)


def _value(data: Any, config: SensorConfig) -> Value:
    if config.kind == "event":
        if not isinstance(data, str) or not data.strip():
            raise ValueError("an event is non-empty text")
        return data.strip()[:MAX_EVENT_CHARS]
    if config.kind == "bool":
        if isinstance(data, bool):
            return data
        word = str(data).strip().lower() if isinstance(data, str | int) else ""
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        raise ValueError("not true or false")
    if isinstance(data, bool) or not isinstance(data, int | float):
        raise ValueError("value is not a number")
    if not math.isfinite(data):
        raise ValueError("not a finite number")
    return float(data)


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
            value, ts = parse_reading(payload, self.configs[name])
        except ValueError as exc:
            self.readings[name] = Reading(None, now, str(exc))
            return str(exc)
        measured = now
        if ts is not None:  # a timestamp in the future never makes a reading fresher
            measured = now - max(0.0, self.clock.time() - ts)
        self.readings[name] = Reading(value, measured)
        return ""

    def fresh(self, name: str) -> tuple[Value | None, str]:
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

    def fresh_number(self, name: str) -> tuple[float | None, str]:
        """For interlocks (the config check allows them on number sensors only)."""
        value, why = self.fresh(name)
        if value is None or isinstance(value, bool) or not isinstance(value, float):
            return None, why or f"sensor {name} is not a number"
        return value, ""

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Every sensor: its last value, unit, age and whether it is fresh (P/state)."""
        now = self.clock.monotonic()
        out: dict[str, dict[str, Any]] = {}
        for name, cfg in self.configs.items():
            reading = self.readings.get(name)
            fresh, _ = self.fresh(name)
            out[name] = {"value": reading.value if reading else None, "unit": cfg.unit,
                         "age_s": round(now - reading.measured, 3) if reading else None,
                         "fresh": fresh is not None}
        return out

    def summary(self) -> dict[str, Value | None]:
        return {name: self.fresh(name)[0] for name in self.configs}
