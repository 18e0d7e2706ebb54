"""The simulated camera of `run --sim`: the room as the simulated robot sees it, a JPEG.

A ray per column of the image from the robot's pose (agent.sensing.sim_world): the wall it hits
is drawn as a vertical band whose height falls with the distance, so the wall ahead grows as
the robot nears it and turning brings another wall (each has its own colour) into view. Enough
for a vision model to tell "a blue wall close ahead" from "open floor", and for the tests to
measure; not a photograph.
"""

from __future__ import annotations

import io
import math
from typing import Protocol

WIDTH, HEIGHT = 320, 240
FIELD_OF_VIEW = 62.0  # degrees, about a Raspberry Pi camera module 3's horizontal view
WALL_M = 0.4  # how tall the walls are drawn: a wall 0.4 m away fills the image's height
WALLS = {"+x": (40, 90, 200), "-x": (200, 170, 60), "+y": (60, 160, 80), "-y": (170, 60, 60)}
FLOOR, CEILING = (110, 100, 90), (225, 225, 230)
QUALITY = 80


class Pose(Protocol):
    heading: float

    def wall(self, heading: float) -> tuple[float, str]: ...


def render(pose: Pose, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A JPEG of what the robot faces."""
    from PIL import Image, ImageDraw  # only a simulation with a camera loads Pillow

    image = Image.new("RGB", (width, height), CEILING)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height // 2, width, height), fill=FLOOR)
    for column in range(width):
        offset = FIELD_OF_VIEW / 2 - FIELD_OF_VIEW * column / (width - 1)  # left is +
        distance, which = pose.wall(pose.heading + offset)
        along = max(distance * math.cos(math.radians(offset)), 0.05)  # no fish-eye
        band = min(height, round(height * WALL_M / along))
        shade = 1.0 / (1.0 + 0.25 * along)  # farther is darker
        colour = tuple(round(c * shade) for c in WALLS[which])
        top = (height - band) // 2
        draw.line((column, top, column, top + band), fill=colour)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()
