"""The interpreter's words, as data: one folder per language under agent/interpret/lang/, read
and validated when loaded. An unknown key, a wrong type or a pattern that does not compile is a
LanguageError naming the file and the key; the interpreter's modules hold only mechanisms.

English (`lang/en/`) is the interpreter's own language: its words are grouped into concepts,
and its cues say a sentence's form. Another language (`lang/de/`) maps its words and phrases
onto English ones (`translation.toml`), so every mechanism serves it unchanged; a word it
does not map stays itself, unexplained, and is asked back rather than guessed.
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

LANGUAGES = Path(__file__).resolve().parent / "lang"


class LanguageError(ValueError):
    """A language file that cannot be used, with the file and the key."""


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from exc
    return pattern


Pattern = Annotated[str, AfterValidator(_compiles)]  # one alternative of a cue
Words = list[str]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LexiconWords(Strict):
    filler: Words
    switch: Words
    turn: Words
    demonstratives: Words
    more_or_less: Words
    rooms: Words
    places: Words
    objects: Words
    generic_devices: Words
    assistant_names: Words
    states: Words
    comparatives: Words
    colours: Words
    discourse: Words
    measures: Words
    result_verbs: Words


class Lexicon(Strict):
    operations: dict[str, Words]
    things: dict[str, Words]
    value_synonyms: dict[str, Words]
    operation_names: dict[str, str]
    phrases: dict[str, str]
    leading_phrases: dict[str, str]
    same_operation: dict[str, str]
    properties: dict[str, str]
    words: LexiconWords


class NumberWords(Strict):
    small: dict[str, int]
    tens: dict[str, int]
    fractions: dict[str, float]
    scales: dict[str, int]
    counts: dict[str, int]
    counted_sounds: Words
    negative: Words


class Unit(Strict):
    dimension: str
    factor: float
    words: Words


class Numbers(Strict):
    numbers: NumberWords
    units: list[Unit]


class Negation(Strict):
    lead_ins: Words
    cues: list[Pattern]
    refraining: list[Pattern]
    scope_ends: list[Pattern]
    adverbs: list[Pattern]
    dont_move: Pattern
    affirming: list[Pattern]
    correction_verbs: Words


class Clauses(Strict):
    interjections: list[Pattern]
    breaks: Words
    request_breaks: list[Pattern]
    sentence_breaks: list[Pattern]
    not_that: list[Pattern]
    retractions: list[Pattern]
    run_on: list[Pattern]
    retractions_inside: list[Pattern]
    other_way: list[Pattern]


class Comparative(Strict):
    pattern: Pattern
    means: str


class Politeness(Strict):
    prefixes: list[Pattern]
    trailing: list[Pattern]
    addressees: Words
    greetings: Words
    time_for: Pattern


class Conditions(Strict):
    starts: list[Pattern]
    subjects: list[Pattern]
    leading_you: list[Pattern]
    anywhere: list[Pattern]
    before_a_subject: list[Pattern]
    leading: list[Pattern]
    not_after_if: list[Pattern]
    places: list[Pattern]


class Statements(Strict):
    how_to: list[Pattern]
    hypothetical: list[Pattern]
    reported: list[Pattern]
    past_time: list[Pattern]
    subjects: list[Pattern]
    subject_verbs: list[Pattern]
    not_possessive: Words
    determiners: Words
    not_gerunds: Words
    finite_verbs: Words


class Questions(Strict):
    tell_me: list[Pattern]
    starts: list[Pattern]


class Sequences(Strict):
    then: list[Pattern]
    before: Pattern
    first: list[Pattern]


class Cancels(Strict):
    verbs: list[Pattern]
    leading: list[Pattern]
    scheduled: list[Pattern]


class Forms(Strict):
    negation: Negation
    clauses: Clauses
    comparatives: list[Comparative]
    politeness: Politeness
    conditions: Conditions
    statements: Statements
    questions: Questions
    sequences: Sequences
    cancels: Cancels


class Stops(Strict):
    words: Words
    phrases: Words
    nouns: Words
    told_someone_else: list[Pattern]
    itself: Words
    not_motion: Words


class RequestWords(Strict):
    any_value: Words
    change_verbs: Words
    meant_value: Words
    to_a_value: Words
    about_itself: Words
    everything: Words


class Requests(Strict):
    levels: dict[str, float]
    opposites: dict[str, str]
    unit_concepts: dict[str, str]
    words: RequestWords


class EventWords(Strict):
    presence: Words
    absence: Words


class Events(Strict):
    situations: dict[str, Words]
    words: EventWords


class TimeWords(Strict):
    days: Words
    months: Words
    units: list[Pattern]
    parts_of_day: Words
    pm_hints: Words
    am_hints: Words
    approximately: Words
    setting_units: list[Pattern]
    setting_words: Words
    vague: list[Pattern]
    repetitions: Words


class English(Strict):
    """The interpreter's own language: every mechanism reads these words."""

    lexicon: Lexicon
    numbers: Numbers
    forms: Forms
    stops: Stops
    requests: Requests
    events: Events
    time: TimeWords


class Rewrite(Strict):
    pattern: Pattern
    english: str


class Translation(Strict):
    """Another language, read through English: its markers, phrases and words, and rewrites of
    word order on the English result."""

    markers: Words
    phrases: dict[str, str]
    words: dict[str, str]
    rewrites: list[Rewrite]


FILES: dict[str, type[Strict]] = {"lexicon": Lexicon, "numbers": Numbers, "forms": Forms,
                                  "stops": Stops, "requests": Requests, "events": Events,
                                  "time": TimeWords}


def _read(path: Path, model: type[Strict]) -> Any:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LanguageError(f"{path}: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                             for e in exc.errors())
        raise LanguageError(f"{path}: {problems}") from exc


def read_english(folder: Path) -> English:
    """English as one folder of data files says it: LanguageError when a file is missing,
    has a key the model does not know, lacks one, or holds a pattern that does not compile."""
    return English(**{name: _read(folder / f"{name}.toml", model)
                      for name, model in FILES.items()})


def read_translation(folder: Path) -> Translation:
    result: Translation = _read(folder / "translation.toml", Translation)
    return result


@functools.cache
def english() -> English:
    return read_english(LANGUAGES / "en")


@functools.cache
def translation(code: str) -> Translation:
    return read_translation(LANGUAGES / code)


def alternatives(patterns: list[str]) -> str:
    """One regular expression that matches any of the alternatives."""
    return "|".join(f"(?:{p})" for p in patterns)


def words(listed: list[str]) -> str:
    """Words as alternatives of a regular expression, each as it is written."""
    return "|".join(re.escape(w) for w in listed)
