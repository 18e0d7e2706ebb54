"""Each device kind on gpiozero's mock pins: its operations, its state, its safe state."""

from __future__ import annotations

import random
import tomllib
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from agent.config import parse_config
from agent.devices import build_outputs, kind_of
from agent.mqtt.connection import BACKOFF_CAP_S, backoff_delay

DEVICES = """
[device]
id = "d"
[devices.led]
kind = "led"
pin = 2
[devices.dimmer]
kind = "pwm_led"
pin = 3
[devices.rgb]
kind = "rgb_led"
pins = [5, 6, 13]
[devices.horn]
kind = "buzzer"
pin = 16
[devices.valve]
kind = "relay"
pin = 23
active_high = false
[devices.winch]
kind = "motor"
forward = 20
backward = 21
[devices.drive]
kind = "robot"
left = [4, 14]
right = [17, 18]
speed_mps = 0.5
turn_dps = 90
[devices.arm]
kind = "servo"
pin = 12
[devices.arm_remote]
kind = "mqtt"
topic = "other/arm"
"""


@pytest.fixture
def rig() -> tuple[dict[str, Any], MockFactory, list[tuple[str, str]]]:
    config = parse_config(tomllib.loads(DEVICES))
    factory = MockFactory(pin_class=MockPWMPin)
    sent: list[tuple[str, str]] = []
    outputs = build_outputs(config.devices, factory, lambda t, p: sent.append((t, p)))
    return outputs, factory, sent


def test_every_device_starts_safe(rig: Any) -> None:
    outputs, factory, _ = rig
    for pin in (2, 3, 5, 6, 13, 16, 20, 21, 4, 14, 17, 18):
        assert factory.pin(pin).state == 0, pin
    assert factory.pin(23).state == 1  # active-low relay: off is high
    assert outputs["arm"].state()["angle"] is None


@pytest.mark.parametrize("device, op, params, pins", [
    ("led", "on", {}, {2: 1}),
    ("dimmer", "brightness", {"level": 0.5}, {3: 0.5}),
    ("rgb", "color", {"color": "orange"}, {5: 1, 6: 0.5, 13: 0}),
    ("rgb", "color", {"color": "#00ff00"}, {5: 0, 6: 1, 13: 0}),
    ("horn", "beep", {}, {16: 1}),
    ("valve", "on", {}, {23: 0}),
    ("winch", "run", {"direction": "backward", "duration_s": 1, "speed": 0.5},
     {20: 0, 21: 0.5}),
    ("drive", "move", {"direction": "backward", "distance_m": 1}, {4: 0, 14: 1, 17: 0, 18: 1}),
    ("drive", "turn", {"direction": "right", "degrees": 90}, {4: 1, 14: 0, 17: 0, 18: 1}),
])
def test_operations_drive_pins_and_safe_undoes_them(rig: Any, device: str, op: str,
                                                    params: dict[str, Any],
                                                    pins: dict[int, float]) -> None:
    outputs, factory, _ = rig
    outputs[device].apply(op, params)
    for pin, value in pins.items():
        assert factory.pin(pin).state == pytest.approx(value), pin
    assert outputs[device].state()["op"] == op
    outputs[device].safe()
    for pin in pins:
        assert factory.pin(pin).state == (1 if pin == 23 else 0), pin
    assert outputs[device].state()["op"] == "safe"


def test_brighter_and_dimmer_step_and_stay_in_range(rig: Any) -> None:
    outputs, factory, _ = rig
    rgb = outputs["rgb"]
    rgb.apply("color", {"color": "red"})
    rgb.apply("dimmer", {})
    assert factory.pin(5).state == pytest.approx(0.75)
    for _ in range(10):
        rgb.apply("dimmer", {})
    assert factory.pin(5).state == pytest.approx(0.25)  # dimmest, never off
    for _ in range(10):
        rgb.apply("brighter", {})
    assert factory.pin(5).state == pytest.approx(1.0)
    dimmer = outputs["dimmer"]
    dimmer.apply("on", {})
    dimmer.apply("dimmer", {})
    assert factory.pin(3).state == pytest.approx(0.75)


def test_servo_moves_and_detaches(rig: Any) -> None:
    outputs, _, _ = rig
    outputs["arm"].apply("angle", {"degrees": 45})
    assert outputs["arm"].state()["angle"] == pytest.approx(45, abs=1)
    outputs["arm"].safe()
    assert outputs["arm"].state()["angle"] is None


def test_mqtt_device_forwards_and_tells_safe(rig: Any) -> None:
    outputs, _, sent = rig
    outputs["arm_remote"].apply("grip", {"force": 3})
    outputs["arm_remote"].refresh()  # a heartbeat says the same again
    outputs["arm_remote"].safe()
    assert sent == [("other/arm", '{"op":"safe"}'),  # at start: whatever it did before
                    ("other/arm", '{"op":"grip","params":{"force":3}}'),
                    ("other/arm", '{"op":"grip","params":{"force":3}}'),
                    ("other/arm", '{"op":"safe"}')]


def test_durations_follow_calibration() -> None:
    config = parse_config(tomllib.loads(DEVICES))
    drive = config.devices["drive"]
    duration = kind_of(drive.kind).duration_s
    assert duration(drive, "move", {"distance_m": 1.0}) == pytest.approx(2.0)
    assert duration(drive, "move", {"distance_m": 1.0, "speed": 0.5}) == pytest.approx(4.0)
    assert duration(drive, "turn", {"degrees": 45}) == pytest.approx(0.5)
    assert kind_of("relay").duration_s(config.devices["valve"], "pulse", {}) == pytest.approx(0.5)
    assert duration(drive, "stop", {}) is None


def test_reconnect_backoff_grows_is_capped_and_jittered() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(a, rng) for a in range(12)]
    assert 0.25 <= delays[0] <= 0.5
    assert delays[3] > delays[0]
    assert all(d <= BACKOFF_CAP_S for d in delays)
    assert len({round(backoff_delay(20, rng), 6) for _ in range(10)}) > 1  # jittered


def test_simulated_pins_keep_a_bounded_history() -> None:
    from gpiozero import PWMLED

    from agent.devices.sim_pins import PIN_HISTORY, sim_factory

    led = PWMLED(12, pin_factory=sim_factory())
    for i in range(3 * PIN_HISTORY):
        led.value = (i % 10) / 10
    led.value = 0.7
    assert len(led.pin.states) == PIN_HISTORY  # gpiozero's own mock would have kept 301
    assert led.pin.states[-1].state == 0.7 and led.value == 0.7
    led.close()
