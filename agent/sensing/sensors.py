"""The latest reading of each configured sensor, with how old it is, and what it did lately.

A sensor is a number (with its unit), a boolean (a bumper, a door contact), an event (free
text from another part of the stack, or Frigate's events: agent.sensing.frigate) or a camera
(its newest frame: agent.sensing.frames). Only the newest reading is kept, plus statistics over
the sensor's window (agent.sensing.windows), so a flood of sensor messages costs a parse and a
few additions each, and no memory grows. A message that cannot be read replaces the reading
with "unusable": it never counts as fresh.

Time (docs/CONTRACT.md, sensors): a reading without `ts` was measured when it arrived. With
`ts`, its age counts from `ts`, so a backlog delivered late is stale; a `ts` up to
FUTURE_TOLERANCE_S ahead of this robot's clock counts as measured on arrival (never fresher),
and one further ahead means the two clocks disagree, so the reading is unusable. A reading
older than the one kept (by its `ts`) is ignored: the newest stays.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from agent.config import SensorConfig
from agent.core.clock import Clock
from agent.core.protocol import Reason
from agent.sensing.frames import Frame, Unusable, load_pillow, read_frame
from agent.sensing.frigate import FrigateEvents
from agent.sensing.windows import Stats, Window

Value = float | bool | str | Frame
MAX_EVENT_CHARS = 500
TRUE_WORDS = frozenset({"true", "on", "1", "yes"})
FALSE_WORDS = frozenset({"false", "off", "0", "no"})
FUTURE_TOLERANCE_S = 2.0  # a ts this far ahead of the robot's clock still counts (on arrival)


@dataclass(frozen=True)
class Reading:
    value: Value | None  # None: the last message was unusable
    measured: float  # monotonic time the value was measured (its ts, if older than receipt)
    problem: str = ""
    reason: Reason = Reason.MALFORMED  # why it is unusable, when it is


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
        self.newest: dict[str, float] = {}  # when the newest usable reading was measured
        self.windows = {name: Window(cfg.window_s) for name, cfg in configs.items()}
        self.frigate = {name: FrigateEvents() for name, cfg in configs.items()
                        if cfg.format == "frigate"}
        self.cameras = [name for name, cfg in configs.items() if cfg.kind == "camera"]
        if self.cameras:
            load_pillow()

    def update(self, name: str, payload: bytes, *, retained: bool = False) -> Reading | None:
        """Store a reading and return it (its problem set when unusable); None when it was
        older than the reading kept, which stays, or said nothing new (a Frigate update).
        retained: the broker delivered a retained message, taken at a time nobody knows."""
        now = self.clock.monotonic()
        config = self.configs[name]
        try:
            value: Value | None
            if config.kind == "camera":  # age from arrival: raw bytes carry no ts
                value, ts = read_frame(payload, config.frame_limit, retained=retained), None
            elif name in self.frigate:
                value, ts = self.frigate[name].read(payload), None
            else:
                value, ts = parse_reading(payload, config)
            measured = self._measured(now, ts)
        except Unusable as exc:
            reading = self.readings[name] = Reading(None, now, str(exc), exc.reason)
            return reading
        except ValueError as exc:
            reading = self.readings[name] = Reading(None, now, str(exc))
            return reading
        if value is None or measured < self.newest.get(name, measured):
            return None
        self.newest[name] = measured
        reading = self.readings[name] = Reading(value, measured)
        if not isinstance(value, Frame):  # a frame has no statistics: only the newest counts
            self.windows[name].add(measured, value)
        return reading

    def _measured(self, now: float, ts: float | None) -> float:
        """When a reading was measured, on the monotonic clock (module docstring)."""
        if ts is None:
            return now
        ahead = ts - self.clock.time()
        if ahead > FUTURE_TOLERANCE_S:
            raise ValueError(f"ts is {ahead:.1f} s ahead of this robot's clock (more than "
                             f"{FUTURE_TOLERANCE_S:g} s): check both clocks (NTP)")
        return now - max(0.0, -ahead)

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
        if isinstance(reading.value, Frame) and reading.value.retained:
            return None, (f"the frame from {name} was a retained message: when it was taken is "
                          "unknown")
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
            age = round(now - reading.measured, 3) if reading else None
            if cfg.kind == "camera":  # what the frame is, never its bytes
                frame = reading.value if reading and isinstance(reading.value, Frame) else None
                out[name] = {"age_s": age, **(frame.facts() if frame else dict.fromkeys(
                    ("bytes", "width", "height", "format"))), "fresh": fresh is not None}
                continue
            out[name] = {"value": reading.value if reading else None, "unit": cfg.unit,
                         "age_s": age, "fresh": fresh is not None}
        return out

    def describe(self, name: str) -> str:
        """One line for the cloud planner: what the sensor is, its value now and what it did
        over its window, with units (docs/cloud.md)."""
        cfg = self.configs[name]
        unit = f" {cfg.unit}" if cfg.unit else ""
        now = self.clock.monotonic()
        head = name + (f" ({cfg.description})" if cfg.description else "") + ": "
        reading = self.readings.get(name)
        fresh, _ = self.fresh(name)
        if cfg.kind == "camera":  # only its newest frame counts: no statistics
            return head + _frame_said(reading, fresh is not None, now)
        if reading is None:
            current = "no reading yet"
        elif reading.value is None:
            current = "last message unusable"
        elif cfg.kind == "event":
            current = f"last {reading.value!r} {now - reading.measured:.0f} s ago"
        elif fresh is None:
            current = (f"stale, last {_shown(reading.value)}{unit} "
                       f"{now - reading.measured:.0f} s ago")
        else:
            current = f"now {_shown(fresh)}{unit}"
        stats = self.windows[name].stats(now)
        return f"{head}{current}; last {cfg.window_s:g} s: {_window(cfg, stats, unit)}"


def _frame_said(reading: Reading | None, fresh: bool, now: float) -> str:
    if reading is None:
        return "no frame yet"
    if not isinstance(reading.value, Frame):
        return f"last frame unusable ({reading.problem})"
    frame = reading.value
    return (f"a {frame.width}x{frame.height} frame {now - reading.measured:.1f} s old" +
            ("" if fresh else " (not fresh)"))


def _shown(value: Value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value).lower()


def _window(cfg: SensorConfig, stats: Stats, unit: str) -> str:
    if not stats.count:
        return "no readings"
    if cfg.kind == "event":
        return f"{stats.count} events: " + ", ".join(f"{text!r} x{n}" for text, n in stats.texts)
    if cfg.kind == "bool":
        return (f"{stats.count} readings, true {stats.mean:.0%} of them, became true "
                f"{stats.rises} time{'' if stats.rises == 1 else 's'}")
    return (f"{stats.count} readings, min {stats.low:.3g}, max {stats.high:.3g}, mean "
            f"{stats.mean:.3g}{unit}, {_trend(stats, cfg.window_s, unit)}")


def _trend(stats: Stats, window_s: float, unit: str) -> str:
    """Rising or falling per minute, or steady when the trend over the window is small
    against the spread of the readings."""
    if stats.slope is None or abs(stats.slope) * window_s <= max(
            0.1 * (stats.high - stats.low), 1e-9):
        return "steady"
    return f"{'rising' if stats.slope > 0 else 'falling'} {abs(stats.slope) * 60:.2g}{unit}/min"
