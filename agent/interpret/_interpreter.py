"""Natural language to one action and its parameters, or to no action, with a confidence.

The work is split by what each part is measured to do well (docs/interpreter.md):
1. Stop-like words are a stop, with certainty, before anything else.
2. The matcher finds the config's actions that share concepts with the request; how much of
   the request they explain, whether both the operation and the thing it acts on matched,
   and by what margin the best beats the next give the confidence. It is deterministic.
3. The small model scores the candidate actions by token log-probability when the matcher
   cannot tell, to phrase a question back; on its own it never makes an action execute.

The text is only ever data: it is matched against the config's vocabulary, and the model
scores the config's action names after it. Nothing in it can add an action, change a bound or
skip the gate.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.config import Config
from agent.interpret._catalogue import ModelError
from agent.interpret._lexicon import OPERATION_CONCEPTS, SAME_OPERATION, concepts
from agent.interpret._matcher import Match, Matcher
from agent.interpret._slots import extract
from agent.interpret._text import tokens
from agent.kinds import KINDS, is_safe_op

log = logging.getLogger(__name__)

STOP_WORDS = frozenset({"stop", "halt", "freeze", "whoa", "woah", "abort", "estop"})
STOP_PHRASES = ("stand still", "hold it", "don't move", "dont move", "emergency")
MIN_COVERAGE = 0.3  # below this share of the request explained, ask rather than act


class Scorer(Protocol):
    """Scores candidate actions for a text; returns probabilities over them (sum 1)."""

    name: str

    def score(self, text: str, candidates: list[str]) -> dict[str, float]: ...


@dataclass
class Interpretation:
    text: str
    action: str | None
    params: dict[str, Any] = field(default_factory=dict)
    confidence: float = 0.0
    question: str = ""  # when the parameters cannot be filled in safely
    why: str = ""  # for the record: how the confidence came about
    alternatives: list[str] = field(default_factory=list)
    latency_ms: float = 0.0


class Interpreter:
    def __init__(self, config: Config, scorer: Scorer | None = None) -> None:
        self.config = config
        self.matcher = Matcher(config)
        self.scorer = scorer
        self.stop_action = next(
            (name for name, a in config.actions.items()
             if KINDS[config.devices[a.device].kind].moves
             and is_safe_op(config.devices[a.device].kind, a.op)), None)

    def interpret(self, text: str) -> Interpretation:
        started = time.perf_counter()
        result = self._interpret(text)
        result.latency_ms = (time.perf_counter() - started) * 1000
        return result

    def _interpret(self, text: str) -> Interpretation:
        words = tokens(text)
        if self.stop_action and self._is_stop(words):
            return Interpretation(text, self.stop_action, {}, 1.0, why="stop word")
        ranked = self.matcher.rank(text)
        if not ranked or ranked[0].score <= 0:
            return self._unmatched(text)
        best = ranked[0]
        confidence, why = self._confidence(best, ranked[1] if len(ranked) > 1 else None, words)
        action = best.action
        tied = [m.action for m in ranked[1:] if m.score == best.score]
        probs = self._model_scores(text, [action, *tied]) if tied else None
        if probs:
            # The matcher cannot tell; the model picks which one to ask about, never to run.
            action = max(probs, key=lambda a: probs[a])
            why += f"; the model would ask about {action} ({probs[action]:.2f})"
        slots = extract(self.config.actions[action], text)
        alternatives = [m.action for m in ranked[:3] if m.score > 0 and m.action != action]
        return Interpretation(text, action, slots.params, confidence, slots.question, why,
                              alternatives)

    def _is_stop(self, words: list[str]) -> bool:
        text = " ".join(words)
        return bool(STOP_WORDS & set(words)) or any(p in text for p in STOP_PHRASES)

    def is_stop_text(self, text: str) -> bool:
        return self._is_stop(tokens(text))

    def _confidence(self, best: Match, second: Match | None, words: list[str]
                    ) -> tuple[float, str]:
        query = concepts(words)
        profile = self.matcher.profile(best.action)
        explained = sum(1 for c in query if c in profile.concepts)
        coverage = explained / max(1, len(query))
        margin = best.score - (second.score if second else 0.0)
        asked = {c for c in query if c in OPERATION_CONCEPTS}
        if best.exact_example:
            return 0.99, "an example of the action, word for word"
        others = {c for c in asked if c != profile.operation and
                  SAME_OPERATION.get(c) != profile.operation and c not in profile.concepts}
        if others:
            return 0.75, f"asks for {', '.join(sorted(others))} too, which {best.action} is not"
        elsewhere = self.matcher.things_of_other_actions(best.action, query)
        if elsewhere:  # "turn left; also water the plants": one thing at a time, asked back
            return 0.75, f"also names {', '.join(sorted(elsewhere))}, which {best.action} is not"
        if margin <= 0:
            tied = f"{best.action} or {second.action}" if second else best.action
            return 0.75, f"as likely {tied}"
        understood = f"{explained} of {len(query)} words understood"
        if best.operation_matched and best.thing_matched:
            if coverage < MIN_COVERAGE:  # named both, amid much else: still clear enough
                return 0.91, f"operation and device both named; only {understood}"
            return 0.97, "operation and device both named"
        if coverage < MIN_COVERAGE:
            return 0.6, f"only {understood}"
        unique_op = self.matcher.operation_is_unique(profile.operation)
        if best.thing_matched and not asked and coverage >= 0.5:
            return 0.92, "device named, no other operation asked"
        if best.operation_matched and unique_op and not best.thing_matched and coverage >= 0.5:
            return 0.93, "an operation only this action has"
        if best.operation_matched:
            return 0.72, "operation named, but not what to do it to"
        return 0.6, "partly matched"

    def _model_scores(self, text: str, candidates: list[str]) -> dict[str, float] | None:
        """The model's probabilities, or None without a model or when it fails: the matcher
        then goes on alone."""
        if self.scorer is None:
            return None
        try:
            return self.scorer.score(text, candidates)
        except ModelError as exc:
            log.error("the local model failed: %s; interpreting without it", exc)
            return None

    def _unmatched(self, text: str) -> Interpretation:
        probs = self._model_scores(text, [*self.config.actions, "none"])
        if probs is None:
            return Interpretation(text, None, confidence=0.0, why="no action shares a word")
        best = max(probs, key=lambda a: probs[a])
        if best == "none":
            return Interpretation(text, None, confidence=0.0,
                                  why=f"no action shares a word; model: none {probs[best]:.2f}")
        # The model alone is never enough to act: at most it suggests a question.
        confidence = min(probs[best], 0.8) * 0.9
        why = f"no action shares a word; the model suggests {best} ({probs[best]:.2f})"
        if confidence < self.config.model.escalate_threshold:
            return Interpretation(text, None, confidence=confidence, why=why)
        return Interpretation(text, best, extract(self.config.actions[best], text).params,
                              confidence, why=why)
