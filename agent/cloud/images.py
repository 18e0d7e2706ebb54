"""A camera frame made ready for the cloud: decoded, turned upright, downscaled so its long side
is at most `[cloud] image_max_px`, re-encoded as JPEG at `image_quality`, and put in an
OpenAI-compatible `image_url` part as a data URL (base64). On the planner's thread, never on
the MQTT thread: decoding a frame takes milliseconds (docs/cloud.md has the figures).

A JPEG is decoded at a reduced scale where it can be (libjpeg's DCT scaling: Pillow's draft
mode), which makes a large frame several times cheaper than a full decode and a resize.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from typing import Any

from agent.sensing.frames import FORMATS, Frame


@dataclass(frozen=True)
class Prepared:
    part: dict[str, Any] = field(repr=False)  # the image_url content part
    width: int
    height: int
    bytes: int  # of the JPEG, before base64


def prepare(frame: Frame, max_px: int, quality: int) -> Prepared:
    """Raises (OSError, mostly) when the frame cannot be decoded after all: its header and end
    were read when it arrived, the pixels between them may still be broken."""
    from PIL import Image, ImageOps  # loaded with the first frame (agent.sensing.frames)

    with Image.open(io.BytesIO(frame.data), formats=FORMATS) as image:
        if image.format == "JPEG":  # decode at 1/2, 1/4 or 1/8 when that still covers the size
            scale = min(1.0, max_px / max(image.size))
            image.draft("RGB", (round(image.width * scale), round(image.height * scale)))
        upright = ImageOps.exif_transpose(image)
        rgb = upright.convert("RGB")
    rgb.thumbnail((max_px, max_px), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=quality)
    data = out.getvalue()
    url = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
    return Prepared({"type": "image_url", "image_url": {"url": url}}, rgb.width, rgb.height,
                    len(data))
