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


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"^(?:{pattern})\b")


# -- words that change what a clause is ------------------------------------------------------
NT = r"(?:n't| not)"
NEGATION = re.compile(
    rf"^(?:(?:please |just |but |and |so |you |i )*(?:do{NT}|dont|never|not|no need to|no more"
    rf"|there'?s no need to|there is no need to|don'?t you (?:dare|ever)|you (?:do{NT}|dont) "
    rf"(?:have|need) to|you (?:needn't|need not|shouldn't|should not|mustn't|must not)"
    rf"|i (?:do{NT}|dont) (?:want|need|wish)|i'?d rather (?:not|you didn'?t|you did not)"
    rf"|i would rather (?:not|you didn'?t|you did not)|(?:let'?s|lets) not))\b")
DONT_MOVE = re.compile(rf"^(?:do{NT}|dont) (?:you )?(?:dare )?move(?: an inch| at all)?$")
NO_DETERMINER = re.compile(r"^no (?!need\b|more\b)(?P<rest>\w.*)$")  # "no lamp please"
AFFIRMING = re.compile(rf"^(?:please )?(?:do{NT} forget to|dont forget to|remember to"
                       rf"|make sure (?:to|you)|why do{NT} you|why dont you)\b")
INTERJECTION = re.compile(r"^(?:no+|nope|nah|no no|not that|not that one|wait|oops|sorry"
                          r"|actually|i mean|rather|instead|ok|okay|alright|hmm|um|uh|yes"
                          r"|yeah|please|thanks|thank you|cheers|great|good|cool|nice|fine"
                          r"|never ?mind)$")
COMPARATIVES = [  # "not so bright" is dimmer: a comparison, not a negation
    (re.compile(r"\b(?:not|less) (?:so |as |that |too )?bright(?:ly)?\b(?! enough)"), "dimmer"),
    (re.compile(r"\bnot bright enough\b|\btoo dark\b|\bnot so dark\b"), "brighter"),
]
POLITE = re.compile(
    r"^(?:(?:please|kindly|pls|just|now|ok|okay|alright|so|hey|hi|oh|um|uh|well|actually"
    r"|go ahead and|quickly|also)\b,?\s*"
    r"|(?:would|do) you mind\b|would you be (?:so kind as|able) to\b|are you able to\b"
    r"|(?:can|could|would|will|won't|can't|cant|wont) (?:you|u|ya)(?: please| kindly| just)?\b"
    r"|(?:is|would) it (?:be )?possible (?:for you )?to\b"
    r"|(?:i|we)(?:'d| would| do)? (?:like|want|need|wish|love)(?: you| it)?(?: to)?\b"
    r"|i could use\b|(?:i|we) could do with\b|(?:i|we) (?:want|need) you to\b"
    r"|why don'?t you\b|why not\b|how about\b|what about\b|let'?s\b|lets\b|let us\b"
    r"|(?:you|we) (?:should|must|need to|have to|ought to|might want to|could|can)\b"
    r"|(?:can|could|may) (?:i|we) (?:please )?(?:have|get)\b"
    r"|if you (?:can|could|would|will|don'?t mind|do not mind|wouldn'?t mind|please|like"
    r"|want|have a (?:moment|minute|second)|get a chance)\b,?"
    r"|if (?:possible|that'?s (?:ok|okay|alright|fine)|it'?s not too much trouble)\b,?)\s*")
# What people call the one they talk to: the robot, or a voice assistant's name
ADDRESSEE = "|".join(("robot", "bot", "computer", *ASSISTANT_NAMES))
TRAILING = re.compile(r"(?:,?\s*(?:please|thanks|thank you|if you (?:can|could|would|don'?t mind)"
                      rf"|if possible|for me|now|right now|ok|okay|buddy|mate|instead"
                      rf"|{ADDRESSEE}))+$")
VOCATIVE = re.compile(rf"^(?:(?:hey|hi|ok|okay|yo)\s+)?(?:{ADDRESSEE})\b,?\s*(?=[a-z])")
# "it's coffee time", "time to clean up": what it is time for is the request
TIME_FOR = re.compile(r"^(?:(?:it'?s|it is) )?(?:about |high )?time (?:to|for) (?P<what>.+)$"
                      r"|^(?:(?:it'?s|it is) )?(?P<thing>[a-z]+) time$")
# Who a condition is about: "when I leave", "if the door opens", "once it's dark"
WHOEVER = (r"(?:i|we|it|the|my|our|someone|somebody|anyone|there|he|she|they|its|it's"
           r"|it is)\b")
CONDITION = re.compile(
    r"\bif\b(?! you (?:can|could|would|will|don'?t mind|do not mind|wouldn'?t mind|please"
    r"|like|want|have a|get a)\b)(?! possible\b)"
    r"|\b(?:unless|whenever|as soon as|in case|provided that)\b"
    rf"|(?:^|,\s*|\b)(?:when|once|until|till|after|before|while)\s+{WHOEVER}"
    # a place it has to reach first: "turn right at the end of the road"
    r"|\bat the (?:end of|next|corner|junction|roundabout|crossroads)\b"
    r"|\b(?:when|once) you (?:get|reach|arrive|come)\b")
LEADING_CONDITION = re.compile(
    rf"^(?:when|whenever|once|until|till|after|before|while|as soon as|in case)\s+{WHOEVER}")
HOW_TO = _words(r"how (?:do|can|could|should|would|does) (?:i|we|one|you|someone)"
                r"|how to|how would i")
HYPOTHETICAL = re.compile(r"^what (?:would|will|could|might) happen\b|\bwhat if\b"
                          r"|^(?:suppose|imagine|hypothetically)\b|\bwould it be bad if\b")
REPORTED = re.compile(r"\b(?:said|says|told|tells|asked)\b|[\"“”]")
TELL_ME_WORDS = (r"tell me (?:if|whether|what|how|where)|let me know (?:if|whether)"
                 r"|check (?:if|whether)|show me")
TELL_ME = _words(TELL_ME_WORDS)  # "can you tell me if the fan is on": a question
QUESTION_START = _words(
    r"is|are|was|were|am|isn'?t|aren'?t|does|do|did|doesn'?t|didn'?t|has|have|had|hasn'?t"
    r"|haven'?t|what|what'?s|whats|which|how|how'?s|where|where'?s|who|who'?s|why|when|whose"
    rf"|(?:do|can) you (?:know|tell me|see)|{TELL_ME_WORDS}")
PAST_TIME = re.compile(r"\b(?:yesterday|last (?:night|time|week|evening)|earlier|ago|already"
                       r"|just now|before)\b")
SUBJECT = _words(r"i|you|we|he|she|it|they|someone|somebody|nobody|everyone|everybody"
                 r"|something|nothing|this|that|there|these|those|u")
SUBJECT_VERB = _words(r"it'?s|that'?s|there'?s|i'?m|you'?re|we'?re|they'?re|he'?s|she'?s"
                      r"|i'?ve|you'?ve|we'?ve|they'?ve|it'?ll|i'?ll|it was|it is")
GERUND = re.compile(r"^(?!(?:bring|string|king|ring|thing|nothing|something|everything|morning"
                    r"|evening|ceiling|anything)\b)\w{3,}ing\b")
DETERMINER = _words(r"the|my|our|your|this|that|these|those|his|her|their|its")
FINITE_WORDS = (
    "is are was were am has have had does did keeps kept seems seemed looks looked feels "
    "sounds smells isn't aren't wasn't weren't doesn't didn't hasn't haven't hadn't won't "
    "can't went ran made left began got came saw said told took gave broke forgot heard "
    "thought knew stood sat spun drove rode woke lit fell felt found brought bought caught "
    "meant sent spent built lost won needs wants starts turns runs makes goes moves works "
    "stops beeps hums flickers buzzes blinks will would could should might must uses takes "
    "costs wastes drains helps means causes gets gives")
FINITE = frozenset(FINITE_WORDS.split())
SEQUENCE = re.compile(r",?\s*\b(?:and then|then|after that|afterwards|followed by"
                      r"|and after that)\b\s*")
AND = re.compile(r"\s+and\s+(?!a half|an? half)")
FIRST = re.compile(r"^(?:first|firstly|finally|lastly|also)\b,?\s*")
CANCEL_WORDS = re.compile(r"\b(?:cancel|call off|never ?mind|forget(?: about)?(?! to)|scrap|delete"
                    r"|remove|clear|drop|undo"
                    r"|stop(?= (?:the |my |that |this )?(?:[a-z']+ ){0,3}"
                    r"(?:timer|schedule|alarm|reminder)s?\b))\b")
SCHEDULED = re.compile(r"\b(?:timers?|schedules?|scheduled|alarms?|reminders?|plans?|later"
                       r"|tonight|tomorrow|at \d|at (?:noon|midnight)|in the morning"
                       r"|(?:morning|evening|night)'?s?)\b")
CLAUSE_BREAK = re.compile(r"\s*[,;:.!?]+(?:\s+|$)|\s+(?:but|instead)\s+")
# "it's dark can you...", "my coffee is cold please make more": a request begins
POLITE_BREAK = re.compile(r"\s+(?=(?:can|could|would|will) you\b|please\b)")
NOT_THAT = re.compile(r"\s+(?:instead of|rather than)\s+")  # "left instead of right"
SENTENCE_BREAK = re.compile(r"\s+(?=(?:it is|it's|i am|i'm|there is|there's)\s)")


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
    if CANCEL_WORDS.search(text) and not QUESTION_START.match(text) and (
            SCHEDULED.search(text) or re.match(
                r"^(?:please )?(?:cancel|call off|scrap|never ?mind|forget)\b \w", text)):
        target = CANCEL_WORDS.sub(" ", text)
        return Form(CANCEL, (" ".join(target.split()),), "asks to cancel a schedule")
    if _is_condition(text):
        return Form(CONDITIONAL, (_consequent(text),), "depends on a condition")
    text = NOT_THAT.sub(", not ", text)
    clauses = [c for part in CLAUSE_BREAK.split(text) for c in SENTENCE_BREAK.split(part)]
    if not QUESTION_START.match(text):
        clauses = [c for clause in clauses for c in POLITE_BREAK.split(clause)]
    kinds = [_clause_kind(c) for c in clauses if c.strip()]
    requests = [clause for kind, clause in kinds if kind == REQUEST]
    context = " ".join(c for k, c in kinds if k != REQUEST)
    if requests:
        parts, sequence = _sequence(requests)
        return Form(REQUEST, tuple(parts), "", sequence, context)
    for kind in (QUESTION, NEGATED, STATEMENT):
        found = [clause for k, clause in kinds if k == kind]
        if found:
            why = {QUESTION: "a question", NEGATED: "says not to",
                   STATEMENT: "a statement or report, not a request"}[kind]
            return Form(kind, tuple(found), why, context=context)
    return Form(STATEMENT, why="nothing asked")


def _is_condition(text: str) -> bool:
    plain = POLITE.sub("", text)
    if re.match(r"^(?:if|unless)\b", plain) or LEADING_CONDITION.match(plain):
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


def _clause_kind(clause: str) -> tuple[str, str]:
    """One clause: (kind, the words that matter)."""
    clause = TRAILING.sub("", clause.strip()).strip()
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
    no = NO_DETERMINER.match(clause)
    if no and not re.match(r"(?:turn|switch|make|go|drive|move|start|put|set)\b", no["rest"]):
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
    if QUESTION_START.match(clause) or clause.endswith("?"):
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
    if re.match(r"^\w+'s\b", clause) and not re.match(r"^(?:let|what|how|where|who)'s\b",
                                                      clause):
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
        before = re.match(r"^before (?:you |i |we )?(.+)$", clause)
        if before:
            pending_after.append(before[1])
            sequence = True
            continue
        parts = [FIRST.sub("", p).strip() for p in SEQUENCE.split(clause)]
        parts = [p for p in parts if p]
        if not parts:
            continue
        sequence = sequence or len(parts) > 1
        inner = re.match(r"^(.+?) before (?:you |i |we )?(.+)$", parts[-1])
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
