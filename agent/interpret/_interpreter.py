"""Natural language to what a sentence asks for: one action now, a later one, a sequence, an
answer, a cancellation, or nothing, with a confidence.

The work is split by what each part is measured to do well (docs/interpreter.md):
1. The sentence's form (agent.interpret._form): a negation, question, statement or condition
   asks for no action now, whatever words it shares with an action.
2. Stop-like words in a request are a stop, with certainty, before anything else.
3. A time phrase (agent.interpret._time) makes a request a later one.
4. The matcher finds the config's actions that share concepts with each request; the kind of
   evidence (both the operation and the thing named, an exact example, a tie...) gives the
   confidence, read from a table measured on labelled data (agent.interpret._calibrated).
5. Where the rules cannot act alone, the fine-tuned model's reading (agent.interpret._reader,
   bound by agent.interpret._binder) is one more kind of evidence, calibrated like the others
   and weighed by fixed rules (agent.interpret._model_evidence): it never decides a form, a
   stop or a time, never overrides what the robot lacks, and a disagreement is asked back.
   Without the adapter, the base model only scores tied actions to phrase a question back.

The text is only ever data: it is matched against the config's vocabulary, and the model
scores the config's action names after it. Nothing in it can add an action, change a bound or
skip the gate.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from agent.config import Config
from agent.core.protocol import SentenceForm
from agent.devices import kind_of
from agent.interpret._accounting import Accountant
from agent.interpret._binder import bind_call, bind_frame, listed
from agent.interpret._calibrated import CONFIDENCE
from agent.interpret._catalogue import ModelError
from agent.interpret._evidence import evidence
from agent.interpret._form import (
    CANCEL,
    CONDITIONAL,
    NEGATED,
    QUESTION,
    REQUEST,
    Form,
    read_form,
    split_and,
)
from agent.interpret._frame import ModelReading, parse_call, parse_frame
from agent.interpret._language import english
from agent.interpret._lexicon import OPERATION_CONCEPTS, concepts, refers_back, rephrase
from agent.interpret._matcher import Match, Matcher
from agent.interpret._model_evidence import wanted, weighed
from agent.interpret._questions import Asked, Subjects
from agent.interpret._slots import LEVEL_WORDS, extract, takes
from agent.interpret._speller import Speller
from agent.interpret._stops import StopReader
from agent.interpret._text import quantities, tokens
from agent.interpret._time import VagueTime, find_time
from agent.interpret._translate import config_in_english, in_english, translators

log = logging.getLogger(__name__)

EVERYTHING = frozenset(english().requests.words.everything)  # "cancel everything"


class Scorer(Protocol):
    """Scores candidate actions for a text; returns probabilities over them (sum 1)."""

    name: str

    def score(self, text: str, candidates: list[str]) -> dict[str, float]: ...


class ReadingModel(Protocol):
    """Reads a request with the reading adapter (agent.interpret._reader, or the worker)."""

    @property
    def task(self) -> str: ...  # "frame" or "call" (agent.interpret._frame)

    def read(self, text: str) -> ModelReading: ...


@dataclass(frozen=True)
class Interpretation:
    """What a sentence asks for; a value: a changed one is a new one (dataclasses.replace)."""

    text: str
    action: str | None
    params: dict[str, Any] = field(default_factory=dict)
    confidence: float = 0.0
    question: str = ""  # when the request cannot be acted on safely as it stands
    why: str = ""  # for the record: how the confidence came about
    alternatives: tuple[str, ...] = ()
    latency_ms: float = 0.0
    form: SentenceForm = REQUEST
    evidence: str = ""  # the kind of evidence: the key of the confidence table
    by_model: bool = False  # the model picked this action among equals: asked, never run
    at: datetime | None = None  # a request for later: when
    recurring: str | None = None  # daily, weekly... (agent.interpret._time)
    repeat: int = 1  # "honk three times" with no count parameter
    pick: str = ""  # a parameter left to the robot ("a different colour"): the caller picks
    steps: tuple[Interpretation, ...] = ()  # a plan's
    asked: Asked | None = None  # a question's subjects
    targets: tuple[str, ...] = ()  # the actions a negation, cancel or condition is about
    not_here: str = ""  # it names what this robot lacks: the question that says what it has
    unexplained: tuple[str, ...] = ()  # words the interpreter does not know at all

    @property
    def leaves_a_value(self) -> bool:
        """It, or a step of it, leaves a value to the caller to pick (from the live state)."""
        return any(step.pick for step in (self, *self.steps))


class Interpreter:
    def __init__(self, config: Config, scorer: Scorer | None = None) -> None:
        self.readers = translators(config.interpreter.languages)
        # What people call this robot: its id ("patrol-7"), or a word of it before a comma
        said_id = "[ -]?".join(map(re.escape, tokens(config.device.id)))
        name = "|".join(re.escape(w) for w in tokens(config.device.id)
                        if w.isalpha() and len(w) > 2)
        self.vocative = re.compile(
            rf"^\s*(?:(?:hey|hi|ok|okay|yo)\s+)?(?:{said_id}"
            + (rf"|(?:{name})(?=\s*[,:!])" if name else "") + r")\b[\s,:!]*", re.I)
        self.config = config = config_in_english(config, self.readers)
        self.matcher = Matcher(config)
        self.accountant = Accountant(config, self.matcher)
        self.speller = Speller(self.accountant.known_words(), self.accountant.content_words())
        self.subjects = Subjects(config)
        self.values = frozenset(str(v).lower() for a in config.actions.values()
                                for spec in a.params.values() for v in spec.enum or [])
        self.level_words = LEVEL_WORDS.keys() - self.values  # unless an action's value
        self.scorer = scorer
        self.reader: ReadingModel | None = None  # the reading adapter, when loaded
        self.stop_action = next(
            (name for name, a in config.actions.items()
             if kind_of(config.devices[a.device].kind).moves
             and kind_of(config.devices[a.device].kind).is_safe_op(a.op)), None)
        # What "stop" stops: the wheels, and a moving part with no stop of its own ("stop the
        # conveyor" stops the wheels rather than nothing); a moving part with its own stop or
        # off is named for that ("stop the fan" on a motor is the fan's off).
        drive = config.actions[self.stop_action].device if self.stop_action else None
        own_stop = {a.device for a in config.actions.values()
                    if kind_of(config.devices[a.device].kind).moves and a.device != drive
                    and kind_of(config.devices[a.device].kind).is_safe_op(a.op)}
        moving = {n for n, a in config.actions.items()
                  if kind_of(config.devices[a.device].kind).moves and a.device not in own_stop}
        # Things that name a device that is not the wheels: "stop the vacuum" is no stop; what
        # the wheels do, but stopping: "stop driving and the music" is about motion too.
        self.stops = StopReader(
            other_things={c for p in self.matcher.profiles if p.action not in moving
                          for c in p.concepts if c not in OPERATION_CONCEPTS} - {
                c for p in self.matcher.profiles if p.action in moving for c in p.concepts},
            motion={p.operation for p in self.matcher.profiles if p.action in moving} - {
                "stop"})

    def interpret(self, text: str, now: datetime | None = None) -> Interpretation:
        started = time.perf_counter()
        english, typos = self.speller.correct(in_english(text, self.readers))
        result = self._interpret(english, now or datetime.now().astimezone())
        if typos and result.evidence != "stop" and result.form in (REQUEST, SentenceForm.PLAN):
            # a corrected reading runs nothing before it is confirmed; a stop stops
            read = ", ".join(f"'{typo}' as '{word}'" for typo, word in typos)
            result = replace(result, question=result.question or (
                f"I read {read}. Did you mean: {_described(result)}?"))
        return replace(result, text=text, latency_ms=(time.perf_counter() - started) * 1000)

    def _interpret(self, text: str, now: datetime) -> Interpretation:
        text = self.vocative.sub("", text, count=1)  # "cart, back up 30 cm"
        stop = self.stops.read(text) if self.stop_action else None
        if stop is not None and stop.stops:  # before the form: every stop stops
            return self._stop(text, stop.why, now)
        form = read_form(text)
        if form.kind == REQUEST:
            return self._requests(text, form, now)
        if form.kind == QUESTION:
            asked = self.subjects.about(" ".join(form.parts))
            why = f"a question about {asked.names()}" if asked else \
                "a question about nothing this robot knows of"
            return Interpretation(text, None, form=QUESTION, asked=asked, why=why)
        if form.kind == NEGATED and any(self._has_time(p, now) for p in form.parts):
            form = Form(CANCEL, form.parts, "says not to do what may be scheduled")
        if form.kind == CANCEL:
            return self._cancel(text, form)
        targets = [self._match(p, "", use_model=False).action for p in form.parts if p]
        return Interpretation(text, None, form=form.kind, why=form.why,
                              targets=tuple(t for t in targets if t))

    # ---- requests ---------------------------------------------------------------------------

    def _requests(self, text: str, form: Form, now: datetime) -> Interpretation:
        steps: list[Interpretation] = []
        asked = "?" in text  # read as a request, said as a question: not the model's to read
        for part, joined in self._fragments_joined(list(form.parts)):
            steps += self._steps_of(part, form.context, now, use_model=not (joined or asked))
        if not form.sequence:  # "I'd love a coffee, could you start the machine?": once
            steps = _repairs_merged(steps)
        stops = [n for n, s in enumerate(steps) if s.evidence == "stop"]
        if stops and (len(steps) == 1 or not all(self._safe(s) for s in steps[stops[0]:])):
            # A stop wins over whatever would move after it ("stop. now ignore that and
            # drive"); before it ("go forward two metres and stop"), or followed by what only
            # makes things safer ("stop and turn off the headlight"), it is a step
            return Interpretation(text, self.stop_action, {}, CONFIDENCE["stop"],
                                  why="stop word", evidence="stop")
        if len(steps) > 1:
            return self._plan(text, steps)
        if not steps:  # "uh, hmm": discourse alone
            return Interpretation(text, None, why="nothing asked")
        single = replace(steps[0], text=text)
        return self._plan(text, [single] * single.repeat) if single.repeat > 1 else single

    def _safe(self, step: Interpretation) -> bool:
        action = self.config.actions.get(step.action or "")
        return action is not None and kind_of(self.config.devices[action.device].kind).is_safe_op(
                                                 action.op)

    def _steps_of(self, part: str, context: str, now: datetime, use_model: bool
                  ) -> list[Interpretation]:
        """One request, or two joined by a bare "and" ("turn the lights on and beep") when
        each is clear on its own and they are different actions ("turn left and right" is
        neither). The model reads one request: not a part that may hold two."""
        pieces = split_and(part)
        if len(pieces) > 1:
            steps = [self._request(p, context, now, use_model=False) for p in pieces]
            actions = [s.action for s in steps]
            if all(self._clear(s) for s in steps) and len(set(actions)) == len(actions):
                return steps
        return [self._request(part, context, now, use_model and len(pieces) == 1)]

    def _fragments_joined(self, parts: list[str]) -> list[tuple[str, bool]]:
        """"turn right a little, 15 degrees": a part naming nothing is more of the last one
        (True: joined so; it may be a request of its own the rules do not know)."""
        joined: list[tuple[str, bool]] = []
        for part in parts:
            if self.accountant.says_nothing(tokens(part)):
                continue  # "uh", "can you like": discourse, between the parts that ask
            if joined and not any(self.matcher.known(c)
                                  for c in self.matcher.query(tokens(part))):
                joined[-1] = (f"{joined[-1][0]} {part}", True)
            else:
                joined.append((part, False))
        return joined

    def _clear(self, step: Interpretation) -> bool:
        return (step.action is not None and not step.question and not step.by_model and
                step.confidence >= self.config.model.execute_threshold)

    def _plan(self, text: str, steps: list[Interpretation]) -> Interpretation:
        return Interpretation(
            text, None, form=SentenceForm.PLAN, steps=tuple(steps),
            confidence=min(s.confidence for s in steps),
            why="; ".join(f"step {n}: {s.why}" for n, s in enumerate(steps, 1)),
            question=("I can schedule one action at a time: ask for each with its time, or say "
                      "the steps without a time to run them now") if any(s.at for s in steps)
            else "")

    def _request(self, text: str, context: str, now: datetime, use_model: bool = True
                 ) -> Interpretation:
        try:
            when = find_time(text, now)
        except VagueTime as vague:
            return replace(self._match(vague.rest or text, context, use_model), question=(
                f"When should I do it? '{vague.span}' is not a time I can schedule: say one "
                "like 'at 7 pm' or 'in 10 minutes'"))
        interp = self._match(when.rest if when else text, context, use_model)
        if not when:
            return interp
        return replace(interp, at=when.at, recurring=when.recurring, why=(
            f"{interp.why}; later: '{when.span}' is {when.at.isoformat(timespec='minutes')}"))

    def _has_time(self, text: str, now: datetime) -> bool:
        try:
            return find_time(text, now) is not None
        except VagueTime:
            return True

    def _match(self, text: str, context: str, use_model: bool = True) -> Interpretation:
        """One request to one action. use_model=False where only a clear match matters (what a
        negation is about, a candidate step): the model would only cost time there."""
        said = tokens(text)
        if self.stop_action and self.stops.is_stop(text):  # "don't move" read as "stop"
            return Interpretation(text, self.stop_action, {}, CONFIDENCE["stop"], why="stop word",
                                  evidence="stop")
        words = self._with_referent(said, context)
        ranked = self._fitting(self.matcher.rank(words), words)
        if not ranked or ranked[0].score <= 0:
            if use_model and self.reader is not None:
                return self._weighed(Interpretation(text, None, why="no action shares a word"),
                                     text, said, frozenset())
            return self._unmatched(text) if use_model else Interpretation(text, None)
        best = ranked[0]
        found, why = evidence(self.matcher, best, ranked[1] if len(ranked) > 1 else None,
                              words)
        action = best.action
        tied = [m for m in ranked[1:] if m.standing == best.standing]
        if best.exact_example and not any(m.exact_example for m in tied):
            tied = []  # the words of its example, and of no other's: no tie
        by_model = False
        if tied and use_model and self.reader is None:  # with the adapter, its reading picks
            probs = self._model_scores(text, [action, *(m.action for m in tied)])
            if probs:  # the matcher cannot tell; the model picks which to ask about
                action = max(probs, key=lambda a: probs[a])
                by_model = True
                why += f"; the model would ask about {action} ({probs[action]:.2f})"
        slots = extract(self.config.actions[action], " ".join(words),
                        may_pick=self._may_pick(action))
        alternatives = tuple(m.action for m in ranked[:3] if m.score > 0 and m.action != action)
        accounting = self.accountant.account(said, action)
        if accounting.unknown and found not in ("example", "stop"):
            found += "_unexplained"  # its own confidence, measured (scripts/calibrate.py)
            why += f"; not understood: {', '.join(accounting.unknown)}"
        rules = Interpretation(text, action, slots.params, CONFIDENCE.get(found, 0.0),
                               slots.question or (accounting.which if found != "example" else ""),
                               why, alternatives,
                               evidence=found,
                               by_model=by_model, repeat=slots.repeat, pick=slots.pick,
                               not_here=accounting.lacks or slots.lacks,
                               unexplained=accounting.unknown)
        if not use_model or self.reader is None:
            return rules
        return self._weighed(rules, text, words, frozenset({best.action,
                                                            *(m.action for m in tied)}))

    def _fitting(self, ranked: list[Match], words: list[str]) -> list[Match]:
        """The actions that can take the amounts said ("ten feet", "to 20 percent"), when any
        can: a length is no servo's angle, a level no dimmer's step."""
        said = rephrase(words)
        amounts = {q.dimension for q in quantities(said)
                   if q.dimension in ("length", "angle", "time", "percent")}
        if not amounts and self.level_words & set(said):  # "to max": a level
            amounts = {"percent"}
        if not amounts:
            return ranked
        fitting = [m for m in ranked if amounts <= takes(self.config.actions[m.action])]
        return fitting if fitting and fitting[0].score > 0 else ranked

    def _may_pick(self, action: str) -> bool:
        """A value may be left to the robot only where any value is harmless and the one it
        holds is known: a low-risk action of a colour light (an mqtt device or a servo may be
        blinds or a door)."""
        config = self.config.actions[action]
        return (config.risk == "low"
                and kind_of(self.config.devices[config.device].kind).picks_a_value)

    def _with_referent(self, words: list[str], context: str) -> list[str]:
        """"then off", "make it blue": the thing the rest of the sentence names."""
        query = self.matcher.query(words)
        if not context or any(c not in OPERATION_CONCEPTS and self.matcher.known(c)
                              for c in query):
            return words
        ops = [c for c in query if c in OPERATION_CONCEPTS]
        if not refers_back(words) and not (ops and not any(
                self.matcher.operation_is_unique(o) for o in ops)):
            return words
        things = [w for w in tokens(context) for c in concepts([w])
                  if c not in OPERATION_CONCEPTS and self.matcher.known(c)]
        return words + things

    def _stop(self, text: str, why: str, now: datetime) -> Interpretation:
        if self._has_time(text, now):
            why += "; a stop is never scheduled: it stops now"
        if read_form(text).kind == CONDITIONAL:
            why += ("; it stops now: a condition is not set up from text (a reaction in the "
                    "config does that)")
        return Interpretation(text, self.stop_action, {}, CONFIDENCE["stop"], why=why,
                              evidence="stop")

    def is_stop_text(self, text: str) -> bool:
        """Stop-like words, read cheaply in raw text (it may be the JSON of a request): such a
        request jumps the queue; what it asks is read in full when its turn comes."""
        return self.stops.is_stop(in_english(text, self.readers))

    def _cancel(self, text: str, form: Form) -> Interpretation:
        words = tokens(" ".join(form.parts))
        query = self.matcher.query(words)
        asked_ops = {c for c in query if c in OPERATION_CONCEPTS}
        things = {c for c in query if c not in OPERATION_CONCEPTS and self.matcher.known(c)}
        targets = [p.action for p in self.matcher.profiles
                   if things & p.concepts and (not asked_ops or asked_ops & p.concepts)]
        if not targets and not things and EVERYTHING & set(words):
            return Interpretation(text, None, form=CANCEL, why="cancel every schedule")
        question = "" if targets else "Cancel which schedule? Name its device or action."
        return Interpretation(text, None, form=CANCEL, question=question, targets=tuple(targets),
                              why=f"cancel what is scheduled for {', '.join(targets) or '?'}")

    # ---- the model -------------------------------------------------------------------------

    def _weighed(self, rules: Interpretation, text: str, words: list[str],
                 candidates: frozenset[str]) -> Interpretation:
        """The reading adapter's reading weighed in, where the rules cannot act alone."""
        if self.reader is None or not wanted(rules, self.config.model.execute_threshold,
                                             tokens(text), self.values):
            return rules
        try:
            reading = self.reader.read(text)
            if self.reader.task == "call":
                bound = bind_call(self.config, parse_call(reading.answer, listed(self.config)))
            else:
                bound = bind_frame(self.config, parse_frame(reading.answer))
        except (ModelError, RuntimeError, ValueError) as exc:  # ValueError: a cut-off answer
            log.error("the reading adapter failed: %s; interpreting without it", exc)
            return rules
        may_pick = bound is not None and self._may_pick(bound.action)
        return weighed(rules, bound, reading.probability, config=self.config,
                       accountant=self.accountant, words=words, candidates=candidates,
                       may_pick=may_pick)

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
            return Interpretation(text, None, why="no action shares a word")
        best = max(probs, key=lambda a: probs[a])
        if best == "none":
            return Interpretation(text, None,
                                  why=f"no action shares a word; model: none {probs[best]:.2f}")
        why = f"no action shares a word; the model suggests {best} ({probs[best]:.2f})"
        return Interpretation(text, best, extract(self.config.actions[best], text).params,
                              CONFIDENCE.get("suggested", 0.0), why=why, evidence="suggested",
                              by_model=True)


def _described(interp: Interpretation) -> str:
    steps = interp.steps or (interp,)
    return " then ".join(
        f"{s.action}" + (f" ({', '.join(f'{k} {v}' for k, v in s.params.items())})"
                         if s.params else "") for s in steps if s.action) or "that"


def _repairs_merged(steps: list[Interpretation]) -> list[Interpretation]:
    """The same action said again, more or less fully ("go back, go back like a meter"): once,
    as said most fully."""
    merged: list[Interpretation] = []
    for step in steps:
        last = merged[-1] if merged else None
        if last is not None and last.action is not None and last.action == step.action and (
                last.params.items() <= step.params.items()
                or step.params.items() <= last.params.items()):
            if len(step.params) > len(last.params):
                merged[-1] = step
            continue
        merged.append(step)
    return merged
