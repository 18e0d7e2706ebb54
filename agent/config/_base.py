"""What every section shares: strict models, names, pins, topics."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from agent.core.topics import topic_problem


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


NAME = re.compile(r"^[a-z][a-z0-9_]*$")  # of a device, action, reaction
Pin = Annotated[int, Field(ge=0, le=27)]
Scalar = float | int | str | bool


def plain_topic(value: str, *, may_be_empty: bool) -> str:
    """An MQTT topic to subscribe or publish to: no wildcards."""
    if (value or not may_be_empty) and topic_problem(value):
        raise ValueError("an MQTT topic without wildcards")
    return value


def topic_prefix(value: str, *, may_be_empty: bool) -> str:
    """A prefix topics are put under: no wildcards, no leading or trailing /."""
    if (value or not may_be_empty) and (
            topic_problem(value) or value.endswith("/") or value.startswith("/")):
        raise ValueError("a topic prefix without wildcards and without a leading or trailing /")
    return value
