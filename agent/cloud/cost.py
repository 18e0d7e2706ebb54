"""What a cloud call costs: its usage (input and output tokens, images) and the price of the
model (`[cloud.prices."<model>"]`, from the model's page), and, before it is sent, what it could
cost at most (docs/cloud.md, "Cost and budget").

Usage comes from the API's `usage` when the answer has one. Without it (some endpoints, a
timeout) it is estimated and marked so: the prompt's text at CHARS_PER_TOKEN, each image as
Llama 4 counts it (image_tokens), the answer at its length. Estimates err high on purpose: a
budget must not be passed because a guess was low.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from agent.config import ModelPrices

MAX_TOKENS = 400  # the longest answer asked for: the worst case of every call
CHARS_PER_TOKEN = 3  # English and JSON run at about 4 characters a token: 3 errs high
MESSAGE_TOKENS = 4  # the chat template's own tokens around each message
# Llama 4's image processor (Hugging Face transformers, Llama4ImageProcessorFast): the image is
# fitted onto a canvas of up to 16 tiles of 336 px; each tile is 144 tokens (24 x 24 patches of
# 14 px, pixel-shuffled by 4), and a multi-tile image has a 144-token global view as well.
TILE_PX = 336
TILE_TOKENS = 144
MAX_TILES = 16
IMAGE_MARKERS = 3  # <|image_start|>, <|image|>, <|image_end|>


def image_tokens(width: int, height: int) -> int:
    """The input tokens one image of this size counts as for Llama 4 Scout and Maverick."""
    rows, columns = _canvas(width, height)
    tiles = rows * columns
    if tiles == 1:
        return IMAGE_MARKERS + TILE_TOKENS
    separators = rows * columns  # one after each tile but the last of a row, one per row
    return IMAGE_MARKERS + (tiles + 1) * TILE_TOKENS + separators


def _canvas(width: int, height: int) -> tuple[int, int]:
    """The tile grid (rows, columns) the image is fitted onto: the smallest upscale that fits
    it whole, else the least downscale; of equal scales the smallest canvas."""
    grids = [(r, c) for r in range(1, MAX_TILES + 1) for c in range(1, MAX_TILES // r + 1)]

    def scale(grid: tuple[int, int]) -> float:
        return min(grid[0] * TILE_PX / height, grid[1] * TILE_PX / width)

    ups = [scale(g) for g in grids if scale(g) >= 1]
    best = min(ups) if ups else max(scale(g) for g in grids)
    return min((g for g in grids if scale(g) == best), key=lambda g: g[0] * g[1])


@dataclass(frozen=True)
class Prompt:
    """A request's messages, and what its images count as."""

    messages: list[dict[str, Any]]
    images: int = 0
    image_tokens: int = 0  # estimated, all images together

    def input_estimate(self) -> int:
        """Input tokens, estimated high: the text of every message, and the images."""
        chars = sum(len(text) for text in _texts(self.messages))
        return (math.ceil(chars / CHARS_PER_TOKEN) + MESSAGE_TOKENS * len(self.messages) +
                self.image_tokens)


def _texts(messages: list[dict[str, Any]]) -> Iterator[str]:
    for message in messages:
        content = message["content"]
        if isinstance(content, str):
            yield content
        else:  # parts: text, and images that image_tokens counts
            yield from (part["text"] for part in content if part.get("type") == "text")


@dataclass(frozen=True)
class Usage:
    """One call's usage and cost, as results, records and the journal carry it."""

    input_tokens: int
    output_tokens: int
    images: int
    cost: float
    estimated: bool = False

    def shown(self) -> dict[str, Any]:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "images": self.images, "cost": round(self.cost, 8), "estimated": self.estimated}


@dataclass(frozen=True)
class Pricing:
    """The model's prices; without them every call costs 0 (and no budget is allowed)."""

    prices: ModelPrices | None = field(default=None)

    def usage(self, input_tokens: int, output_tokens: int, images: int, *,
              estimated: bool) -> Usage:
        cost = 0.0
        if self.prices is not None:
            cost = (input_tokens * self.prices.input_per_m / 1e6 +
                    output_tokens * self.prices.output_per_m / 1e6 +
                    images * self.prices.per_image)
        return Usage(input_tokens, output_tokens, images, cost, estimated)

    def worst_case(self, prompt: Prompt) -> Usage:
        """The most the call can cost: its prompt, MAX_TOKENS of answer and its images."""
        return self.usage(prompt.input_estimate(), MAX_TOKENS, prompt.images, estimated=True)

    def reported(self, prompt: Prompt, usage: Any, answer: str | None) -> Usage:
        """From the API's `usage` when it has one, else estimated (the answer's text counted
        high, or MAX_TOKENS when there is none)."""
        if isinstance(usage, dict) and _count(usage.get("prompt_tokens")) is not None:
            return self.usage(_count(usage.get("prompt_tokens")) or 0,
                              _count(usage.get("completion_tokens")) or 0, prompt.images,
                              estimated=False)
        output = (math.ceil(len(answer) / CHARS_PER_TOKEN) if answer is not None
                  else MAX_TOKENS)
        return self.usage(prompt.input_estimate(), output, prompt.images, estimated=True)


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value) or value < 0:
        return None
    return int(value)
