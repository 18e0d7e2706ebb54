"""The fine-tuned model's reading as one more kind of evidence, never alone.

The rules read a request first (agent.interpret._interpreter): its form (a negation, question,
condition or statement), a stop and a time are theirs, read before the model is asked, and the
model is asked only about a request the rules cannot act on alone (no action shares a word, a
tie, or evidence under the execute threshold). Its reading, bound to the config by
agent.interpret._binder, then counts under these rules, all deterministic:

- no action bound, a value the binder cannot take, or a high-risk action: nothing changes;
- the rules read another action, or another value of the same one: they disagree, and the
  request is asked back naming both;
- a word the interpreter knows to name what this robot lacks (a room, an object, a colour, a
  number it takes none of) keeps the rules' question, whatever the model read;
- otherwise the reading is a kind of evidence of its own, by how it came about (`model_agrees`:
  the rules' own low-confidence reading; `model_picks`: one of the rules' tied actions;
  `model_frame`, `model_by_value`: where the rules found nothing) and by band of probability
  (`_sure` from SURE up), and its confidence is the precision measured for that kind by
  scripts/calibrate.py on development sets the adapter was not trained on. A word unknown to
  the interpreter counts as accounted for: the reading tied it to a configured action.

Whatever comes of it is decided (execute at the threshold, else ask) and gated like any other
interpretation.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from agent.config import Config
from agent.interpret._accounting import Accountant
from agent.interpret._binder import Bound
from agent.interpret._calibrated_model import MODEL_CONFIDENCE
from agent.interpret._slots import extract

if TYPE_CHECKING:  # the interpreter's value, which this module's caller builds
    from agent.interpret._interpreter import Interpretation

SURE = 0.90  # a reading's probability from which it is calibrated apart (measured bands)
RULES_ONLY = frozenset({"stop", "example"})  # evidence the model is never asked about


def wanted(rules: Interpretation, execute_threshold: float) -> bool:
    """Whether the model is asked: the rules cannot act on the request alone."""
    return (rules.evidence not in RULES_ONLY and not rules.not_here and
            (rules.action is None or rules.by_model or rules.confidence < execute_threshold))


def weighed(rules: Interpretation, bound: Bound | None, probability: float, *,
            config: Config, accountant: Accountant, words: list[str],
            candidates: frozenset[str], may_pick: bool) -> Interpretation:
    """The rules' interpretation with the model's reading weighed in (see the module)."""
    if bound is None or bound.question:
        return _noted(rules, "the model's reading binds to no action")
    action = config.actions[bound.action]
    read = f"the model reads {bound.action} ({probability:.2f})"
    if action.risk == "high":
        return _noted(rules, f"{read}: high risk is never the model's")
    if rules.action is not None and bound.action not in candidates:
        return _disagree(rules, f"{read}: the rules read {rules.action}", bound.action)
    accounting = accountant.account(words, bound.action)
    slots = extract(action, " ".join(words), may_pick=may_pick)
    if accounting.lacks or slots.lacks:
        return _noted(rules, f"{read}, but the words name what this robot lacks")
    if any(slots.params.get(k, v) != v for k, v in bound.params.items()):
        return _disagree(rules, f"{read} with {bound.params}: the rules read {slots.params}",
                         bound.action)
    if rules.action == bound.action and not rules.by_model:
        kind = "model_agrees"
    elif rules.action is not None:
        kind = "model_picks"
    else:
        kind = f"model_{bound.how}"
    kind += "_sure" if probability >= SURE else "_unsure"
    filled = bool(slots.question and bound.params)  # the value the rules could not read
    return replace(
        rules, action=bound.action, params={**bound.params, **slots.params},  # agreeing
        # agreeing, the rules' own measured confidence stands: the model's evidence adds
        confidence=max(MODEL_CONFIDENCE.get(kind, 0.0),
                       rules.confidence if rules.action == bound.action else 0.0),
        question=("" if filled else slots.question) or accounting.which,
        why=f"{rules.why}; {read}: {kind}", evidence=kind, by_model=False,
        repeat=slots.repeat, pick=slots.pick, unexplained=accounting.unknown)


def _noted(rules: Interpretation, why: str) -> Interpretation:
    return replace(rules, why=f"{rules.why}; {why}")


def _disagree(rules: Interpretation, why: str, read: str) -> Interpretation:
    """The rules and the model read different things: asked back, naming both."""
    asked = " or ".join(dict.fromkeys(a.replace("_", " ") for a in (rules.action, read) if a))
    return replace(rules, why=f"{why}; they disagree: asked back",
                   question=rules.question or f"Did you mean {asked}?")
