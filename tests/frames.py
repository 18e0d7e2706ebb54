"""Camera frames for the tests: JPEG and PNG bytes of a chosen size, as a camera publishes them."""

from __future__ import annotations

import io

from PIL import Image

CAMERA = "robots/t/camera/front"
CAMERA_CONFIG = f"""
[sensors.front_camera]
topic = "{CAMERA}"
kind = "camera"
max_age_s = {{max_age_s}}
max_bytes = {{max_bytes}}
description = "the camera at the front"
"""


def camera_config(max_age_s: float = 5.0, max_bytes: int = 2_000_000) -> str:
    return CAMERA_CONFIG.format(max_age_s=max_age_s, max_bytes=max_bytes)


def frame(width: int = 640, height: int = 480, fmt: str = "JPEG", noise: bool = False) -> bytes:
    """A frame: a plain colour, or grey noise (which compresses badly: a large frame)."""
    image = (Image.effect_noise((width, height), 80).convert("RGB") if noise
             else Image.new("RGB", (width, height), (30, 90, 200)))
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return out.getvalue()
