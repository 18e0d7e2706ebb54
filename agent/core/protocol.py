"""The protocol's values (docs/CONTRACT.md, "Protocol values"): each a string enum, so it is
rendered as the contract's string wherever it goes (JSON, the journal, f-strings), and a typo
in the code is a name error instead of a wrong message. tests/test_protocol.py holds these
against the contract both ways.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A result's `status`."""

    DONE = "done"  # carried out (a timed action: ran to its end)
    RUNNING = "running"  # started; a final result follows
    REFUSED = "refused"
    FAILED = "failed"  # started, then stopped before its end
    ESCALATED = "escalated"  # handed to the cloud planner; its results follow
    CONFIRM_REQUIRED = "confirm_required"
    NONE = "none"  # nothing to do now, or a question back
    DUPLICATE = "duplicate"
    ANSWERED = "answered"
    SCHEDULED = "scheduled"
    PROPOSED = "proposed"  # internal: before the gate; never published

    @property
    def final(self) -> bool:
        """Whether a result with this status is its request's last: nothing more follows
        under its id. Running, escalated and scheduled say more is to come (docs/CONTRACT.md,
        "Results"; a plan's step and a daily schedule's firing are never final either, whatever
        their status: agent.core.decisions)."""
        return self not in NOT_FINAL


NOT_FINAL = frozenset({Status.RUNNING, Status.ESCALATED, Status.SCHEDULED, Status.PROPOSED})


class DecisionKind(StrEnum):
    """A decision record's `decision`: what was decided."""

    EXECUTE = "execute"
    REFUSE = "refuse"
    ESCALATE = "escalate"
    CONFIRM = "confirm"
    NONE = "none"
    ABORT = "abort"
    ANSWER = "answer"
    SCHEDULE = "schedule"
    PLAN = "plan"
    CANCEL = "cancel"


class Reason(StrEnum):
    """A stable reason code (CONTRACT section 2, the additions of sections 5 and 6, and this
    project's extensions)."""

    ESTOP_ENGAGED = "estop_engaged"
    UNKNOWN_ACTION = "unknown_action"
    INVALID_PARAMS = "invalid_params"
    OUT_OF_BOUNDS = "out_of_bounds"
    RATE_LIMITED = "rate_limited"
    INTERLOCK = "interlock"
    STALE_SENSOR = "stale_sensor"
    RISK_HIGH = "risk_high"
    SIGNATURE_REQUIRED = "signature_required"
    BAD_SIGNATURE = "bad_signature"
    REPLAYED = "replayed"
    LOW_CONFIDENCE = "low_confidence"
    OFFLINE = "offline"
    BUSY = "busy"
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    DUPLICATE = "duplicate"
    INTERNAL_ERROR = "internal_error"
    SUPERSEDED = "superseded"
    DEADMAN = "deadman"
    SHUTDOWN = "shutdown"
    CLOUD_ERROR = "cloud_error"
    PLAN_TIMEOUT = "plan_timeout"
    CANCELLED = "cancelled"
    MISSED = "missed"
    UNKNOWN_SCHEDULE = "unknown_schedule"
    NOT_SAVED = "not_saved"
    NEGATED = "negated"
    CONDITIONAL = "conditional"
    NOT_A_REQUEST = "not_a_request"
    BAD_REPLY_TO = "bad_reply_to"
    SIGNING_UNAVAILABLE = "signing_unavailable"
    NOT_HERE = "not_here"  # a device, place, value or unit this robot does not have
    BUDGET_EXCEEDED = "budget_exceeded"  # a cloud call would pass [cloud] budget_per_day
    LINK_LOST = "link_lost"  # the e-stop's link is down: motion stopped and refused


class InputKind(StrEnum):
    """A record's `input_kind`: what the decision was about."""

    CMD = "cmd"
    ASK = "ask"
    PLAN = "plan"
    ESTOP = "estop"
    RESET = "reset"
    SENSOR = "sensor"
    REACTION = "reaction"
    SUPERVISION = "supervision"  # the end of an aborted action
    FAULT = "fault"
    SCHEDULE = "schedule"
    LINK = "link"  # the e-stop's link lost (a protective stop) and back


class Route(StrEnum):
    """A result's `route`: which path decided it."""

    DIRECT = "direct"  # a structured command, a reading
    LOCAL = "local"  # the local interpreter
    CLOUD = "cloud"
    SCHEDULE = "schedule"  # a scheduled action firing


class SentenceForm(StrEnum):
    """A sentence's form (CONTRACT section 5): a request, or why nothing is done now."""

    REQUEST = "request"
    PLAN = "plan"
    NEGATED = "negated"
    QUESTION = "question"
    NOT_A_REQUEST = "not_a_request"
    CONDITIONAL = "conditional"
    CANCEL = "cancel"
