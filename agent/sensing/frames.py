"""Camera frames: raw JPEG or PNG bytes on a camera sensor's topic (no base64), the convention
of Frigate's snapshot topics and Home Assistant's MQTT camera.

A frame is read as it arrives, on the MQTT thread: its size against the camera's `max_bytes`,
then its header (Pillow reads the format and dimensions without decoding the pixels) and its
end marker (a frame cut short in transit is refused here, not when a plan needs it). Decoding
and re-encoding happen only when a frame is sent (agent.cloud.images), on the planner's thread.

The bytes are never logged, journalled or retained: a Frame's repr and str leave them out, and
a camera keeps only its newest frame (agent.sensing.sensors).
"""

from __future__ import annotations

import importlib
import io
from dataclasses import dataclass, field

from agent.core.protocol import Reason

FORMATS = ("JPEG", "PNG")
MAX_PIXELS = 40_000_000  # a 12 MP camera is 12 M; a frame beyond this is no camera frame
# What a frame of each format ends with (JPEG: the end-of-image marker; PNG: the IEND chunk).
ENDINGS = {"JPEG": b"\xff\xd9", "PNG": b"IEND\xaeB`\x82"}


class Unusable(ValueError):
    """A message a sensor cannot use, and the stable reason to say so (malformed, too_large)."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class Frame:
    data: bytes = field(repr=False)
    width: int
    height: int
    format: str  # JPEG or PNG
    retained: bool = False  # delivered as a retained message: when it was taken is unknown

    def __str__(self) -> str:
        return f"a {self.width}x{self.height} {self.format} frame of {len(self.data):,} bytes"

    def facts(self) -> dict[str, int | str]:
        """What P/state and an answer say about it: never its bytes."""
        return {"bytes": len(self.data), "width": self.width, "height": self.height,
                "format": self.format}


def load_pillow() -> None:
    """Import Pillow now (25-60 ms here), at start-up, rather than on the MQTT thread when the
    first frame arrives; a robot without a camera never does."""
    importlib.import_module("PIL.JpegImagePlugin")
    importlib.import_module("PIL.PngImagePlugin")


def read_frame(payload: bytes, max_bytes: int, *, retained: bool = False) -> Frame:
    """The frame in a camera message, or Unusable (too_large, malformed)."""
    if len(payload) > max_bytes:
        raise Unusable(Reason.TOO_LARGE, f"a frame of {len(payload):,} bytes, over the camera's "
                                         f"max_bytes {max_bytes:,}")
    from PIL import Image  # loaded at start-up when there is a camera (load_pillow)

    try:
        with Image.open(io.BytesIO(payload), formats=FORMATS) as image:
            kind, (width, height) = str(image.format), image.size
    # Pillow parses untrusted bytes here: whatever it raises, the frame is unreadable.
    except Exception as exc:
        raise Unusable(Reason.MALFORMED, "not a JPEG or PNG image: "
                                         f"{type(exc).__name__}") from None
    if width * height > MAX_PIXELS:
        raise Unusable(Reason.TOO_LARGE, f"a {width}x{height} frame, over "
                                         f"{MAX_PIXELS // 1_000_000} megapixels")
    if not payload.rstrip(b"\0").endswith(ENDINGS[kind]):
        raise Unusable(Reason.MALFORMED, f"a {kind} frame cut short (no end marker)")
    return Frame(payload, width, height, kind, retained)
