"""Sensor payloads as robot stacks publish them: numbers, booleans and event text, bare or as
JSON with a unit and a timestamp; anything else is unusable and never fresh. Time from a
reading's own ts, and what a sensor did over its window, as the cloud planner is told."""

from __future__ import annotations

import pytest

from agent.config import SensorConfig
from agent.sensing.sensors import FUTURE_TOLERANCE_S, Reading, Sensors, parse_reading

NUMBER = SensorConfig(topic="s/n", unit="m")
BOOL = SensorConfig(topic="s/b", kind="bool")
EVENT = SensorConfig(topic="s/e", kind="event")


@pytest.mark.parametrize("config, payload, value", [
    (NUMBER, b"0.42", 0.42),
    (NUMBER, b'{"value": 3, "unit": "m", "ts": 1795387715.2}', 3.0),
    (BOOL, b"true", True),
    (BOOL, b"OFF", False),
    (BOOL, b'{"value": 1}', True),
    (EVENT, b"person detected at the front door", "person detected at the front door"),
    (EVENT, b'{"value": "battery low"}', "battery low"),
])
def test_accepted_payloads(config: SensorConfig, payload: bytes, value: object) -> None:
    assert parse_reading(payload, config)[0] == value


@pytest.mark.parametrize("config, payload", [
    (NUMBER, b"far"), (NUMBER, b"true"), (NUMBER, b'{"value": 1, "unit": "cm"}'),
    (NUMBER, b'{"value": 1, "ts": "yesterday"}'), (NUMBER, b"\xff"), (NUMBER, b"1e999"),
    (BOOL, b"maybe"), (BOOL, b"2"), (EVENT, b"   "), (EVENT, b"42"),
])
def test_unusable_payloads_raise(config: SensorConfig, payload: bytes) -> None:
    with pytest.raises(ValueError):
        parse_reading(payload, config)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def monotonic(self) -> float:
        return self.t

    def time(self) -> float:
        return self.t + 1.79e9


def test_an_unusable_reading_replaces_a_good_one_and_is_never_fresh() -> None:
    clock = Clock()
    sensors = Sensors({"front": NUMBER.model_copy(update={"max_age_s": 1.0})}, clock)
    assert sensors.update("front", b"1.5") == Reading(1.5, clock.t)
    assert sensors.fresh("front") == (1.5, "")
    unusable = sensors.update("front", b"nan?")
    assert unusable is not None and unusable.value is None and unusable.problem
    assert sensors.fresh("front")[0] is None
    assert sensors.snapshot()["front"] == {"value": None, "unit": "m", "age_s": 0.0,
                                           "fresh": False}
    sensors.update("front", b"2.0")
    clock.t += 1.5
    assert sensors.fresh("front")[0] is None and "stale" in sensors.fresh("front")[1]


def ts_reading(value: float, ts: float) -> bytes:
    return f'{{"value": {value}, "ts": {ts}}}'.encode()


def test_a_late_backlog_is_stale_from_its_own_timestamps() -> None:
    clock = Clock()
    sensors = Sensors({"front": NUMBER}, clock)
    for i in range(10):  # delivered now, measured 10 s ago
        sensors.update("front", ts_reading(1.0 + i, clock.time() - 10 + i * 0.1))
    value, why = sensors.fresh("front")
    assert value is None and "stale" in why and "9.1" in why
    sensors.update("front", ts_reading(2.0, clock.time() - 0.2))
    assert sensors.fresh("front") == (2.0, "")


def test_a_timestamp_ahead_never_makes_a_reading_fresher() -> None:
    clock = Clock()
    sensors = Sensors({"front": NUMBER}, clock)
    sensors.update("front", ts_reading(1.0, clock.time() + FUTURE_TOLERANCE_S - 0.5))
    clock.t += 0.9
    assert sensors.fresh("front") == (1.0, "")  # counted from arrival, not from its ts
    clock.t += 0.2
    assert sensors.fresh("front")[0] is None


def test_a_timestamp_too_far_ahead_is_unusable() -> None:
    clock = Clock()
    sensors = Sensors({"front": NUMBER}, clock)
    reading = sensors.update("front", ts_reading(1.0, clock.time() + 60))
    assert reading is not None and reading.value is None and "check both clocks" in \
        reading.problem
    assert sensors.fresh("front")[0] is None


def test_an_older_reading_never_replaces_a_newer_one() -> None:
    clock = Clock()
    sensors = Sensors({"front": NUMBER}, clock)
    sensors.update("front", ts_reading(1.0, clock.time() - 0.1))
    assert sensors.update("front", ts_reading(5.0, clock.time() - 0.5)) is None
    assert sensors.fresh("front") == (1.0, "")


def test_the_window_says_what_a_number_did_with_its_unit() -> None:
    clock = Clock()
    cfg = NUMBER.model_copy(update={"description": "distance ahead", "window_s": 60.0})
    sensors = Sensors({"front": cfg}, clock)
    for i in range(600):  # 60 s at 10 Hz, from 2.0 m down to 0.802 m
        sensors.update("front", f"{2.0 - i * 0.002}".encode())
        clock.t += 0.1
    clock.t -= 0.1
    line = sensors.describe("front")
    assert line.startswith("front (distance ahead): now 0.802 m; last 60 s: ")
    assert "min 0.802, max 2, mean 1.4 m, falling 1.2 m/min" in line
    assert "600 readings" in line


def test_the_window_counts_events_and_changes() -> None:
    clock = Clock()
    sensors = Sensors({"camera": EVENT, "bumper": BOOL}, clock)
    for text in ("person at the door", "cat", "person at the door"):
        sensors.update("camera", text.encode())
        clock.t += 1
    for value in (b"false", b"true", b"true", b"false", b"true"):
        sensors.update("bumper", value)
    camera, bumper = sensors.describe("camera"), sensors.describe("bumper")
    assert "last 'person at the door' 1 s ago" in camera
    assert "3 events: 'person at the door' x2, 'cat' x1" in camera
    assert "now true" in bumper and "5 readings, true 60% of them, became true 2 times" in bumper


def test_the_window_forgets_what_is_older_than_it() -> None:
    clock = Clock()
    sensors = Sensors({"front": NUMBER.model_copy(update={"window_s": 10.0, "max_age_s": 100})},
                      clock)
    sensors.update("front", b"5")
    clock.t += 30
    sensors.update("front", b"1")
    assert "1 readings, min 1, max 1, mean 1 m, steady" in sensors.describe("front")
    clock.t += 30
    assert sensors.describe("front").endswith("last 10 s: no readings")
