"""What a camera frame costs on its way to a vision model: the bytes and image tokens of a frame
at the default downscale, the time to read its header on arrival (the MQTT thread) and to make
it ready (decode, downscale, re-encode, base64: the planner's thread), and the cost per 1,000
plans with and without an image for Llama 4 Scout and Maverick at their cards' prices.

    .venv/bin/python scripts/bench_vision.py [--rounds 30] [--photo FILE.jpg ...]

No broker, no daemon, no network. The frames are synthetic (a scene of smooth shapes with
texture and sensor noise, encoded as a camera would, JPEG quality 90) at the sizes cameras
send; --photo adds real photographs (their bytes depend on what they show far more than on
their size).
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw, ImageFilter  # noqa: E402

from agent.cloud.cost import Prompt, image_tokens  # noqa: E402
from agent.cloud.images import prepare  # noqa: E402
from agent.cloud.planner import messages  # noqa: E402
from agent.config import ModelPrices, load_config  # noqa: E402
from agent.sensing.frames import Frame, read_frame  # noqa: E402

SIZES = [(640, 480), (1280, 720), (1920, 1080), (4608, 2592)]  # VGA, HD, Frigate, Pi camera 3
# The cards' prices (docs/cloud.md says where and when they were read).
CARDS = {"meta-llama/llama-4-scout": ModelPrices(input_per_m=0.08, output_per_m=0.30,
                                                 per_image=0.0003342, vision=True),
         "meta-llama/llama-4-maverick": ModelPrices(input_per_m=0.15, output_per_m=0.60,
                                                    per_image=0.0006684, vision=True)}
ANSWER_TOKENS = 60  # a two-step plan as JSON with a short "say"
GOAL = "drive to the door and check whether someone is there"


def scene(width: int, height: int, rng: random.Random) -> bytes:
    """A photo-like frame: shapes with soft edges and texture, and a camera's noise."""
    small = Image.new("RGB", (160, 90), (rng.randrange(256), rng.randrange(256), 200))
    draw = ImageDraw.Draw(small)
    for _ in range(40):
        x, y = rng.randrange(160), rng.randrange(90)
        draw.ellipse((x, y, x + rng.randrange(8, 60), y + rng.randrange(8, 40)),
                     fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image = small.resize((width, height), Image.Resampling.BICUBIC)
    image = image.filter(ImageFilter.GaussianBlur(max(1, width // 400)))
    texture = Image.effect_noise((width, height), 24).convert("RGB")
    image = Image.blend(image, texture, 0.12)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def mosaic(width: int, height: int, photos: list[bytes]) -> bytes:
    """A frame made of real photographs, tiled at their own resolution (never scaled): a
    camera-sized frame with a photograph's detail, for its bytes."""
    canvas = Image.new("RGB", (width, height))
    tiles = [Image.open(io.BytesIO(p)).convert("RGB") for p in photos]
    y, n = 0, 0
    while y < height:
        x, row = 0, 0
        while x < width:
            tile = tiles[n % len(tiles)]
            canvas.paste(tile, (x, y))
            x, row, n = x + tile.width, max(row, tile.height), n + 1
        y += row
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90)
    return out.getvalue()


def timed(fn: object, rounds: int) -> list[float]:
    ms = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        ms.append((time.perf_counter() - started) * 1000)
    return ms


def frame_rows(frames: list[tuple[str, bytes]], rounds: int) -> None:
    print("| frame | bytes in | header on arrival p50 | made ready p50 / p95 | sent "
          "| JPEG bytes | base64 bytes | image tokens |")
    print("|---|---|---|---|---|---|---|---|")
    for name, data in frames:
        frame = read_frame(data, 64 * 1024 * 1024)
        header = timed(lambda d=data: read_frame(d, 64 * 1024 * 1024), rounds)
        ready = timed(lambda f=frame: prepare(f, 768, 75), rounds)
        out = prepare(frame, 768, 75)
        b64 = len(out.part["image_url"]["url"])
        print(f"| {name} {frame.width}x{frame.height} | {len(data):,} | "
              f"{statistics.median(header):.2f} ms | {statistics.median(ready):.1f} / "
              f"{_p95(ready):.1f} ms | {out.width}x{out.height} | {out.bytes:,} | {b64:,} | "
              f"{image_tokens(out.width, out.height):,} |")


def _p95(ms: list[float]) -> float:
    return sorted(ms)[max(0, round(0.95 * len(ms)) - 1)]


def cost_rows(text_tokens: int, tokens: int) -> None:
    print(f"\ncost per 1,000 plans: {text_tokens} prompt tokens of text, {ANSWER_TOKENS} "
          f"of answer; an image adds {tokens} input tokens and the card's per-image price\n")
    print("| model | without an image | the image's tokens | the per-image price "
          "| with an image (both) |")
    print("|---|---|---|---|---|")
    for model, p in CARDS.items():
        words = 1000 * (text_tokens * p.input_per_m + ANSWER_TOKENS * p.output_per_m) / 1e6
        image = 1000 * tokens * p.input_per_m / 1e6
        fee = 1000 * p.per_image
        print(f"| {model} | {words:.4f} | {image:.4f} | {fee:.4f} | {words + image + fee:.4f} |")


def text_tokens() -> tuple[int, str]:
    """The plan prompt of the example rover: counted with the bundled model's tokenizer when
    its runtime is installed, else the budget's own (high) estimate."""
    config = load_config(ROOT / "deploy/examples/vision-rover.toml")
    summary = ("e-stop released. Running: nothing. Recent: nothing yet.\nSensors:\n"
               "- front_distance (distance to the nearest obstacle ahead): now 1.2 m; last 60 "
               "s: 600 readings, min 1.2, max 2, mean 1.5 m, falling 0.4 m/min\n- front_camera "
               "(what the robot sees, ahead): a 1280x720 frame 0.4 s old")
    chat = messages(config, GOAL, summary)
    chat[-1]["content"] += "\nImage: attached below, from camera front_camera, 0.4 s old."
    try:
        from llama_cpp import Llama

        from agent.interpret import resolve
    except ImportError:
        return Prompt(list(chat)).input_estimate(), "estimated (no tokenizer installed)"
    vocab = Llama(str(resolve(config)[0]), vocab_only=True, verbose=False)
    text = "\n".join(m["content"] for m in chat)
    return len(vocab.tokenize(text.encode(), add_bos=False)), "the bundled model's tokenizer"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--photo", type=Path, action="append", default=[])
    args = parser.parse_args()
    rng = random.Random(7)
    frames = [("synthetic", scene(w, h, rng)) for w, h in SIZES]
    photos = [path.read_bytes() for path in args.photo]
    frames += [(path.name, data) for path, data in zip(args.photo, photos, strict=True)]
    frames += [("photo mosaic", mosaic(w, h, photos)) for w, h in SIZES if photos]
    frame_rows(frames, args.rounds)
    count, how = text_tokens()
    print(f"\nprompt text: {count} tokens ({how})")
    sent = prepare(Frame(frames[1][1], 1280, 720, "JPEG"), 768, 75)
    cost_rows(count, image_tokens(sent.width, sent.height))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
