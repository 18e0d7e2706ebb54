"""The fine-tuned model's reading as one more kind of evidence, never alone.

The rules read a request first (agent.interpret._interpreter): its form (a negation, question,
condition or statement), a stop and a time are theirs, read before the model is asked, and the
model is asked only about a request the rules cannot act on alone (no action shares a word, a
tie, or evidence under the execute threshold), and never about one holding a word of the form
grammar or a question mark, one of two requests in a part, or words the rules read as naming
something the action is not (`other_*` evidence). Its reading, bound to the config by
agent.interpret._binder, then counts under these rules, all deterministic:

- no action bound, a value the binder cannot take, or a high-risk action: nothing changes;
- the rules read another action, or another value of the same one: they disagree, and the
  request is asked back naming both;
- a word the interpreter knows to name what this robot lacks (a room, an object, a colour, a
  number it takes none of) keeps the rules' question, whatever the model read, and so does the
  rules' question about a value ("how far?");
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

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from agent.config import Config
from agent.interpret._accounting import Accountant
from agent.interpret._binder import Bound
from agent.interpret._calibrated_model import MODEL_CONFIDENCE
from agent.interpret._language import english
from agent.interpret._slots import extract

if TYPE_CHECKING:  # the interpreter's value, which this module's caller builds
    from agent.interpret._interpreter import Interpretation

SURE = 0.90  # a reading's probability from which it is calibrated apart (measured bands)
# Evidence the model is never asked about: a stop, an exact example (and any `other_*` kind:
# words the rules know to name something the action is not, "make the headlight red")
RULES_ONLY = frozenset({"stop", "example"})
_FORMS = english().forms
# Words of the form grammar (lang/en/forms.toml): a request holding one may be a negation, a
# condition, a report or a statement the form reader let through ("absolutely do NOT open the
# door"); the model reads any form as a request, so it is not asked about such a sentence
FORM_WORDS = frozenset(
    entry for entry in (*_FORMS.negation.cues, *_FORMS.negation.refraining,
                        *_FORMS.statements.finite_verbs, *_FORMS.statements.past_time,
                        *_FORMS.conditions.starts, *_FORMS.conditions.anywhere,
                        *_FORMS.conditions.leading)
    if re.fullmatch(r"[a-z']+", entry)  # a word, not a pattern
) | {w for entry in _FORMS.statements.reported for w in re.findall(r"[a-z]{3,}", entry)
     } | {"without", "instead"}


def wanted(rules: Interpretation, execute_threshold: float, words: list[str],
           values: frozenset[str]) -> bool:
    """Whether the model is asked: the rules cannot act on the request alone, and nothing in
    it is the form grammar's (a word of FORM_WORDS that is no value of the config's actions:
    "left" is a direction, "did" a statement's verb). A question mark, or two requests in one
    part, keep the model out before this (agent.interpret._interpreter)."""
    return (rules.evidence not in RULES_ONLY and not rules.evidence.startswith("other_")
            and not rules.not_here
            and not any((w in FORM_WORDS and w not in values) or w.endswith("n't")
                        for w in words)
            and (rules.action is None or rules.confidence < execute_threshold))


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
    if rules.action == bound.action:
        kind = "model_agrees"
    elif rules.action is not None:
        kind = "model_picks"
    else:
        kind = f"model_{bound.how}"
    kind += "_sure" if probability >= SURE else "_unsure"
    return replace(
        rules, action=bound.action, params={**bound.params, **slots.params},  # agreeing
        # agreeing, the rules' own measured confidence stands: the model's evidence adds
        confidence=max(MODEL_CONFIDENCE.get(kind, 0.0),
                       rules.confidence if rules.action == bound.action else 0.0),
        question=slots.question or accounting.which,  # the rules' question stands
        why=f"{rules.why}; {read}: {kind}", evidence=kind,
        repeat=slots.repeat, pick=slots.pick, unexplained=accounting.unknown)


def _noted(rules: Interpretation, why: str) -> Interpretation:
    return replace(rules, why=f"{rules.why}; {why}")


def _disagree(rules: Interpretation, why: str, read: str) -> Interpretation:
    """The rules and the model read different things: asked back, naming both."""
    asked = " or ".join(dict.fromkeys(a.replace("_", " ") for a in (rules.action, read) if a))
    return replace(rules, why=f"{why}; they disagree: asked back",
                   question=rules.question or f"Did you mean {asked}?")
