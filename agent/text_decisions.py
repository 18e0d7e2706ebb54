"""From an interpretation of a text request to a decision, by the config's thresholds.

Nothing runs here and the gate is not consulted: a decision `execute` is a proposal, which the
caller passes through the gate once (the full gate in the daemon, its static checks in
`robot-agent interpret`). Everything else (a question back, a refusal for low confidence, a
high-risk action that needs a signed command) is final here.
"""

from __future__ import annotations

from agent.config import Config
from agent.decisions import Decision
from agent.gate import Gate
from agent.interpret import Interpretation


def decide(interp: Interpretation, config: Config, *, request_id: str,
           cloud: str = "disabled") -> Decision:
    proposal = Decision.proposed(
        request_id, "ask", route="local", text=interp.text, action=interp.action,
        params=dict(interp.params), confidence=round(interp.confidence, 3),
        latency_ms=interp.latency_ms, detail=interp.why)
    model = config.model
    if interp.action is None or interp.confidence < model.escalate_threshold:
        reason = "offline" if cloud == "offline" else "low_confidence"
        detail = ("not sure what to do: " + (interp.why or "nothing matched") +
                  ("" if cloud != "disabled" else "; the cloud planner is not enabled"))
        return proposal.as_refused(reason, detail)
    if interp.question or interp.confidence < model.execute_threshold:
        question = interp.question or f"Did you mean: {_describe(interp)}?"
        return proposal.as_nothing(extra={"question": question})
    if config.actions[interp.action].risk == "high":
        return proposal.but(
            status="confirm_required", decision="confirm", reason="risk_high",
            detail=(f"{interp.action} is high-risk and never runs from text: send it as a "
                    "signed command on cmd (docs/CONTRACT.md, signed messages)"),
            extra={"command": {"action": interp.action, "params": interp.params}})
    return proposal


def decide_statically(interp: Interpretation, config: Config, gate: Gate, *,
                      cloud: str = "disabled") -> Decision:
    """decide(), then the gate's static checks (allowlist, bounds, risk) on a proposal: what
    `robot-agent interpret` and the evaluation report, without live state."""
    decision = decide(interp, config, request_id="", cloud=cloud)
    if decision.decision != "execute":
        return decision
    verdict = gate.check_static(decision.action, decision.params)
    decision = decision.but(params=verdict.params or decision.params)
    if verdict.allowed:
        return decision
    return decision.as_refused(verdict.reason, verdict.detail)


def _describe(interp: Interpretation) -> str:
    params = ", ".join(f"{k} {v}" for k, v in interp.params.items())
    return f"{interp.action}" + (f" ({params})" if params else "")
