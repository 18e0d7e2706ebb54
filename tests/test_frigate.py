"""Frigate's `frigate/events` read as an event sensor's text (`format = "frigate"`): a reaction
that means "a person is at the front door" fires from a camera NVR with no glue code, once per
Frigate event id and zone entered, not on every update.

The payloads follow Frigate's documentation (docs.frigate.video/integrations/mqtt, frigate/events:
type new, update, end; before and after with id, camera, label, score, top_score,
false_positive, current_zones and entered_zones)."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.sensing.frigate import TRACKED_EVENTS, FrigateEvents
from tests.conftest import Broker, Client, Running, make_config, start_daemon

EVENTS = "frigate/events"
# The object of Frigate's documented example, as it is first seen: no zone entered yet.
OBJECT: dict[str, Any] = {
    "id": "1607123955.475377-mxklsc", "camera": "front_door", "frame_time": 1607123961.837752,
    "snapshot": {"frame_time": 1607123965.975463, "box": [415, 489, 528, 700], "area": 12728,
                 "region": [260, 446, 660, 846], "score": 0.77546, "attributes": []},
    "label": "person", "sub_label": None, "top_score": 0.958984375, "false_positive": False,
    "start_time": 1607123955.475377, "end_time": None, "score": 0.7890625,
    "box": [424, 500, 536, 712], "area": 23744, "ratio": 2.113207,
    "region": [264, 450, 667, 853], "current_zones": [], "entered_zones": [],
    "thumbnail": None, "has_snapshot": False, "has_clip": False, "active": True,
    "stationary": False, "motionless_count": 0, "position_changes": 2,
    "attributes": {}, "current_attributes": []}


def event(kind: str, before: dict[str, Any] | None = None, **after: Any) -> bytes:
    new = {**copy.deepcopy(OBJECT), **after}
    return json.dumps({"type": kind, "before": before or copy.deepcopy(OBJECT),
                       "after": new}).encode()


def test_each_event_and_zone_is_said_once() -> None:
    reader = FrigateEvents()
    assert reader.read(event("new")) == "person seen by front_door, score 0.96"
    assert reader.read(event("update", score=0.91)) is None  # a better snapshot: nothing new
    assert reader.read(event("update", current_zones=["yard"], entered_zones=["yard"])) == \
        "person in yard, score 0.96"
    assert reader.read(event("update", current_zones=["yard"], entered_zones=["yard"])) is None
    assert reader.read(event("update", current_zones=["driveway"],
                             entered_zones=["yard", "driveway"])) == \
        "person in driveway, score 0.96"
    assert reader.read(event("end", end_time=1607123990.0, entered_zones=["yard",
                                                                         "driveway"])) is None
    # Another object, straight into two zones; a false positive says nothing.
    assert reader.read(event("new", id="2", label="car", top_score=0.7,
                             entered_zones=["driveway", "street"])) == \
        "car in driveway and street, score 0.70"
    assert reader.read(event("new", id="3", false_positive=True)) is None


def test_what_is_remembered_is_bounded() -> None:
    reader = FrigateEvents()
    for n in range(TRACKED_EVENTS + 10):
        reader.read(event("new", id=str(n)))
    assert len(reader.said) == TRACKED_EVENTS


@pytest.mark.parametrize("payload", [b"person", b"[]", b'{"type": "new"}',
                                     b'{"type": "odd", "after": {"id": "1", "label": "x"}}'])
def test_anything_else_is_no_frigate_event(payload: bytes) -> None:
    with pytest.raises(ValueError, match="Frigate event"):
        FrigateEvents().read(payload)


NVR = f"""
[sensors.frigate]
topic = "{EVENTS}"
kind = "event"
format = "frigate"
max_age_s = 10
description = "what the Frigate NVR detects"
[reactions.someone_at_door]
when = {{ event = "frigate", means = "a person is at the front door" }}
do = {{ action = "lights_color", params = {{ color = "blue" }} }}
"""


@pytest.fixture
def nvr(broker: Broker, client: Client, tmp_path: Path) -> Iterator[Running]:
    running = start_daemon(make_config(broker.port, NVR), tmp_path / "state", client)
    yield running
    running.stop()


def test_a_frigate_event_fires_the_reaction_it_means_once(nvr: Running, client: Client) -> None:
    door = {"camera": "doorbell", "current_zones": ["front_door"],
            "entered_zones": ["front_door"], "top_score": 0.86}
    client.publish(EVENTS, event("new", camera="doorbell"))  # no zone yet: not at the door
    client.publish(EVENTS, event("update", **door))
    fired = client.wait_for("robots/t/result", lambda r: r["id"].startswith(
        "reaction:someone_at_door"))
    assert fired["status"] == "done" and nvr.pin(13).state == 1  # the lamp is blue
    record = client.wait_for("robots/t/events", lambda e: e["input_kind"] == "reaction")
    assert record["text"] == "person in front_door, score 0.86"
    assert "reaction someone_at_door (frigate says 'person in front_door" in record["detail"]
    for kind, extra in (("update", {"score": 0.9}), ("update", {"score": 0.95}),
                        ("end", {"end_time": 1607123990.0})):
        client.publish(EVENTS, event(kind, **{**door, **extra}))
    client.publish("robots/t/cmd", {"id": "sync", "action": "lights_off"})
    client.result("sync")
    time.sleep(0.3)
    firings = [m for t, m, _ in client.history if t == "robots/t/result" and
               json.loads(m)["id"].startswith("reaction:")]
    assert len(firings) == 1
    unusable = [m for t, m, _ in client.history if t == "robots/t/events" and
                json.loads(m)["reason"] == "malformed"]
    assert unusable == []
