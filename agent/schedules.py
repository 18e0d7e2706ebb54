"""STAND-IN for issue 12's schedule store (built in parallel; replaced at merge).

The interface the text side uses, in memory only: no persistence, no firing, no P/schedule.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.config import Config
from agent.decisions import Decision
from agent.envelopes import Reply


@dataclass(frozen=True)
class Entry:
    schedule_id: str
    request_id: str
    action: str
    params: dict[str, Any]
    at: datetime
    text: str | None
    recurring: str | None


class Schedules:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.entries: dict[str, Entry] = {}
        self.ids = itertools.count(1)

    def add(self, *, request_id: str, input_kind: str, action: str, params: dict[str, Any],
            at: datetime, text: str | None, recurring: str | None, reply: Reply | None,
            confidence: float | None) -> Decision:
        fields: dict[str, Any] = {"action": action, "params": params, "route": "local",
                                  "text": text, "confidence": confidence}
        if self.config.actions[action].risk == "high":
            return Decision.refused(request_id, input_kind, "risk_high",
                                    f"{action} is high-risk and is never scheduled", **fields)
        entry = Entry(f"s{next(self.ids)}", request_id, action, params, at, text, recurring)
        self.entries[entry.schedule_id] = entry
        return Decision(request_id, input_kind, "scheduled", "schedule",
                        detail=f"{action} at {at.isoformat()}", **fields,
                        extra={"action": action, "params": params, "at": at.isoformat(),
                               "schedule_id": entry.schedule_id, "recurring": recurring})

    def cancel_matching(self, *, action: str | None, reason: str = "cancelled") -> list[Entry]:
        cancelled = [e for e in self.entries.values() if action is None or e.action == action]
        for entry in cancelled:
            del self.entries[entry.schedule_id]
        return cancelled

    def pending(self) -> list[Entry]:
        return sorted(self.entries.values(), key=lambda e: e.at)
