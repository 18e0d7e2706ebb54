"""From an interpretation of a text request to a decision, by its form and the config's
thresholds.

Nothing runs here and the gate is not consulted: `execute`, `schedule` and `plan` are
proposals, which the caller passes through the gate (the full gate in the daemon, its static
checks in `robot-agent interpret`), and the gate alone refuses a high-risk one. Everything else
is final here: a negation, a condition or a statement is `none` with its reason; a state
question is answered from the picture of the robot; a question back, a refusal for low
confidence.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from agent.config import Config
from agent.core.decisions import Decision
from agent.core.protocol import DecisionKind, InputKind, Reason, Route, Status
from agent.devices import COLORS, colour_name, kind_of
from agent.interpret import Interpretation
from agent.requests.plans import plan_refusal
from agent.safety.gate import Gate, said_refused
from agent.state.answers import answer

NOTHING_NOW = {
    "negated": "the request says not to",
    "conditional": "it depends on a condition, which text does not set up",
    "not_a_request": "a statement, report or hypothetical, not a request",
}
RECURRING_OK = ("daily",)  # what a schedule from text may repeat


def decide(interp: Interpretation, config: Config, *, request_id: str,
           cloud: str = "disabled", state: Mapping[str, Any] | None = None) -> Decision:
    base = Decision.nothing(request_id, InputKind.ASK, route=Route.LOCAL, text=interp.text,
                            confidence=round(interp.confidence, 3),
                            latency_ms=interp.latency_ms, detail=interp.why)
    if interp.form in NOTHING_NOW:
        return _nothing_now(interp, base)
    if interp.form == "question":
        return _answer(interp, config, base, cloud, state)
    if interp.form == "cancel":
        if interp.question:
            return base.but(extra={"question": interp.question})
        return base.but(status=Status.DONE, decision=DecisionKind.CANCEL, reason=Reason.CANCELLED,
                        detail=f"cancel what is scheduled for "
                               f"{', '.join(interp.targets) or 'every action'}",
                        extra={"cancel": list(interp.targets)})
    if interp.pick and interp.at:  # the colour it will hold then is not known now
        return base.but(detail=f"{interp.why}; a change for later needs its value", extra={
            "question": f"Which {interp.pick} then: "
                        f"{', '.join(map(str, _choices(interp, config)))}?"})
    interp = with_values_picked(interp, config, state)
    if interp.form == "plan":
        return _plan(interp, config, base, cloud)
    return _single(interp, config, base, cloud)


def with_values_picked(interp: Interpretation, config: Config,
                       state: Mapping[str, Any] | None) -> Interpretation:
    """Values left to the robot ("a different colour"): each the one after the colour its light
    shows now, in the config's order, or the first when it is off or shows none of them (or no
    state is known, as in `robot-agent interpret`). A plan's steps follow each other: "turn the
    lights blue, then a different colour" is blue, then the colour after blue."""
    if not interp.leaves_a_value:
        return interp
    shown = _colours_shown(state)
    if interp.form != "plan":
        return _picked(interp, config, shown)
    steps = []
    for step in interp.steps:
        step = _picked(step, config, shown)
        if step.action is not None:
            action = config.actions[step.action]
            colours = [str(v) for v in step.params.values() if str(v) in COLORS]
            if colours or kind_of(config.devices[action.device].kind).is_safe_op(action.op):
                shown[action.device] = colours[0] if colours else ""
        steps.append(step)
    return dataclasses.replace(interp, steps=tuple(steps))


def _picked(interp: Interpretation, config: Config, shown: dict[str, str]) -> Interpretation:
    if not interp.pick or interp.action is None or interp.at:  # later: asked, never picked
        return interp
    choices = _choices(interp, config)
    now = shown.get(config.actions[interp.action].device, "")
    names = [str(c) for c in choices]
    value = choices[(names.index(now) + 1) % len(choices)] if now in names else choices[0]
    after = f"after {now}" if now in names else "none of them shown now"
    return dataclasses.replace(interp, params={**interp.params, interp.pick: value},
                               why=f"{interp.why}; {interp.pick} left to me: {value} ({after})")


def _choices(interp: Interpretation, config: Config) -> list[Any]:
    return list(config.actions[interp.action or ""].params[interp.pick].enum or [])


def _colours_shown(state: Mapping[str, Any] | None) -> dict[str, str]:
    """The colour each light shows now, by device: its name in COLORS, "" when off or none."""
    return {device: (colour_name(held.get("color")) or "") if held.get("on") else ""
            for device, held in ((state or {}).get("devices") or {}).items()
            if isinstance(held, Mapping)}


def _single(interp: Interpretation, config: Config, base: Decision, cloud: str) -> Decision:
    proposal = Decision.proposed(base.id, InputKind.ASK, route=Route.LOCAL, text=interp.text,
                                 action=interp.action, params=dict(interp.params),
                                 confidence=base.confidence, latency_ms=interp.latency_ms,
                                 detail=interp.why)
    model = config.model
    if interp.not_here:  # it names what this robot lacks: asked back, whatever the confidence
        return proposal.as_nothing(reason=Reason.NOT_HERE, extra={"question": interp.not_here})
    if interp.action is None or interp.confidence < model.escalate_threshold:
        return _not_sure(proposal, interp.why, cloud)
    if interp.question or interp.by_model or interp.confidence < model.execute_threshold:
        unknown = ", ".join(f"'{w}'" for w in interp.unexplained)
        question = interp.question or (f"I do not know {unknown}. " if unknown else "") + (
            f"Did you mean: {_describe(interp)}?")
        return proposal.as_nothing(extra={"question": question})
    if interp.recurring and interp.recurring not in RECURRING_OK:
        return proposal.as_nothing(extra={"question": (
            f"I can repeat a schedule daily only, not {interp.recurring}: say it daily, or "
            "once with its time")})
    if interp.at:
        return proposal.but(status=Status.SCHEDULED, decision=DecisionKind.SCHEDULE, extra={
            "at": interp.at.isoformat(timespec="seconds"), "recurring": interp.recurring})
    return proposal


def _plan(interp: Interpretation, config: Config, base: Decision, cloud: str) -> Decision:
    model = config.model
    for number, step in enumerate(interp.steps, 1):
        part = f"step {number} ('{step.text}')"
        if step.not_here:
            return base.but(reason=Reason.NOT_HERE, detail=f"{part}: {step.why}",
                            extra={"question": f"{part}: {step.not_here}"})
        if step.action is None or step.confidence < model.escalate_threshold:
            return _not_sure(base, f"{part}: {step.why or 'nothing matched'}", cloud)
        if step.question or step.by_model or step.confidence < model.execute_threshold:
            return base.but(detail=f"{part}: {step.why}", extra={
                "question": f"{part}: {step.question or 'did you mean ' + _describe(step)}?"})
    if interp.question:
        return base.but(extra={"question": interp.question})
    steps = [{"action": s.action, "params": dict(s.params)} for s in interp.steps]
    return base.but(status=Status.RUNNING, decision=DecisionKind.PLAN,
                    detail=f"a plan of {len(steps)} steps", extra={"plan": steps})


def _nothing_now(interp: Interpretation, base: Decision) -> Decision:
    about = f" ({', '.join(interp.targets)})" if interp.targets else ""
    detail = f"{NOTHING_NOW[interp.form]}{about}: nothing was done"
    if interp.form != "conditional":
        return base.but(reason=Reason(interp.form), detail=detail)
    doing = interp.targets[0] if interp.targets else "ACTION"
    said = ("I heard a condition; I do not act on conditions in text, so nothing was done. To "
            "make it automatic, add a reaction to the config: [reactions.NAME] with when = "
            f"{{ sensor = ..., below = ... }} and do = {{ action = \"{doing}\" }} "
            "(docs/CONTRACT.md, reactions).")
    return base.but(reason=Reason.CONDITIONAL, detail=detail, extra={"answer": said})


def _answer(interp: Interpretation, config: Config, base: Decision, cloud: str,
            state: Mapping[str, Any] | None) -> Decision:
    asked = interp.asked
    if not asked:
        return _not_sure(base, interp.why, cloud)
    facts: dict[str, Any] = {}
    if state is None:
        said = f"(about {asked.names()}: answered from the live state)"
    else:
        said, facts = answer(config, state, devices=asked.devices, sensors=asked.sensors,
                             estop=asked.estop, running=asked.running)
    return base.but(status=Status.ANSWERED, decision=DecisionKind.ANSWER, detail=said,
                    extra={"answer": said, "facts": facts})


def _not_sure(decision: Decision, why: str, cloud: str) -> Decision:
    reason = Reason.OFFLINE if cloud == "offline" else Reason.LOW_CONFIDENCE
    detail = ("not sure what to do: " + (why or "nothing matched") +
              ("" if cloud != "disabled" else "; the cloud planner is not enabled"))
    return decision.as_refused(reason, detail)


def decide_statically(interp: Interpretation, config: Config, gate: Gate, *,
                      cloud: str = "disabled") -> Decision:
    """decide(), then the gate's static checks (allowlist, bounds, risk) on a proposal: what
    `robot-agent interpret` and the evaluation report, without live state."""
    decision = decide(interp, config, request_id="", cloud=cloud)
    if decision.decision == DecisionKind.PLAN:
        refusal = plan_refusal(gate, decision.extra["plan"])
        return decision.as_refused(*refusal) if refusal else decision
    if decision.decision not in ("execute", "schedule"):
        return decision
    verdict = gate.check_static(decision.action, decision.params)
    decision = decision.but(params=verdict.params or decision.params)
    if verdict.allowed:
        return decision
    if decision.decision == DecisionKind.SCHEDULE:
        return decision.as_refused(verdict.reason, verdict.detail)
    return said_refused(decision, verdict)


def _describe(interp: Interpretation) -> str:
    params = ", ".join(f"{k} {v}" for k, v in interp.params.items())
    return f"{interp.action}" + (f" ({params})" if params else "")
