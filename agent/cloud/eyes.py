"""What a cloud call may see: the newest fresh camera frame, only when `[cloud] send_images =
true` and the model is marked `vision = true` in its prices (docs/cloud.md, "Images").

One frame a call, the newest of the fresh ones, downscaled (agent.cloud.images) and attached
after the prompt's text. A stale frame (older than its camera's `max_age_s`, or a retained
message of unknown age) is not sent, and the prompt says so, as it says when a frame could not
be decoded: the model is never left to guess whether it was shown the scene.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from agent.cloud.cost import Prompt, image_tokens
from agent.cloud.images import prepare
from agent.config import Config
from agent.sensing.frames import Frame
from agent.sensing.sensors import Sensors

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Look:
    """What the prompt says about the cameras, and the image part, if any."""

    note: str = ""  # "" when nothing is said: no camera, or images are not sent
    part: dict[str, Any] | None = field(default=None, repr=False)
    tokens: int = 0  # what the image counts as input, estimated
    facts: dict[str, Any] = field(default_factory=dict)  # the frame sent: camera, age, size

    def prompt(self, messages: list[dict[str, Any]]) -> Prompt:
        """The messages with the note after the last one's text and the image after that."""
        if not self.note:
            return Prompt(messages)
        last = messages[-1]
        content: str | list[dict[str, Any]] = f"{last['content']}\n{self.note}"
        if self.part is not None:
            content = [{"type": "text", "text": content}, self.part]
        return Prompt([*messages[:-1], {**last, "content": content}],
                      images=int(self.part is not None), image_tokens=self.tokens)


class Eyes:
    def __init__(self, config: Config, sensors: Sensors) -> None:
        self.cloud = config.cloud
        self.sensors = sensors
        self.cameras = sensors.cameras

    @property
    def see(self) -> bool:
        """A camera, and frames may go to a model that takes them."""
        return bool(self.cameras) and self.cloud.sends_images

    def describe(self) -> str:
        """For the start-up log: whether frames leave the robot, and why not."""
        cloud = self.cloud
        if not self.cameras:
            return "images: no camera configured"
        if not cloud.send_images:
            return "images: not sent to the cloud ([cloud] send_images = false)"
        if not cloud.sends_images:
            return (f"images: not sent: model {cloud.model!r} is not marked vision = true in "
                    f'[cloud.prices."{cloud.model}"]')
        return (f"images: the newest fresh frame of {', '.join(self.cameras)} goes with each "
                f"cloud call, at most {cloud.image_max_px} px, JPEG quality "
                f"{cloud.image_quality}")

    def look(self) -> Look:
        if not self.see:
            return Look()
        fresh: list[tuple[float, str, Frame]] = []
        why = []
        for name in self.cameras:
            value, problem = self.sensors.fresh(name)
            if isinstance(value, Frame):
                fresh.append((self.sensors.readings[name].measured, name, value))
            else:
                why.append(problem)
        if not fresh:
            return Look(f"Image: none attached ({'; '.join(why)}): do not guess what the camera "
                        "shows.")
        measured, name, frame = max(fresh, key=lambda seen: seen[0])
        try:
            ready = prepare(frame, self.cloud.image_max_px, self.cloud.image_quality)
        # Pillow decodes untrusted bytes here: whatever it raises, this frame is not sent.
        except Exception as exc:
            log.warning("the frame from camera %s could not be decoded: %s", name, exc)
            return Look(f"Image: none attached (the newest frame, from {name}, could not be "
                        "decoded): do not guess what the camera shows.")
        age = self.sensors.clock.monotonic() - measured
        return Look(
            f"Image: attached below, from camera {name}, {age:.1f} s old.", ready.part,
            image_tokens(ready.width, ready.height),
            {"camera": name, "age_s": round(age, 3), "width": frame.width,
             "height": frame.height, "sent": {"width": ready.width, "height": ready.height,
                                              "bytes": ready.bytes}})
