"""The form of a sentence, read before any action is chosen: is it a request at all, and which
part of it asks for something now?

"Don't turn left" must never turn left; "are the lights on?" asks, it does not switch; "if it
gets dark, ..." and "the vacuum started by itself" ask for nothing; "no, turn the lights off"
and "not red, make it blue" ask for their second half. These are rules over general English
words, the same for every config: the bundled model is at chance at telling these forms apart
(docs/interpreter.md).

A sentence is cut into clauses at punctuation and at words that start a new one ("but",
"instead", a polite "can you" mid-sentence). Each clause is read on its own: an interjection
("no", "oops"), a negated request, a statement or report, a question, a condition, or a
request. The sentence is then a request when any clause is one (the others were context or a
correction); else a question, a negation, a statement, in that order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.core.protocol import SentenceForm
from agent.interpret._language import alternatives, english, words
from agent.interpret._lexicon import ASSISTANT_NAMES

# Requests are these; the rest are kinds of "nothing to do now".
REQUEST, NEGATED, QUESTION, STATEMENT, CONDITIONAL, CANCEL = (
    SentenceForm.REQUEST, SentenceForm.NEGATED, SentenceForm.QUESTION,
    SentenceForm.NOT_A_REQUEST, SentenceForm.CONDITIONAL, SentenceForm.CANCEL)


@dataclass(frozen=True)
class Form:
    kind: SentenceForm
    parts: tuple[str, ...] = ()  # request: the text asking for something; negated/cancel: what
    why: str = ""
    sequence: bool = False  # the parts were joined by "then", "and then", "before"..., not
    # merely said side by side ("I'd love a coffee, could you start the machine?")
    context: str = ""  # words of the other clauses: what "it" may refer to


# -- the cues, as data (agent/interpret/lang/en/forms.toml) ---------------------------------
_F = english().forms
_any, _words_ = alternatives, words
NEGATION = re.compile(rf"^(?:(?:(?:{_words_(_F.negation.lead_ins)}) )*"
                      rf"(?:{_any([*_F.negation.cues, *_F.negation.refraining])}))\b")
NEGATIVE_ADVERB = re.compile(rf"\b(?:{_any(_F.negation.adverbs)})\b")
SCOPE_END = re.compile(rf"\s+and\s+(?:{_any(_F.negation.scope_ends)})\s+")
DONT_MOVE = re.compile(rf"^(?:{_F.negation.dont_move})$")
NO_DETERMINER = re.compile(r"^no (?!need\b|more\b)(?P<rest>\w.*)$")  # "no lamp please"
CORRECTION = re.compile(rf"(?:{_words_(_F.negation.correction_verbs)})\b")  # "no, turn it off"
AFFIRMING = re.compile(rf"^(?:please )?(?:{_any(_F.negation.affirming)})\b")
INTERJECTION = re.compile(rf"^(?:{_any(_F.clauses.interjections)})$")
COMPARATIVES = [(re.compile(c.pattern), c.means) for c in _F.comparatives]  # "not so bright"
POLITE = re.compile(rf"^(?:{_any(_F.politeness.prefixes)})\s*")
# What people call the one they talk to: the robot, or a voice assistant's name
ADDRESSEE = _words_([*_F.politeness.addressees, *ASSISTANT_NAMES])
TRAILING = re.compile(rf"(?:,?\s*(?:{_any(_F.politeness.trailing)}|{ADDRESSEE}))+$")
VOCATIVE = re.compile(rf"^(?:(?:{_words_(_F.politeness.greetings)})\s+)?(?:{ADDRESSEE})\b,?\s*"
                      r"(?=[a-z])")
# "it's coffee time", "time to clean up": what it is time for is the request
TIME_FOR = re.compile(rf"^(?:{_F.politeness.time_for})$")
# Who a condition is about: "when I leave", "if the door opens", "once it's dark"
WHOEVER = rf"(?:{_any(_F.conditions.subjects)})\b"
CONDITION = re.compile(
    r"\bif\b" + "".join(f"(?! {p})" for p in _F.conditions.not_after_if)
    + rf"|\b(?:{_any(_F.conditions.anywhere)})\b"
    + rf"|(?:^|,\s*|\b)(?:{_any(_F.conditions.before_a_subject)})\s+{WHOEVER}"
    + "".join(f"|{p}" for p in _F.conditions.places))
LEADING_CONDITION = re.compile(rf"^(?:{_any(_F.conditions.leading)})\s+{WHOEVER}")
CONDITION_START = re.compile(rf"^(?:{_any(_F.conditions.starts)})\b"
                             rf"|^(?:{_any(_F.conditions.leading_you)})\s+you\b")
HOW_TO = re.compile(rf"^(?:{_any(_F.statements.how_to)})\b")
HYPOTHETICAL = re.compile(_any(_F.statements.hypothetical))
REPORTED = re.compile(_any(_F.statements.reported))
TELL_ME = re.compile(rf"^(?:{_any(_F.questions.tell_me)})\b")  # "can you tell me if..."
QUESTION_START = re.compile(rf"^(?:{_any([*_F.questions.starts, *_F.questions.tell_me])})\b")
PAST_TIME = re.compile(rf"\b(?:{_any(_F.statements.past_time)})\b")
SUBJECT = re.compile(rf"^(?:{_any(_F.statements.subjects)})\b")
SUBJECT_VERB = re.compile(rf"^(?:{_any(_F.statements.subject_verbs)})\b")
POSSESSIVE = re.compile(r"^\w+'s\b")
NOT_POSSESSIVE = re.compile(rf"^(?:{_words_(_F.statements.not_possessive)})'s\b")
GERUND = re.compile(rf"^(?!(?:{_words_(_F.statements.not_gerunds)})\b)\w{{3,}}ing\b")
DETERMINER = re.compile(rf"^(?:{_words_(_F.statements.determiners)})\b")
FINITE = frozenset(_F.statements.finite_verbs)
SEQUENCE = re.compile(rf",?\s*\b(?:{_any(_F.sequences.then)})\b\s*")
AND = re.compile(r"\s+and\s+(?!a half|an? half)")
FIRST = re.compile(rf"^(?:{_any(_F.sequences.first)})\b,?\s*")
BEFORE = re.compile(rf"^{_F.sequences.before}(.+)$")  # "before you drive, beep"
INNER_BEFORE = re.compile(rf"^(.+?) {_F.sequences.before}(.+)$")  # "beep before you drive"
CANCEL_WORDS = re.compile(rf"\b(?:{_any(_F.cancels.verbs)})\b")
LEADING_CANCEL = re.compile(rf"^(?:please )?(?:{_any(_F.cancels.leading)})\b \w")
SCHEDULED = re.compile(rf"\b(?:{_any(_F.cancels.scheduled)})\b")
CLAUSE_BREAK = re.compile(rf"\s*[,;:.!?]+(?:\s+|$)|\s+(?:{_words_(_F.clauses.breaks)})\s+")
ASKED = " \u2047"  # marks a clause that ended in "?" through the split
# "it's dark can you...", "my coffee is cold please make more": a request begins
POLITE_BREAK = re.compile(rf"\s+(?=(?:{_any(_F.clauses.request_breaks)})\b)")
NOT_THAT = re.compile(rf"\s+(?:{_any(_F.clauses.not_that)})\s+")  # "left instead of right"
SENTENCE_BREAK = re.compile(rf"\s+(?=(?:{_any(_F.clauses.sentence_breaks)})\s)")
RUN_ON = re.compile(_any(_F.clauses.run_on))  # "beacon off lights off"
# "turn left, no": what was asked before is taken back; "..., no, the other way": reversed
RETRACTION = re.compile(rf"^(?:(?:{_any(_F.clauses.retractions)})\b[\s,]*)+")
RETRACTION_INSIDE = re.compile(rf"\s+(?=(?:{_any(_F.clauses.retractions_inside)})\b)")
OTHER_WAY = re.compile(rf"^(?:{_any(_F.clauses.other_way)})$")
OPPOSITES = english().requests.opposites


def normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    for pattern, replacement in COMPARATIVES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def read_form(text: str) -> Form:
    """What the sentence asks for now, if anything."""
    text = VOCATIVE.sub("", normalise(text))
    if HYPOTHETICAL.search(text) or HOW_TO.match(text):
        return Form(STATEMENT, why="a hypothetical or how-to question, not a request")
    if REPORTED.search(text):
        return Form(STATEMENT, why="reported speech, not a request")
    first, *rest = [c for c in CLAUSE_BREAK.split(text) if c.strip()] or [""]
    if LEADING_CANCEL.match(text) and not SCHEDULED.search(text) and rest:
        # "never mind the horn, start the vacuum": nothing scheduled is named, and a request
        # follows: the first clause takes back what was said before
        return _with_context(read_form(" ".join(rest)), first)
    if CANCEL_WORDS.search(text) and not QUESTION_START.match(text) and (
            SCHEDULED.search(text) or LEADING_CANCEL.match(text)):
        target = CANCEL_WORDS.sub(" ", text)
        return Form(CANCEL, (" ".join(target.split()),), "asks to cancel a schedule")
    if _is_condition(text):
        return Form(CONDITIONAL, (_consequent(text),), "depends on a condition")
    text = NOT_THAT.sub(", not ", text)
    # A sentence of one clause that ends in "?" asks: "battery?" (the break drops the mark);
    # "could you turn right a little, like 30 degrees?" is still a request
    single = not CLAUSE_BREAK.search(text.rstrip(" ?"))
    marked = re.sub(r"\?+\s*$", ASKED, text) if single else text
    clauses = [c for part in CLAUSE_BREAK.split(marked) for c in SENTENCE_BREAK.split(part)]
    if not QUESTION_START.match(text):
        clauses = [c for clause in clauses for c in POLITE_BREAK.split(clause)]
    clauses = [c for clause in clauses for part in RETRACTION_INSIDE.split(clause)
               for c in RUN_ON.split(part)]
    kinds, taken_back = _kinds(clauses)
    requests = [clause for kind, clause in kinds if kind == REQUEST]
    context = " ".join(c for k, c in kinds if k != REQUEST)
    if requests:
        parts, sequence = _sequence(requests)
        return Form(REQUEST, tuple(parts), "", sequence, context)
    if taken_back:  # nothing to cancel: what was taken back was only just said
        return Form(NEGATED, why=f"took back '{' '.join(taken_back)}': said no after it")
    for kind in (QUESTION, NEGATED, STATEMENT):
        found = [clause for k, clause in kinds if k == kind]
        if found:
            why = {QUESTION: "a question", NEGATED: "says not to",
                   STATEMENT: "a statement or report, not a request"}[kind]
            return Form(kind, tuple(found), why, context=context)
    return Form(STATEMENT, why="nothing asked")


def _kinds(clauses: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """Each clause's kind, after what a later "no", "wait" or "sorry" took back; and the
    requests taken back. "turn left, no, the other way" is the left turn reversed."""
    kinds: list[tuple[str, str]] = []
    taken_back: list[str] = []
    for clause in (c.strip() for c in clauses):
        lead = RETRACTION.match(clause)
        if lead and clause[lead.end():] and _clause_kind(clause)[0] == NEGATED:
            lead = None  # "make coffee, no beeping": a negation of its own, not a "no"
        if lead and any(kind == REQUEST for kind, _ in kinds):
            taken_back = [c for kind, c in kinds if kind == REQUEST]
            kinds = [(kind, c) for kind, c in kinds if kind != REQUEST]
        rest = TRAILING.sub("", clause[lead.end():] if lead else clause).strip(" ,.!")
        if taken_back and OTHER_WAY.match(rest):
            reversed_ = _the_other_way(taken_back)
            if reversed_:
                kinds.append((REQUEST, reversed_))
                taken_back = []
            continue
        if rest or not lead:  # "scratch that" alone says nothing more
            kinds += _scoped(*_clause_kind(clause))
    return kinds, taken_back


def _the_other_way(taken_back: list[str]) -> str:
    """The one request taken back with its direction reversed, or '' when there is not one
    request or it names no direction to reverse ("go 1 m, no, the other way": which is?)."""
    if len(taken_back) != 1:
        return ""
    said = taken_back[0].split()
    for i, word in enumerate(said):
        if word in OPPOSITES:
            return " ".join([*said[:i], OPPOSITES[word], *said[i + 1:]])
    return ""


def _with_context(form: Form, context: str) -> Form:
    return Form(form.kind, form.parts, form.why, form.sequence,
                " ".join(c for c in (context, form.context) if c))


def _is_condition(text: str) -> bool:
    plain = POLITE.sub("", text)
    if CONDITION_START.match(plain) or LEADING_CONDITION.match(plain):
        return True
    return bool(CONDITION.search(plain)) and not QUESTION_START.match(plain)


def _consequent(text: str) -> str:
    """What would be done when the condition holds: "if it gets dark, turn the lights on"."""
    found = CONDITION.search(text)
    if found is None:
        return ""
    if found.start() > 0:  # "turn the lights on if it gets dark"
        return text[:found.start()].strip(" ,")
    _, comma, after = text.partition(",")
    return after.strip() if comma else ""


def _scoped(kind: str, clause: str) -> list[tuple[str, str]]:
    """A negation ends where "and" marks a new request ("skip the beep and just set the fan to
    low"); a bare "and" stays in its scope: "don't drive and beep" may mean neither."""
    if kind != NEGATED:
        return [(kind, clause)]
    scope = SCOPE_END.search(clause)
    if scope is None:
        return [(kind, clause)]
    return [(kind, clause[:scope.start()]), *_scoped(*_clause_kind(clause[scope.end():]))]


def _clause_kind(clause: str) -> tuple[str, str]:
    """One clause: (kind, the words that matter)."""
    asked = clause.rstrip().endswith(ASKED.strip())
    clause = TRAILING.sub("", clause.replace(ASKED.strip(), " ").strip()).strip()
    if not clause or INTERJECTION.match(clause):
        return "", clause
    time_for = TIME_FOR.match(clause)
    if time_for:
        return REQUEST, time_for["what"] or time_for["thing"]
    if AFFIRMING.match(clause):
        return REQUEST, AFFIRMING.sub("", clause).strip()
    if DONT_MOVE.match(clause):
        return REQUEST, "stop"
    negated = NEGATION.match(clause)
    if negated:
        return NEGATED, clause[negated.end():].strip()
    adverb = NEGATIVE_ADVERB.search(clause)
    if adverb:  # "by no means turn it on": the whole clause says not to
        return NEGATED, " ".join(NEGATIVE_ADVERB.sub(" ", clause).split())
    no = NO_DETERMINER.match(clause)
    if no and not CORRECTION.match(no["rest"]):
        return NEGATED, no["rest"]
    if no:  # "no turn the lights off": a correction without its comma
        clause = no["rest"]
    polite = _strip_polite(clause)
    if not polite:
        return "", clause
    if polite != clause:
        if NEGATION.match(polite):
            return NEGATED, NEGATION.sub("", polite).strip()
        if TELL_ME.match(polite):  # "can you tell me if the fan is on"
            return QUESTION, polite
        return REQUEST, polite
    if QUESTION_START.match(clause) or asked:
        return QUESTION, clause
    if _is_statement(clause):
        return STATEMENT, clause
    return REQUEST, clause


def _strip_polite(clause: str) -> str:
    previous = None
    while previous != clause:
        previous, clause = clause, POLITE.sub("", clause, count=1).strip()
    return clause


def _is_statement(clause: str) -> bool:
    words = clause.split()
    if PAST_TIME.search(clause) and any(_finite(w) for w in words):
        return True
    if SUBJECT_VERB.match(clause):
        return True
    if POSSESSIVE.match(clause) and not NOT_POSSESSIVE.match(clause):
        return True
    if SUBJECT.match(clause) and len(words) > 1:
        return any(_finite(w) for w in words[1:3])
    if DETERMINER.match(clause):
        return any(_finite(w) for w in words[1:5])
    if GERUND.match(clause):  # "switching the socket on uses a lot of power"
        return any(_finite(w) for w in words[1:])
    return False


def _finite(word: str) -> bool:
    """A verb that says something happened or is so ("started", "is"), not an imperative."""
    if word in FINITE:
        return True
    return (len(word) > 4 and word.endswith("ed") and not word.endswith("eed")) or \
        word.endswith("n't")


def _sequence(requests: list[str]) -> tuple[list[str], bool]:
    """The request clauses as steps in the order they must run."""
    steps: list[str] = []
    sequence = False  # said with "then", "before"...: not merely side by side
    pending_after: list[str] = []  # "before you X, Y": Y first
    for clause in requests:
        before = BEFORE.match(clause)
        if before:
            pending_after.append(before[1])
            sequence = True
            continue
        parts = [FIRST.sub("", p).strip() for p in SEQUENCE.split(clause)]
        parts = [p for p in parts if p]
        if not parts:
            continue
        sequence = sequence or len(parts) > 1
        inner = INNER_BEFORE.match(parts[-1])
        if inner:  # "buzz before you drive": as said
            parts[-1:] = [inner[1], inner[2]]
            sequence = True
        steps += parts + pending_after
        pending_after = []
    steps += pending_after
    return steps, sequence


def split_and(part: str) -> list[str]:
    """A part joined by a bare "and": two steps, if each turns out to be a request."""
    return [p.strip() for p in AND.split(part) if p.strip()]
