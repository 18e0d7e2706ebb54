"""When a request should happen, if not now: "in ten minutes", "at 11 pm", "tomorrow at 7 am",
"every morning at six".

A cue table (regular expressions) decides *whether* a request holds a time phrase and *where*;
dateparser does the calendar arithmetic on that span alone. Neither works alone (measured in
docs/interpreter.md, "Time phrases"): run over a whole sentence every library reads durations
("for 10 minutes") and ordinary words ("march forward", "may I") as times, and none reads
spoken clock times ("half past seven", "nine thirty pm"). Here the cues keep durations out,
normalise spoken times to digits, and anything vague or half-read ("later", "after lunch",
two times in one request, a time left in the command after the cut) raises VagueTime: the
robot asks rather than guesses.

    find_time("start the vacuum in ten minutes", now) -> When(at=now + 10 min,
                                                              rest="start the vacuum")
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as clock_time

from agent.interpret._language import alternatives, english, words

HORIZON = timedelta(days=366)  # a time further ahead is a misreading: ask


class VagueTime(ValueError):
    """A time cue that must not be guessed ('after lunch', 'later', 'soon')."""

    def __init__(self, span: str, rest: str) -> None:
        super().__init__(span)
        self.span = span  # the vague phrase
        self.rest = rest  # the request without it


@dataclass(frozen=True)
class When:
    at: datetime  # the fire time, aware when `now` was
    rest: str  # the request with the time phrase cut out
    recurring: str | None  # daily | weekdays | weekends | weekly | hourly | "every N unit"
    span: str  # the time phrase as said


_EN = english()
_TIME = _EN.time
NUMBER_WORDS = {word: value for word, value in
                {**_EN.numbers.numbers.small, **_EN.numbers.numbers.tens}.items() if value}


def _longest_first(listed: list[str]) -> str:
    return words(sorted(listed, key=len, reverse=True))


NW = _longest_first(list(NUMBER_WORDS))
NUMW = rf"(?:{NW})(?:[\s-](?:{NW}))?"
HOUR = rf"(?:\d{{1,2}}|{NW})"
DOW = rf"(?:{_longest_first(_TIME.days)})"
MON = rf"(?:{_longest_first(_TIME.months)})"
UNIT = rf"(?:{alternatives(_TIME.units)})"
AMPM = r"(?:\s*(?:am|pm|a\.m\.|p\.m\.)(?!\w))"
POD = rf"(?:{words(_TIME.parts_of_day)})"  # part of the day
APPROX = words(_TIME.approximately)
CLOCK = (rf"(?:noon|midnight"
         rf"|(?:half|(?:a\s+)?quarter|\d{{1,2}}|{NUMW})\s+(?:minutes\s+)?(?:past|to)\s+{HOUR}"
         rf"|[01]\d[0-5]\d|2[0-3][0-5]\d"
         rf"|\d{{1,2}}(?:[:.]\d{{2}})?{AMPM}?(?:\s*o'?clock)?"
         rf"|(?:{NW})(?:\s+(?:o'?clock|{NUMW}))?{AMPM}?)")
# "at 45 degrees", "at 50 percent", "speed at 3" are settings, not times
NOT_A_TIME_UNIT = rf"(?!\s*(?:{alternatives(_TIME.setting_units)})\b)"
NOT_A_SETTING = "".join(f"(?<!{re.escape(word)} )" for word in _TIME.setting_words)

CUE_PATTERNS = {
    "vague": rf"\b(?:{alternatives([p.replace('{unit}', UNIT) for p in _TIME.vague])})\b",
    "recurring": (rf"\b(?:(?:every|each)\s+(?:other\s+)?(?:day|{POD}|weekday|weekend|hour|{DOW}"
                  rf"|(?:\d+|{NUMW})\s+{UNIT})"
                  rf"|(?:on\s+)?(?:{words(_TIME.repetitions)}))\b"),
    "relative": (rf"\b(?:in|within|after)\s+(?:\d+(?:\.\d+)?|{NUMW}|an?|half\s+an?"
                 rf"|a\s+quarter\s+of\s+an?|a\s+couple\s+of)"
                 rf"(?:\s+and\s+a\s+half)?\s*{UNIT}(?:\s+and\s+a\s+half)?(?:'s\s+time)?\b"
                 rf"|\b(?:\d+|{NUMW}|an?)\s+{UNIT}\s+from\s+now\b"),
    "at": (rf"{NOT_A_SETTING}\b(?:at|{APPROX})\s+{CLOCK}(?![\w.%:]){NOT_A_TIME_UNIT}"
           rf"(?:\s+(?:in\s+the\s+{POD}|at\s+night))?"),
    "day": (rf"\b(?:(?:the\s+day\s+after\s+)?tomorrow(?:\s+{POD})?|today(?!'s)|tonight"
            rf"|this\s+{POD}|in\s+the\s+{POD}"
            rf"|(?:on\s+)?(?:next\s+|this\s+(?:coming\s+)?)?{DOW}(?:\s+{POD})?"
            rf"|(?:on\s+)?(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+of\s+{MON}"
            rf"|(?:on\s+)?{MON}\s+\d{{1,2}}(?:st|nd|rd|th)?)\b"),
    "clock": rf"(?<![\w:.])\d{{1,2}}(?:(?::\d{{2}}){AMPM}?|{AMPM})(?![\w:])",
}
CUES = [(kind, re.compile(pattern, re.I)) for kind, pattern in CUE_PATTERNS.items()]
# Time words still in the request after the cut: part of the time phrase was not understood.
RESIDUE = re.compile(rf"\b(?:\d{{1,2}}(?::\d{{2}})?\s*(?:am|pm|a\.m\.|p\.m\.)|\d{{1,2}}:\d{{2}}"
                     rf"|\d{{1,2}}(?:st|nd|rd|th)|o'?clock|noon|midnight|tonight|tomorrow"
                     rf"|today(?!'s)|{DOW}|{MON}\s+\d)(?!\w)", re.I)
PM_HINT = re.compile(rf"\b(?:{words(_TIME.pm_hints)})\b")
AM_HINT = re.compile(rf"\b(?:{words(_TIME.am_hints)})\b")
HAS_CLOCK = re.compile(r"\bat\s|\bnoon\b|\bmidnight\b|\d\s*(?:am|pm)\b")
HAS_DATE = re.compile(rf"tomorrow|{DOW}|{MON}|\d(?:st|nd|rd|th)\b")
EXPLICIT = re.compile(r"\d\s*(?:am|pm)\b|noon|midnight|\b(?:0\d|1[3-9]|2[0-3]):\d\d")
DATEPARSER_SETTINGS = {"PREFER_DATES_FROM": "future", "RETURN_AS_TIMEZONE_AWARE": False}


def find_time(text: str, now: datetime) -> When | None:
    """The time a request asks for, or None for "now"; VagueTime when it must be asked."""
    spans, rest = _spans(text)
    if not spans:
        return None
    kinds = [kind for _, _, kind in spans]
    if kinds.count("relative") > 1 or kinds.count("at") + kinds.count("clock") > 1:
        raise VagueTime(text, rest)  # two times in one request
    low = text.lower()
    recurring, parts = None, []
    for start, end, kind in spans:
        part = low[start:end]
        if kind == "recurring":  # "every friday at 6": weekly, on a friday
            recurring = _recurrence(part)
            found = re.search(DOW, part)
            part = ("morning" if "morning" in part else
                    "evening" if re.search("evening|night", part) else
                    found[0] if found else "")
        parts.append(part)
    span = " ".join(" ".join(parts).split())
    at = _resolve(span, recurring, "relative" in kinds, now)
    if at is None:
        raise VagueTime(span, rest)
    said = " ".join(low[s:e] for s, e, _ in spans)
    return When(at, rest, recurring, said)


def warm_up() -> None:
    """dateparser loads its language data on its first call (~0.3 s): pay that at start."""
    find_time("in ten minutes", datetime.now())


def _spans(text: str) -> tuple[list[tuple[int, int, str]], str]:
    """The time phrases (start, end, kind) and the request without them."""
    low = text.lower()
    hits = sorted(((m.start(), m.end(), kind) for kind, rx in CUES for m in rx.finditer(low)),
                  key=lambda hit: (hit[0], -hit[1]))
    spans: list[tuple[int, int, str]] = []
    for hit in hits:  # the longest of overlapping cues
        if not spans or hit[0] >= spans[-1][1]:
            spans.append(hit)
    rest = text
    for start, end, _ in reversed(spans):
        rest = rest[:start] + " " + rest[end:]
    rest = re.sub(r"\s+([,.!?])", r"\1", " ".join(rest.split())).strip(" ,")
    if spans and RESIDUE.search(rest):
        raise VagueTime(text, rest)
    vague = [low[s:e] for s, e, kind in spans if kind == "vague"]
    if vague:
        raise VagueTime(" ".join(vague), rest)
    return spans, rest


def _resolve(span: str, recurring: str | None, relative: bool, now: datetime
             ) -> datetime | None:
    """The first fire time of a time phrase after now, or None when it cannot be read."""
    import dateparser

    has_clock = bool(HAS_CLOCK.search(span))
    has_date = bool(HAS_DATE.search(span))
    pm, am = bool(PM_HINT.search(span)), bool(AM_HINT.search(span))
    text = (re.sub(rf"\b(?:in\s+the\s+|this\s+|every\s+|at\s+)?{POD}\b|\btonight\b", " ", span)
            if has_clock else span)
    text = _normalise(text)
    explicit = bool(EXPLICIT.search(text))
    if has_clock and not explicit and (pm or am):  # "at 5 this afternoon" -> "at 5:00 pm"
        text = re.sub(r"\b(\d{1,2}:\d{2})\b", r"\1 " + ("pm" if pm else "am"), text, count=1)
    if recurring and not text:  # "every hour", "every 2 hours"
        text = ("in 1 hour" if recurring == "hourly" else
                "in " + recurring[6:] if recurring.startswith("every ") else text)
    base = now.replace(tzinfo=None)
    found = dateparser.parse(text, languages=["en"],
                             settings={**DATEPARSER_SETTINGS, "RELATIVE_BASE": base}
                             ) if text else None
    if found is None:
        return None
    # "in ten minutes" is ten minutes from now, to the second (rounded up: never early, and
    # "in 1 second" never fires at once); a clock time is on the minute
    to_the_second = relative or "sec" in text
    at = found.replace(second=found.second if to_the_second else 0, microsecond=0)
    if to_the_second and found.microsecond:
        at += timedelta(seconds=1)
    if not has_clock and has_date and not (pm or am):
        at = datetime.combine(at.date(), clock_time(9, 0))  # "next monday": at nine
    bare = has_clock and not explicit and not (pm or am) and not has_date
    if bare and at - timedelta(hours=12) > base:  # a bare "at 9": the next nine o'clock
        at -= timedelta(hours=12)
    if at <= base and relative:
        return None  # "in 0 minutes"
    while at <= base:
        at += timedelta(hours=12 if bare and at.hour < 12 else 24)
    while ((recurring == "weekdays" and at.weekday() >= 5) or
           (recurring == "weekends" and at.weekday() < 5)):
        at += timedelta(days=1)
    if at > base + HORIZON:
        return None
    return _aware(at, now)


def _aware(wall: datetime, now: datetime) -> datetime:
    """A local wall-clock time in now's zone. When now is the system's local time the system's
    rules give the offset (right across a daylight-saving change); else now's own zone."""
    if now.tzinfo is None:
        return wall
    if now.astimezone().replace(tzinfo=None) == now.replace(tzinfo=None):
        return wall.astimezone()
    return wall.replace(tzinfo=now.tzinfo)


def _number(words: str) -> int:
    words = words.strip()
    if words.isdigit():
        return int(words)
    return sum(NUMBER_WORDS[w] for w in re.split(r"[\s-]+", words) if w in NUMBER_WORDS)


def _hour_before(hour: str) -> int:
    """'quarter to eight' is 7:45: the hour before, on a 12-hour dial."""
    return (_number(hour) - 2) % 12 + 1


def _normalise(span: str) -> str:
    """A span in dateparser's words: numbers in digits, clock idioms as h:mm."""
    v = re.sub(rf"\b(?:{APPROX})\b", "at", span)
    v = re.sub(r"\b([ap])\.m\.", r"\1m", v)
    v = re.sub(r"(?<!day )\bafter\b", "in", v)
    v = re.sub(r"\bthis\s+coming\b", "this", v)
    v = re.sub(r"\bin\s+the\s+(morning|afternoon|evening)\b", r"this \1", v)
    v = re.sub(r"'s\s+time\b", "", v)
    v = re.sub(r"\ba\s+quarter\s+of\s+an?\s+hour\b", "15 minutes", v)
    v = re.sub(rf"\b(\d+|{NUMW})\s+and\s+a\s+half\s+hours?\b",
               lambda m: f"{_number(m[1]) * 60 + 30} minutes", v)
    v = re.sub(r"\bin\s+(\d+(?:\.\d+)?)\s*h\b", r"in \1 hours", v)
    v = re.sub(r"\bin\s+(\d+(?:\.\d+)?)\s*m\b", r"in \1 minutes", v)
    v = re.sub(r"\bat\s+([01]\d|2[0-3])([0-5]\d)\b", r"at \1:\2", v)
    v = re.sub(rf"\b(\d{{1,2}}|{NUMW})\s+(?:minutes\s+)?past\s+({HOUR})\b",
               lambda m: f"{_number(m[2])}:{_number(m[1]):02d}", v)
    v = re.sub(rf"\b(\d{{1,2}}|{NUMW})\s+(?:minutes\s+)?to\s+({HOUR})\b",
               lambda m: f"{_hour_before(m[2])}:{60 - _number(m[1]):02d}", v)
    v = re.sub(r"\ban?\s+hour\s+and\s+a\s+half\b", "90 minutes", v)
    v = re.sub(r"\bhalf\s+an?\s+hour\b", "30 minutes", v)
    v = re.sub(r"\ba\s+couple\s+of\b", "2", v)
    v = re.sub(rf"\bhalf\s+past\s+({HOUR})\b", lambda m: f"{_number(m[1])}:30", v)
    v = re.sub(rf"\b(?:a\s+)?quarter\s+past\s+({HOUR})\b", lambda m: f"{_number(m[1])}:15", v)
    v = re.sub(rf"\b(?:a\s+)?quarter\s+to\s+({HOUR})\b", lambda m: f"{_hour_before(m[1])}:45",
               v)
    v = re.sub(rf"\bat\s+({NW})\s+({NUMW})\b",  # "at nine thirty"
               lambda m: f"at {_number(m[1])}:{_number(m[2]):02d}", v)
    v = re.sub(rf"\b{NUMW}\b", lambda m: str(_number(m[0])), v)
    v = re.sub(r"\b(\d{1,2})\.(\d{2})\b", r"\1:\2", v)
    v = re.sub(r"\s*o'?clock\b", "", v)
    v = re.sub(r"\bat\s+(\d{1,2})(?![\d:]|\s*(?:am|pm|a\.m|p\.m))", r"at \1:00", v)  # bare hour
    return " ".join(v.split())


def _recurrence(phrase: str) -> str:
    every = re.search(rf"(\d+|{NUMW})\s+({UNIT})", phrase)
    if every:
        return f"every {_number(every[1])} {every[2]}"
    for word, label in (("weekday", "weekdays"), ("weekend", "weekends"), ("hour", "hourly")):
        if word in phrase:
            return label
    return "weekly" if re.search(DOW, phrase) else "daily"
