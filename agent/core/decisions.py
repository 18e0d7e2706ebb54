"""A decision: what was asked, what was decided, and why (docs/CONTRACT.md, "Results" and
"Decision records"). One value, three renderings: the result sent to the caller, the record on
`P/events` and in the journal, and the one line a technician reads.

Build one with a named constructor (Decision.refused, .executed, ...); a decision is frozen,
and .but(...) gives a changed copy.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from agent.core.protocol import DecisionKind, InputKind, Reason, Route, Status

# Of a result's extra fields, the ones its record carries too (and the journal, as STEP=...):
# which step of a plan it is, which schedule, so each record can be told from the others; what
# a cloud call cost (USAGE=...); who engaged or reset the e-stop (mqtt, cli, button, ...).
RECORDED_EXTRAS = frozenset(("step", "of", "failed_step", "schedule_id", "at", "usage", "source"))


@dataclass(frozen=True)
class Decision:
    id: str
    input_kind: InputKind
    status: Status  # proposed: never published
    decision: DecisionKind
    reason: Reason | None = None
    detail: str = ""
    action: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    route: Route = Route.DIRECT
    text: str | None = None
    confidence: float | None = None
    latency_ms: float = 0.0
    cloud_escalated: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the question asked back
    # More results follow under this id whatever the status says: a plan's step (the plan's
    # own last result is final), a daily schedule's firing (it fires again tomorrow).
    continues: bool = False

    @property
    def final(self) -> bool:
        """The result a caller waits for: nothing more comes under this id."""
        return self.status.final and not self.continues

    @classmethod
    def refused(cls, id: str, input_kind: InputKind, reason: Reason | None, detail: str,
                **fields: Any) -> Decision:
        return cls(id, input_kind, Status.REFUSED, DecisionKind.REFUSE, reason, detail, **fields)

    @classmethod
    def proposed(cls, id: str, input_kind: InputKind, **fields: Any) -> Decision:
        """An action someone asked for, before the gate: Pipeline.submit decides what becomes
        of it. Never published as it is."""
        return cls(id, input_kind, Status.PROPOSED, DecisionKind.EXECUTE, **fields)

    @classmethod
    def executed(cls, id: str, input_kind: InputKind, *, running: bool = False,
                 **fields: Any) -> Decision:
        """Carried out (done), or started with a final result to follow (running)."""
        return cls(id, input_kind, Status.RUNNING if running else Status.DONE,
                   DecisionKind.EXECUTE, **fields)

    @classmethod
    def aborted(cls, id: str, input_kind: InputKind, reason: Reason | None, detail: str,
                **fields: Any) -> Decision:
        """Started, then stopped before its end."""
        return cls(id, input_kind, Status.FAILED, DecisionKind.ABORT, reason, detail, **fields)

    @classmethod
    def nothing(cls, id: str, input_kind: InputKind, **fields: Any) -> Decision:
        """Nothing done and nothing refused: a question asked back, a plan with no steps."""
        return cls(id, input_kind, Status.NONE, DecisionKind.NONE, **fields)

    @classmethod
    def scheduled(cls, id: str, input_kind: InputKind, **fields: Any) -> Decision:
        """Accepted for later: nothing runs now (CONTRACT section 5, decision `schedule`)."""
        return cls(id, input_kind, Status.SCHEDULED, DecisionKind.SCHEDULE, **fields)

    @classmethod
    def duplicate(cls, id: str, input_kind: InputKind, **fields: Any) -> Decision:
        return cls(id, input_kind, Status.DUPLICATE, DecisionKind.NONE, Reason.DUPLICATE,
                   f"id {id} was already received; it is never run twice", **fields)

    def but(self, **changes: Any) -> Decision:
        return dataclasses.replace(self, **changes)

    def as_refused(self, reason: Reason | None, detail: str) -> Decision:
        return self.but(status=Status.REFUSED, decision=DecisionKind.REFUSE, reason=reason,
                        detail=detail)

    def as_nothing(self, **changes: Any) -> Decision:
        return self.but(status=Status.NONE, decision=DecisionKind.NONE, **changes)

    def result(self) -> dict[str, Any]:
        return {
            "id": self.id, "status": self.status, "final": self.final, "action": self.action,
            "params": self.params, "route": self.route, "decision": self.decision,
            "reason": self.reason, "detail": self.detail, "confidence": self.confidence,
            "latency_ms": round(self.latency_ms, 3), **self.extra,
        }

    def record(self, ts: float, meta: dict[str, str]) -> dict[str, Any]:
        """The record; a plan step's names its step, a scheduled action's its schedule."""
        return {
            "id": self.id, "ts": round(ts, 3), "input_kind": self.input_kind, "text": self.text,
            "route": self.route, "action": self.action, "params": self.params,
            "confidence": self.confidence, "decision": self.decision, "reason": self.reason,
            "detail": self.detail, "status": self.status,
            "latency_ms": round(self.latency_ms, 3), "cloud_escalated": self.cloud_escalated,
            **meta, **{k: v for k, v in self.extra.items() if k in RECORDED_EXTRAS},
        }


def to_json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)


def log_line(record: dict[str, Any]) -> str:
    """One line a technician can read: decision and reason first, then what was asked."""
    parts = [f"{record['decision']}", f"reason={record['reason'] or '-'}",
             f"id={record['id']}", f"kind={record['input_kind']}", f"route={record['route']}"]
    if record["action"]:
        parts.append(f"action={record['action']}")
    if record["params"]:
        parts.append(f"params={to_json(record['params'])}")
    if record["text"] is not None:
        parts.append(f"text={to_json(record['text'][:200])}")
    if record["confidence"] is not None:
        parts.append(f"confidence={record['confidence']:.2f}")
    parts.append(f"status={record['status']}")
    parts.append(f"latency_ms={record['latency_ms']:.1f}")
    if record["detail"]:
        parts.append(f"detail={to_json(record['detail'][:300])}")
    if record.get("usage"):  # what a cloud call cost
        parts.append(f"usage={to_json(record['usage'])}")
    return " ".join(parts)
