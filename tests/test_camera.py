"""A camera is a sensor: raw JPEG or PNG frames over MQTT, the newest kept with its age, what it
is shown on P/state (never its bytes); an oversized or broken frame refused with a record, and
the daemon goes on."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import ConfigError
from agent.mqtt.homeassistant import discovery_payload
from agent.sensing.frames import Frame, Unusable, read_frame
from tests.conftest import Broker, Client, Running, make_config, start_daemon, wait_until
from tests.frames import CAMERA, camera_config, frame

STATE = "robots/t/state"


@pytest.fixture
def camera(broker: Broker, client: Client, tmp_path: Path) -> Iterator[Running]:
    running = start_daemon(make_config(broker.port, camera_config(max_bytes=300_000)),
                           tmp_path / "state", client)
    yield running
    running.stop()


def _camera_state(client: Client, fresh: bool) -> dict[str, object]:
    state = client.wait_for(STATE, lambda s: s["sensors"]["front_camera"]["fresh"] is fresh)
    shown: dict[str, object] = state["sensors"]["front_camera"]
    return shown


def test_the_newest_frame_is_kept_and_p_state_shows_what_it_is(camera: Running,
                                                                client: Client) -> None:
    data = frame(640, 480)
    assert len(data) > 4096  # bigger than the test config's mqtt.max_payload_bytes: it arrives
    client.publish(CAMERA, data)
    shown = _camera_state(client, fresh=True)
    assert {k: v for k, v in shown.items() if k != "age_s"} == {
        "bytes": len(data), "width": 640, "height": 480, "format": "JPEG", "fresh": True}
    assert 0 <= float(str(shown["age_s"])) < 2
    client.publish(CAMERA, frame(320, 240, fmt="PNG"))  # a newer one replaces it
    state = client.wait_for(STATE, lambda s: s["sensors"]["front_camera"]["width"] == 320)
    assert state["sensors"]["front_camera"]["format"] == "PNG"
    reading = camera.daemon.sensors.readings["front_camera"]
    assert isinstance(reading.value, Frame) and reading.value.width == 320


@pytest.mark.parametrize("payload, reason", [
    (frame(1600, 1200, noise=True), "too_large"),  # over this camera's max_bytes (300,000)
    (b"\xff\xd8\xff\xe0 this is no image at all" * 300, "malformed"),
    (frame(640, 480)[:-200], "malformed"),  # cut short in transit
    (b"", "malformed"),
])
def test_an_oversized_or_broken_frame_is_refused_and_the_daemon_lives(
        camera: Running, client: Client, payload: bytes, reason: str) -> None:
    client.publish(CAMERA, frame())
    _camera_state(client, fresh=True)
    client.publish(CAMERA, payload)
    record = client.wait_for("robots/t/events", lambda e: e["input_kind"] == "sensor")
    assert (record["decision"], record["reason"]) == ("refuse", reason)
    assert record["id"] == "sensor:front_camera" and "front_camera" in record["detail"]
    # The broken frame replaced the good one: nothing is sent from a camera in that state.
    assert _camera_state(client, fresh=False)["bytes"] is None
    assert camera.daemon.health_problem() == ""
    client.publish("robots/t/cmd", {"id": "after", "action": "lights_off"})
    assert client.result("after")["status"] == "done"
    client.publish(CAMERA, frame())
    _camera_state(client, fresh=True)


def test_refusals_are_rate_limited_records(camera: Running, client: Client) -> None:
    for _ in range(20):
        client.publish(CAMERA, b"garbage", qos=0)
    client.publish("robots/t/cmd", {"id": "sync", "action": "lights_off"})
    client.result("sync")
    time.sleep(0.3)
    records = [m for t, m, _ in client.history if t == "robots/t/events"
               and json.loads(m)["input_kind"] == "sensor"]
    assert len(records) == 1


def test_frame_bytes_never_reach_a_record_the_state_or_a_log(
        camera: Running, client: Client, caplog: pytest.LogCaptureFixture) -> None:
    data = frame(640, 480, noise=True)
    client.publish(CAMERA, data)
    _camera_state(client, fresh=True)
    client.publish(CAMERA, data[:-100])  # refused: a record about it, without it
    client.wait_for("robots/t/events", lambda e: e["input_kind"] == "sensor")
    client.publish("robots/t/ask", {"id": "q", "text": "what does the front camera see?"})
    answer = client.result("q")
    assert "640x480" in answer["answer"] or "no usable frame" in answer["answer"]
    everything = [m for t, m, _ in client.history if t != CAMERA]
    assert max(map(len, everything)) < 5000
    assert data[1000:1032] not in b"".join(everything)
    assert len(caplog.text) < 20_000


def test_a_retained_frame_is_of_unknown_age_until_a_new_one_comes(
        broker: Broker, client: Client, tmp_path: Path) -> None:
    """Frigate's snapshot topics are retained: a frame from hours ago, delivered when the robot
    subscribes, must not count as what the camera sees now."""
    client.publish(CAMERA, frame(), retain=True)
    running = start_daemon(make_config(broker.port, camera_config()), tmp_path / "s", client)
    try:
        assert wait_until(lambda: "front_camera" in running.daemon.sensors.readings)
        value, why = running.daemon.sensors.fresh("front_camera")
        assert value is None and "retained" in why
        client.publish(CAMERA, frame(320, 240))
        assert wait_until(lambda: running.daemon.sensors.fresh("front_camera")[0] is not None)
    finally:
        running.stop()
        client.publish(CAMERA, b"", retain=True)  # clear it for the broker's next user


def test_read_frame_says_why() -> None:
    assert read_frame(frame(64, 48), 10_000).facts() == {
        "bytes": len(frame(64, 48)), "width": 64, "height": 48, "format": "JPEG"}
    with pytest.raises(Unusable, match="over the camera's max_bytes 1,024"):
        read_frame(frame(640, 480), 1024)
    with pytest.raises(Unusable, match="not a JPEG or PNG"):
        read_frame(b"GIF89a" + bytes(100), 10_000)
    assert "data" not in repr(read_frame(frame(64, 48), 10_000))


@pytest.mark.parametrize("extra, problem", [
    ('[sensors.x]\ntopic = "t/x"\nmax_bytes = 5000\n', "sensors.x.max_bytes: a number sensor"),
    ('[sensors.x]\ntopic = "t/x"\nformat = "frigate"\n', "sensors.x.format: a number sensor"),
    ('[sensors.x]\ntopic = "t/x"\nkind = "camera"\nunit = "px"\n', "sensors.x.unit"),
    (camera_config() + '[reactions.r]\nwhen = { sensor = "front_camera", equals = 1 }\n'
                       'do = { action = "lights_off" }\n', "reactions.r.when.equals"),
    (camera_config() + '[reactions.r]\nwhen = { event = "front_camera", means = "a cat" }\n'
                       'do = { action = "lights_off" }\n', "reactions.r.when.event"),
    (camera_config() + '[reactions.r]\nwhen = { sensor = "front_camera", below = 1, '
                       'clear = 2 }\ndo = { action = "lights_off" }\n', "reactions.r.when.below"),
])
def test_config_keys_of_another_kind_are_errors(extra: str, problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        make_config(1883, extra)
    assert any(p.startswith(problem) for p in error.value.problems), error.value.problems


def test_a_camera_defaults_to_frames_every_few_seconds_and_two_megabytes() -> None:
    config = make_config(1883, f'[sensors.cam]\ntopic = "{CAMERA}"\nkind = "camera"\n')
    assert config.sensors["cam"].max_age_s == 5.0
    assert config.sensors["cam"].frame_limit == 2_000_000


def test_home_assistant_shows_a_camera_as_a_camera() -> None:
    config = make_config(1883, camera_config() + "[homeassistant]\nenabled = true\n")
    component = discovery_payload(config)["cmps"]["sensor_front_camera"]
    assert (component["p"], component["topic"]) == ("camera", CAMERA)
    assert "value_template" not in component and "state_topic" not in component
