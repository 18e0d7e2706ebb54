"""From an interpretation to a decision, by the config's thresholds and the safety gate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.config import Config
from agent.gate import Verdict
from agent.interpret.interpreter import Interpretation
from agent.records import Outcome

GateCheck = Callable[[Any, Any], Verdict]


def decide(interp: Interpretation, config: Config, check: GateCheck, request_id: str,
           cloud: str = "disabled") -> Outcome:
    """The outcome of a text request. check is the gate: the full one in the daemon, the
    static one in `robot-agent interpret`. Nothing executes here; an outcome with decision
    execute is what the caller then runs."""
    out = Outcome(request_id, "ask", "none", "none", route="local", text=interp.text,
                  action=interp.action, params=dict(interp.params),
                  confidence=round(interp.confidence, 3), latency_ms=interp.latency_ms)
    model = config.model
    if interp.action is None or interp.confidence < model.escalate_threshold:
        out.status, out.decision = "refused", "refuse"
        out.reason = "offline" if cloud == "offline" else "low_confidence"
        out.detail = ("not sure what to do: " + (interp.why or "nothing matched") +
                      ("" if cloud != "disabled" else "; the cloud planner is not enabled"))
        return out
    action = config.actions[interp.action]
    if interp.question or interp.confidence < model.execute_threshold:
        out.detail = interp.why
        out.extra["question"] = interp.question or f"Did you mean: {_describe(interp)}?"
        return out
    if action.risk == "high":
        out.status, out.decision, out.reason = "confirm_required", "confirm", "risk_high"
        out.detail = (f"{interp.action} is high-risk and never runs from text: send it as a "
                      "signed command on cmd (docs/CONTRACT.md, signed messages)")
        out.extra["command"] = {"action": interp.action, "params": interp.params}
        return out
    verdict = check(interp.action, interp.params)
    out.params = verdict.params or out.params
    if not verdict.allowed:
        out.status, out.decision, out.reason, out.detail = ("refused", "refuse",
                                                           verdict.reason, verdict.detail)
        return out
    out.status, out.decision, out.detail = "done", "execute", interp.why
    return out


def _describe(interp: Interpretation) -> str:
    params = ", ".join(f"{k} {v}" for k, v in interp.params.items())
    return f"{interp.action}" + (f" ({params})" if params else "")
