"""Reactions over a real broker: sensor readings that stop, beep or engage the e-stop, each
through the whole gate and on the record; events read by the interpreter; P/state."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Broker, Client, Running, make_config, start_daemon

REACTIONS = """
[sensors.bumper]
topic = "robots/t/sensors/bumper"
kind = "bool"
max_age_s = 5
[sensors.battery]
topic = "robots/t/sensors/battery"
unit = "%"
max_age_s = 5
[sensors.button]
topic = "robots/t/sensors/button"
kind = "bool"
max_age_s = 5
[sensors.camera]
topic = "robots/t/events/camera"
kind = "event"
max_age_s = 5
[reactions.too_close]
when = { sensor = "front", below = 0.5, clear = 0.6 }
while_running = ["move"]
do = { action = "stop" }
[reactions.low_battery]
when = { sensor = "battery", below = 15, clear = 20 }
do = { action = "lights_color", params = { color = "red" } }
[reactions.bumper_hit]
when = { sensor = "bumper", equals = true }
do = { estop = true }
[reactions.button_drives]
when = { sensor = "button", equals = true }
do = { action = "move", params = { direction = "forward", distance_m = 0.5 } }
cooldown_s = 1.0
[reactions.someone_at_door]
when = { event = "camera", means = "a person is at the front door" }
do = { action = "lights_color", params = { color = "green" } }
cooldown_s = 60
[reactions.in_the_way]
when = { event = "camera", means = "a person is in the way" }
while_running = ["move"]
do = { action = "stop" }
"""
EVENTS = "robots/t/events"


@pytest.fixture
def robot(broker: Broker, client: Client, tmp_path: Path) -> Iterator[Running]:
    running = start_daemon(make_config(broker.port, REACTIONS), tmp_path / "state", client)
    yield running
    running.stop()


def drive_pins(d: Running) -> list[float]:
    return [d.pin(n).state for n in (4, 14, 17, 18)]


def fired(client: Client, reaction: str) -> list[dict[str, Any]]:
    """The records of a reaction's firings received so far."""
    client.forget()
    return [json.loads(m[1]) for m in client.history
            if m[0] == EVENTS and json.loads(m[1])["id"].startswith(f"reaction:{reaction}:")]


def test_the_obstacle_reaction_stops_a_running_move_on_the_reading_that_crosses(
        robot: Running, client: Client) -> None:
    client.publish("robots/t/sensors/front", "2.0")
    client.publish("robots/t/cmd", {"id": "m", "action": "move",
                                    "params": {"direction": "forward", "distance_m": 2.5}})
    client.result("m", "running")
    for distance in ("1.5", "1.0", "0.7"):  # a sensor period of 0.1 s
        client.publish("robots/t/sensors/front", distance)
        time.sleep(0.1)
    assert drive_pins(robot) == [1.0, 0, 1.0, 0]
    client.publish("robots/t/sensors/front", "0.45")  # the last reading: nothing follows it
    ended = client.result("m", "failed")
    assert ended["reason"] == "superseded"  # by the reaction's stop, not by a stale sensor
    assert ended["detail"] == ("replaced by a newer stop on drive (reaction too_close "
                               "(front 0.45, below 0.5))")  # the technician sees which
    stop = client.wait_for(EVENTS, lambda r: r["input_kind"] == "reaction")
    assert stop["action"] == "stop" and stop["status"] == "done" and stop["route"] == "direct"
    assert stop["detail"] == ("reaction too_close (front 0.45, below 0.5): stop on drive")
    assert drive_pins(robot) == [0, 0, 0, 0]


def test_a_reaction_with_while_running_waits_for_that_action(robot: Running,
                                                             client: Client) -> None:
    client.publish("robots/t/sensors/front", "0.4")  # too close, but nothing moves
    client.publish("robots/t/sensors/battery", "50")  # a marker: handled after the reading
    client.wait_for("robots/t/state", lambda s: s["sensors"]["battery"]["value"] == 50.0)
    assert fired(client, "too_close") == []


def test_readings_hovering_at_the_line_fire_once(robot: Running, client: Client) -> None:
    client.publish("robots/t/sensors/battery", "30")
    for i in range(100):
        client.publish("robots/t/sensors/battery", str(15 + (0.3 if i % 2 else -0.3)), qos=0)
    client.publish("robots/t/sensors/battery", "25", qos=1)  # clears: re-armed
    client.publish("robots/t/sensors/battery", "10", qos=1)  # fires again
    client.wait_for(EVENTS, lambda r: r["id"].startswith("reaction:low_battery:") and
                    "battery 10 %" in r["detail"])
    records = fired(client, "low_battery")
    assert [r["detail"].split(":")[0] for r in records] == [
        "reaction low_battery (battery 14.7 %, below 15)",
        "reaction low_battery (battery 10 %, below 15)"]
    assert all(r["status"] == "done" and r["input_kind"] == "reaction" for r in records)
    assert robot.pin(5).state == 1.0  # red


def test_a_cooldown_holds_the_next_firing_back(robot: Running, client: Client) -> None:
    client.publish("robots/t/sensors/button", "true")
    first = client.wait_for(EVENTS, lambda r: r["id"].startswith("reaction:button_drives:"))
    client.publish("robots/t/sensors/button", "false")
    client.publish("robots/t/sensors/button", "true")  # within the cooldown: held
    time.sleep(1.1)
    client.publish("robots/t/sensors/button", "true")  # still pressed after it: fires now
    second = client.wait_for(EVENTS, lambda r: r["id"].startswith("reaction:button_drives:")
                             and r["id"] != first["id"])
    assert len(fired(client, "button_drives")) == 2
    assert second["ts"] - first["ts"] >= 1.0


def test_a_reaction_the_gate_refuses_is_refused_and_moves_nothing(robot: Running,
                                                                  client: Client) -> None:
    client.publish("robots/t/sensors/button", "true")  # move forward, with no distance reading
    record = client.wait_for(EVENTS, lambda r: r["input_kind"] == "reaction")
    assert record["status"] == "refused" and record["decision"] == "refuse"
    assert record["reason"] == "stale_sensor"
    assert record["detail"].startswith("reaction button_drives (button is true, equals true): ")
    assert record["action"] == "move" and record["route"] == "direct"
    time.sleep(0.2)
    assert drive_pins(robot) == [0, 0, 0, 0]


def test_a_late_backlog_with_old_timestamps_is_stale(robot: Running, client: Client) -> None:
    old = time.time() - 10
    for i in range(5):  # delivered now, measured ten seconds ago: too close back then
        client.publish("robots/t/sensors/front", {"value": 0.2 + i * 0.5, "ts": old + i * 0.1})
    client.publish("robots/t/cmd", {"id": "m", "action": "move"})
    result = client.result("m")
    assert result["reason"] == "stale_sensor" and "stale" in result["detail"]
    state = client.wait_for("robots/t/state", lambda s: s["sensors"]["front"]["value"] == 2.2)
    assert state["sensors"]["front"]["fresh"] is False
    assert state["sensors"]["front"]["age_s"] >= 9.5


def test_an_event_fires_the_reaction_it_fits_and_an_unrelated_one_fires_none(
        robot: Running, client: Client) -> None:
    client.publish("robots/t/events/camera", "someone is standing at the door")
    record = client.wait_for(EVENTS, lambda r: r["input_kind"] == "reaction")
    assert record["action"] == "lights_color" and record["status"] == "done"
    assert record["route"] == "local" and record["confidence"] == 0.92
    assert record["text"] == "someone is standing at the door"
    assert record["detail"].startswith("reaction someone_at_door (camera says ")
    assert robot.pin(6).state == 1.0  # green
    client.publish("robots/t/events/camera", "motion in the garden")
    why = client.wait_for(EVENTS, lambda r: r["text"] == "motion in the garden")
    assert why["input_kind"] == "sensor" and why["decision"] == "none"
    assert why["reason"] == "low_confidence"
    assert why["detail"].startswith("no reaction fits the event on camera: best "
                                    "someone_at_door 0.00")
    time.sleep(1.0)  # past the records' rate limit
    client.publish("robots/t/events/camera", "person detected at the front door")
    held = client.wait_for(EVENTS, lambda r: r["text"] == "person detected at the front door")
    assert held["reason"] == "rate_limited" and "cooling down" in held["detail"]
    assert len(fired(client, "someone_at_door")) == 1


def test_an_event_held_by_while_running_is_dropped_with_a_record(
        robot: Running, client: Client) -> None:
    client.publish("robots/t/events/camera", "someone is in the way")
    held = client.wait_for(EVENTS, lambda r: r["text"] == "someone is in the way")
    assert held["input_kind"] == "reaction" and held["decision"] == "none"
    assert held["detail"] == ("reaction in_the_way: fits the event (0.97), but none of move is "
                              "running")
    client.publish("robots/t/sensors/front", "2.0")
    client.publish("robots/t/cmd", {"id": "m", "action": "move", "params": {"distance_m": 2}})
    client.result("m", "running")
    client.publish("robots/t/events/camera", "a person is in the way")
    assert client.result("m", "failed")["reason"] == "superseded"
    stop = client.wait_for(EVENTS, lambda r: r["id"].startswith("reaction:in_the_way:"))
    assert stop["action"] == "stop" and stop["status"] == "done"
    assert len(fired(client, "in_the_way")) == 1


def test_the_bumper_engages_the_estop(robot: Running, client: Client) -> None:
    client.publish("robots/t/sensors/front", "2.0")
    client.publish("robots/t/cmd", {"id": "m", "action": "move", "params": {"distance_m": 2}})
    client.result("m", "running")
    client.publish("robots/t/sensors/bumper", "false")
    client.publish("robots/t/sensors/bumper", "true")
    state = client.wait_for("robots/t/estop/state", lambda s: s["engaged"])
    assert state["source"] == "reaction" and state["reason"].startswith("reaction bumper_hit")
    assert drive_pins(robot) == [0, 0, 0, 0]
    assert client.result("m", "failed")["reason"] == "estop_engaged"
    record = client.wait_for(EVENTS, lambda r: r["input_kind"] == "reaction")
    assert record["action"] == "estop" and record["status"] == "done"
    assert record["detail"] == "reaction bumper_hit (bumper is true, equals true): e-stop engaged"
    picture = client.wait_for("robots/t/state", lambda s: s["estop"] is True)
    assert picture["running"] == []


def test_state_has_the_whole_picture(robot: Running, client: Client) -> None:
    client.publish("robots/t/sensors/battery", '{"value": 80, "unit": "%"}')
    client.publish("robots/t/cmd", {"id": "c", "action": "lights_color",
                                    "params": {"color": "blue"}})
    state = client.wait_for("robots/t/state", lambda s: s["devices"]["lamp"]["op"] == "color")
    assert state["estop"] is False
    # lights_color may stay on (stays_on): it is watched, with no end
    assert state["running"] == [{"action": "lights_color", "device": "lamp",
                                 "params": {"color": "blue"}, "ends_in_s": None}]
    assert state["devices"]["drive"] == {"kind": "robot", "op": "safe", "left": 0, "right": 0}
    battery = state["sensors"]["battery"]
    assert battery["value"] == 80.0 and battery["unit"] == "%" and battery["fresh"] is True
    assert state["sensors"]["bumper"] == {"value": None, "unit": "", "age_s": None,
                                          "fresh": False}


def test_a_sensor_flood_does_not_flood_state(robot: Running, client: Client) -> None:
    client.forget()
    before = client.mark
    started = time.monotonic()
    for i in range(3000):
        client.client.publish("robots/t/sensors/battery", f"{50 + i % 7}", qos=0)
    client.publish("robots/t/sensors/battery", "99")  # the newest reading is published
    client.wait_for("robots/t/state", lambda s: s["sensors"]["battery"]["value"] == 99.0)
    took = time.monotonic() - started
    client.forget()
    published = sum(1 for m in client.history[before:] if m[0] == "robots/t/state")
    assert published <= took / 0.5 + 2, (published, took)
