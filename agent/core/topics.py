"""MQTT topic names: a Topic validates itself once, and Topics is the daemon's table of the
contract's topics under its prefix (docs/CONTRACT.md). To add a topic: a field here, then its
handler in the daemon's table (agent.daemon) or its publisher in agent.mqtt.publisher.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_TOPIC_BYTES = 65535  # MQTT's own limit on a topic name


class Topic(str):
    """A topic to publish on or to match exactly: no wildcards, no NUL, not empty."""

    __slots__ = ()

    def __new__(cls, value: str) -> Topic:
        problem = topic_problem(value)
        if problem:
            raise ValueError(problem)
        return super().__new__(cls, value)


def topic_problem(value: object) -> str | None:
    """Why value is not a plain topic name, or None."""
    if not isinstance(value, str) or not value:
        return "a topic is a non-empty string"
    if any(c in value for c in "+#\0"):
        return "a topic without wildcards (+ #) or NUL"
    if len(value.encode("utf-8")) > MAX_TOPIC_BYTES:
        return f"a topic is at most {MAX_TOPIC_BYTES} bytes"
    return None


@dataclass(frozen=True)
class Topics:
    """The contract's topics under one prefix (P)."""

    prefix: str
    status: Topic
    cmd: Topic
    ask: Topic
    plan: Topic
    result: Topic
    events: Topic
    estop: Topic
    estop_reset: Topic
    estop_state: Topic
    state: Topic  # the whole picture (agent.state.picture)
    schedule: Topic  # the pending scheduled actions, retained (agent.requests.schedules)
    schedule_cancel: Topic

    @classmethod
    def under(cls, prefix: str) -> Topics:
        def topic(name: str) -> Topic:
            return Topic(f"{prefix}/{name}")

        return cls(prefix, status=topic("status"), cmd=topic("cmd"), ask=topic("ask"),
                   plan=topic("plan"), result=topic("result"), events=topic("events"),
                   estop=topic("estop"), estop_reset=topic("estop/reset"),
                   estop_state=topic("estop/state"), state=topic("state"),
                   schedule=topic("schedule"), schedule_cancel=topic("schedule/cancel"))

    def device_state(self, device: str) -> Topic:
        return Topic(f"{self.prefix}/state/{device}")

    def owns(self, topic: str) -> bool:
        """Whether a topic is the daemon's own: P itself or anything under it. Every topic it
        publishes on (result, events, status, estop/state, state/...) and every one it acts on
        is, so none of them may be named as a reply target."""
        return topic == self.prefix or topic.startswith(f"{self.prefix}/")
