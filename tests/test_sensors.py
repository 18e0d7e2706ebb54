"""Sensor payloads as robot stacks publish them: numbers, booleans and event text, bare or as
JSON with a unit and a timestamp; anything else is unusable and never fresh."""

from __future__ import annotations

import pytest

from agent.config import SensorConfig
from agent.sensors import Sensors, parse_reading

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
    assert sensors.update("front", b"1.5") == ""
    assert sensors.fresh("front") == (1.5, "")
    assert sensors.update("front", b"nan?") != ""
    assert sensors.fresh("front")[0] is None
    assert sensors.snapshot()["front"] == {"value": None, "unit": "m", "age_s": 0.0,
                                           "fresh": False}
    sensors.update("front", b"2.0")
    clock.t += 1.5
    assert sensors.fresh("front")[0] is None and "stale" in sensors.fresh("front")[1]
