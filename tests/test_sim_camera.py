"""The simulated camera of `run --sim`: the room from the robot's pose, the wall ahead growing as
the robot nears it; frames published at a low rate on each camera's topic, and none with
`[sim] world = false`."""

from __future__ import annotations

import io
import threading
import time

from PIL import Image

from agent.cli.main import wants_sim_world
from agent.core.clock import SystemClock
from agent.sensing.sim_camera import HEIGHT, WIDTH, render
from agent.sensing.sim_world import FRAME_EVERY_S, Pose, SimWorld
from tests.conftest import make_config
from tests.frames import CAMERA, camera_config


def wall_rows(pose: Pose) -> int:
    """How many rows of the middle column show the wall ahead (the one the robot starts facing
    is blue)."""
    image = Image.open(io.BytesIO(render(pose))).convert("RGB")
    assert (image.format, image.size) == (None, (WIDTH, HEIGHT))  # converted from a JPEG
    pixels = [image.getpixel((WIDTH // 2, y)) for y in range(HEIGHT)]
    return sum(1 for p in pixels if isinstance(p, tuple) and p[2] > p[0] + 40)


def test_the_wall_ahead_grows_as_the_robot_nears_it() -> None:
    rows = [wall_rows(Pose(x, 1.25, 0.0)) for x in (0.5, 1.0, 1.5, 2.0, 2.2)]
    assert rows == sorted(rows) and rows[0] < rows[-1] / 3, rows
    assert abs(rows[0] - HEIGHT * 0.4 / 2.0) < 3  # 2 m away: 0.4 m fills the image


def test_turning_brings_another_wall_into_view() -> None:
    assert wall_rows(Pose(1.25, 1.25, 0.0)) > 0
    assert wall_rows(Pose(1.25, 1.25, 180.0)) == 0  # the other wall is not blue


def test_frames_are_published_at_a_low_rate_on_each_camera_topic() -> None:
    config = make_config(1883, camera_config())
    sent: list[tuple[str, str | bytes]] = []
    stopping = threading.Event()
    world = SimWorld(config, {}, lambda topic, payload: sent.append((topic, payload)),
                     clock=SystemClock(), stopping=stopping)
    world.start()
    time.sleep(2.5 * FRAME_EVERY_S)
    stopping.set()
    world.thread.join(2)
    frames = [payload for topic, payload in sent if topic == CAMERA]
    assert 1 <= len(frames) <= 3 and all(isinstance(f, bytes) for f in frames)
    assert Image.open(io.BytesIO(frames[0])).format == "JPEG"  # type: ignore[arg-type]
    assert len([t for t, _ in sent if t == "robots/t/sensors/front"]) == 0  # no unit "m"


def test_sim_world_false_turns_it_off() -> None:
    mock = make_config(1883)
    assert wants_sim_world(mock, sim=False)
    off = make_config(1883, "[sim]\nworld = false\n")
    assert not wants_sim_world(off, sim=True) and not wants_sim_world(off, sim=False)
