"""Frames reach the vision planner only when allowed and useful, against a fake
OpenAI-compatible vision server on loopback (tests/cloudstub.py): a fresh frame is attached after
the text, downscaled within the bound; a stale frame, `send_images = false` or a text-only model
send none. A question the robot's state cannot answer goes to the cloud with the frame and comes
back as an answer that moves nothing."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cloudstub import CloudStub
from tests.conftest import (
    Broker,
    Client,
    Running,
    free_port,
    make_config,
    start_daemon,
    wait_until,
)
from tests.frames import CAMERA, camera_config, frame

PLAN = "robots/t/plan"
OUTPUTS = (4, 14, 17, 18, 5, 6, 13, 23)
SCOUT = '''
[cloud.prices."vision-model"]
input_per_m = 0.08
output_per_m = 0.30
per_image = 0.0003342
vision = true
[cloud.prices."text-model"]
input_per_m = 0.05
output_per_m = 0.10
'''


def vision_config(port: int, base_url: str, *, model: str = "vision-model",
                  send_images: bool = True, max_age_s: float = 5.0, extra: str = "") -> Any:
    return make_config(port, camera_config(max_age_s=max_age_s) +
                       f'\n[cloud]\nenabled = true\nbase_url = "{base_url}"\nmodel = "{model}"\n'
                       f"timeout_s = 2\nsend_images = {str(send_images).lower()}\n{extra}" +
                       SCOUT)


def run(broker: Broker, client: Client, tmp_path: Path, base_url: str, **options: Any
        ) -> Running:
    return start_daemon(vision_config(broker.port, base_url, **options), tmp_path / "state",
                        client)


def see(client: Client, running: Running, data: bytes) -> None:
    """A frame from the camera, once the daemon has it."""
    client.publish(CAMERA, data)
    assert wait_until(lambda: (r := running.daemon.sensors.readings.get("front_camera")) and
                      r.value is not None and len(r.value.data) == len(data))  # type: ignore


def plan(client: Client, stub: CloudStub, rid: str) -> dict[str, Any]:
    stub.script.append(("plan", [{"action": "lights_off", "params": {}}]))
    client.publish(PLAN, {"id": rid, "goal": "go to the blue wall"})
    result: dict[str, Any] = client.final(rid)
    assert result["status"] == "done", result
    return result


def test_a_fresh_frame_is_attached_downscaled_within_the_bound(
        broker: Broker, client: Client, tmp_path: Path, stub: CloudStub) -> None:
    running = run(broker, client, tmp_path, stub.base_url)
    try:
        see(client, running, frame(2000, 1500))
        plan(client, stub, "p1")
        [image] = stub.images()
        assert (image.format, image.size) == ("JPEG", (768, 576))  # long side image_max_px
        assert "Image: attached below, from camera front_camera" in stub.text()
        started = client.wait_for("robots/t/result", lambda r: r["id"] == "p1" and
                                  r["status"] == "running" and "step" not in r)
        assert started["image"]["sent"]["width"] == 768 and started["usage"]["images"] == 1
        assert started["image"]["camera"] == "front_camera" and started["image"]["age_s"] < 5
    finally:
        running.stop()


def test_a_smaller_bound_and_quality_are_kept(broker: Broker, client: Client, tmp_path: Path,
                                             stub: CloudStub) -> None:
    running = run(broker, client, tmp_path, stub.base_url,
                  extra="image_max_px = 320\nimage_quality = 40\n")
    try:
        see(client, running, frame(480, 1000, fmt="PNG"))
        plan(client, stub, "p1")
        [image] = stub.images()
        assert image.size == (154, 320)
    finally:
        running.stop()


def test_a_stale_frame_is_not_sent_and_the_prompt_says_so(
        broker: Broker, client: Client, tmp_path: Path, stub: CloudStub) -> None:
    running = run(broker, client, tmp_path, stub.base_url, max_age_s=0.3)
    try:
        see(client, running, frame())
        time.sleep(0.5)
        plan(client, stub, "p1")
        assert stub.images() == []
        assert "Image: none attached (sensor front_camera is stale" in stub.text()
        assert "do not guess" in stub.text()
    finally:
        running.stop()


@pytest.mark.parametrize("options", [{"send_images": False}, {"model": "text-model"}])
def test_no_image_leaves_the_robot_unless_allowed_and_the_model_sees(
        broker: Broker, client: Client, tmp_path: Path, stub: CloudStub,
        options: dict[str, Any]) -> None:
    running = run(broker, client, tmp_path, stub.base_url, **options)
    try:
        see(client, running, frame())
        plan(client, stub, "p1")
        assert stub.images() == [] and "Image:" not in stub.text()
        assert all(isinstance(m["content"], str) for m in stub.requests[0]["body"]["messages"])
        assert not running.daemon.planner or not running.daemon.planner.sees
    finally:
        running.stop()


@pytest.mark.parametrize("question", ["is the door open?", "what do you see?"])
def test_a_question_the_state_cannot_answer_is_asked_with_the_frame(
        broker: Broker, client: Client, tmp_path: Path, stub: CloudStub, question: str) -> None:
    running = run(broker, client, tmp_path, stub.base_url)
    try:
        see(client, running, frame(1280, 720))
        stub.script.append(("answer", "The door on the left is open."))
        client.publish("robots/t/ask", {"id": "q", "text": question})
        result = client.result("q", "answered", timeout=10)
        assert (result["decision"], result["route"]) == ("answer", "cloud")
        assert result["answer"] == "The door on the left is open."
        assert result["facts"]["image"]["sent"]["width"] == 768
        assert result["usage"]["images"] == 1 and result["usage"]["cost"] > 0
        escalated = client.result("q", "escalated")  # said first, without a local answer
        assert escalated["decision"] == "escalate" and "answer" not in escalated
        [image] = stub.images()
        assert image.size == (768, 432)
        said = re.search(r"Image: attached below, from camera front_camera, ([0-9.]+) s old\.$",
                         stub.text())
        assert said and abs(float(said[1]) - result["facts"]["image"]["age_s"]) <= 0.06
        assert f"Question: {question}" in stub.text()
        assert "steps" not in str(stub.requests[0]["body"]["response_format"])
        record = client.wait_for("robots/t/events", lambda e: e["id"] == "q" and
                                 e["decision"] == "answer")
        assert record["usage"] == result["usage"]
        assert all(running.pin(n).state == 0 for n in OUTPUTS)  # nothing moved
        assert not [e for _, e, _ in client.history if b'"decision":"execute"' in e]
    finally:
        running.stop()


def test_offline_a_question_is_answered_as_without_the_cloud(
        broker: Broker, client: Client, tmp_path: Path) -> None:
    running = run(broker, client, tmp_path, f"http://127.0.0.1:{free_port()}/v1")
    try:
        see(client, running, frame())
        client.publish(PLAN, {"id": "p", "goal": "anything"})  # finds the cloud offline
        assert client.final("p")["reason"] == "offline"
        client.publish("robots/t/ask", {"id": "q", "text": "what does the front camera see?"})
        result = client.result("q")
        assert (result["status"], result["route"]) == ("answered", "local")
        assert "640x480" in result["answer"]
    finally:
        running.stop()


def test_without_a_vision_model_a_question_goes_as_before(
        broker: Broker, client: Client, tmp_path: Path, stub: CloudStub) -> None:
    """No model that sees: a question about the camera is answered from the state, as any
    question about a sensor, and one the state cannot answer goes to the planner as before,
    words only."""
    running = run(broker, client, tmp_path, stub.base_url, model="text-model")
    try:
        see(client, running, frame())
        client.publish("robots/t/ask", {"id": "q", "text": "what does the front camera see?"})
        result = client.result("q")
        assert (result["status"], result["route"]) == ("answered", "local")
        assert "640x480" in result["answer"] and "cannot look at it myself" in result["answer"]
        assert stub.requests == []
        stub.script.append(("plan", []))
        client.publish("robots/t/ask", {"id": "d", "text": "is the door open?"})
        assert client.final("d")["status"] == "none"  # the planner found no steps
        assert "Goal: is the door open?" in stub.text() and stub.images() == []
    finally:
        running.stop()


def test_a_frame_that_cannot_be_decoded_after_all_is_not_sent(
        broker: Broker, client: Client, tmp_path: Path, stub: CloudStub) -> None:
    """Its header and end marker were fine, the pixels between them are not."""
    running = run(broker, client, tmp_path, stub.base_url)
    try:
        data = bytearray(frame(640, 480, fmt="PNG", noise=True))
        start = data.index(b"IDAT")
        data[start + 200:start + 5000] = bytes(4800)  # the compressed pixels, zeroed
        see(client, running, bytes(data))
        plan(client, stub, "p1")
        assert stub.images() == []
        assert ("Image: none attached (the newest frame, from front_camera, could not be "
                "decoded)") in stub.text()
    finally:
        running.stop()
