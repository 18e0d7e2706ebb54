"""What the daemon tells the world: results to whoever asked, decision records on `P/events`
and in the journal, the retained status, the retained state of each device and the retained list
of pending schedules.

Everything goes out on the daemon's main connection; only the e-stop state has a connection of
its own (agent.safety.estop).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from agent import __version__
from agent.core.clock import Clock
from agent.core.decisions import Decision, to_json
from agent.core.journal import DecisionLog
from agent.core.protocol import Status
from agent.core.topics import Topics
from agent.devices import Output
from agent.mqtt.connection import Connection
from agent.mqtt.inbound import Reply

RECENT_RECORDS = 20  # kept for the cloud planner's summary of what just happened


class Publisher:
    def __init__(self, connection: Connection, topics: Topics, *, clock: Clock,
                 meta: Callable[[], dict[str, str]], decision_log: DecisionLog) -> None:
        self.connection = connection
        self.topics = topics
        self.clock = clock
        self.meta = meta  # policy_version, device_class, model: in every record
        self.decision_log = decision_log
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT_RECORDS)

    def publish(self, decision: Decision, reply: Reply | None, *, result: bool = True,
                record: bool = True) -> None:
        """The result to the reply target (else P/result), and the record everywhere."""
        if decision.status == Status.PROPOSED:  # a bug: the gate never saw it; the worker answers
            raise ValueError(f"a proposal for {decision.action} was never decided")
        if result:
            self.connection.publish(reply.topic if reply else self.topics.result,
                                    to_json(decision.result()),
                                    correlation=reply.correlation if reply else None)
        if record:
            rec = decision.record(self.clock.time(), self.meta())
            self.recent.append(rec)
            self.connection.publish(self.topics.events, to_json(rec))
            self.decision_log(rec)

    def publish_status(self, fields: dict[str, Any]) -> None:
        self.connection.publish(self.topics.status, to_json(
            {"state": "online", "version": __version__, **fields}), retain=True)

    def publish_schedule(self, entries: list[dict[str, Any]]) -> None:
        """Every pending scheduled action (agent.requests.schedules), retained."""
        self.connection.publish(self.topics.schedule, to_json(entries), retain=True)

    def publish_device_state(self, output: Output) -> None:
        self.connection.publish(self.topics.device_state(output.name), to_json(output.state()),
                                retain=True)
