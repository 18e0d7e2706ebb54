"""The time reader against the phrases it was measured on (scripts/eval-data/time-*.jsonl, from
the comparison of time libraries in docs/interpreter.md): right fire times, no time read into
a duration or a plain command, every vague phrase asked back."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from agent.interpret import VagueTime, find_time
from tests.conftest import ROOT

NOW = datetime(2026, 11, 25, 10, 0)  # a Wednesday
# Measured: (fire times right, of), false times read into durations and plain commands
EXPECTED = {"dev": (94, 94, 0), "holdout": (25, 25, 1), "stress": (34, 35, 2),
            "fresh": (22, 22, 0)}


def fire_time_right(row: dict[str, object], at: datetime) -> bool:
    wanted = [row["fire"]] if row["fire"] else []
    if any(abs((at - datetime.fromisoformat(str(t))).total_seconds()) <= 60
           for t in [*wanted, *row["alt"]]):  # type: ignore[misc]
        return True
    if row["window"]:
        low, high = (datetime.fromisoformat(t) for t in row["window"])  # type: ignore[attr-defined]
        return bool(low <= at <= high)
    return False


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_time_phrases(name: str) -> None:
    rows = [json.loads(line) for line in
            (ROOT / f"scripts/eval-data/time-{name}.jsonl").read_text().splitlines()]
    right = wrong = false_times = 0
    for row in rows:
        try:
            when = find_time(row["text"], NOW)
        except VagueTime:
            assert row["cat"] in ("ambiguous", "deferral", "pod", "recurring"), row["text"]
            continue
        if row["cat"] == "ambiguous":
            pytest.fail(f"guessed a time for a vague request: {row['text']!r} -> {when}")
        if row["cat"] in ("none", "duration"):
            false_times += when is not None
            continue
        if when is None:
            continue
        ok = fire_time_right(row, when.at)
        right += ok
        wrong += not ok
        if ok and row["cat"] == "recurring":
            assert when.recurring == row["recur"], row["text"]
    timed = sum(row["cat"] in ("deferral", "pod", "recurring") for row in rows)
    assert wrong == 0  # a wrong time is never given: it is right or asked back
    assert (right, timed, false_times) == EXPECTED[name]


def test_a_duration_is_not_a_time() -> None:
    assert find_time("run the pump for 10 minutes", NOW) is None
    assert find_time("turn left 90 degrees", NOW) is None


def test_the_rest_is_the_request() -> None:
    when = find_time("turn the lights off at 11 pm", NOW)
    assert when is not None and when.rest == "turn the lights off"
    assert when.at == datetime(2026, 11, 25, 23, 0)


def test_aware_now_gives_an_aware_time() -> None:
    now = NOW.astimezone()
    when = find_time("make coffee tomorrow at 7 am", now)
    assert when is not None and when.at.tzinfo is not None
    assert when.at.replace(tzinfo=None) == datetime(2026, 11, 26, 7, 0)


def test_vague_times_are_asked() -> None:
    for text in ("turn off the plug later", "start the vacuum after lunch",
                 "switch the lights off in a bit"):
        with pytest.raises(VagueTime):
            find_time(text, NOW)


def test_a_time_in_seconds_is_never_early() -> None:
    """Rounded up to the whole second: "in 1 second" said at 10:00:00.9 is not 10:00:01."""
    now = NOW.replace(microsecond=900_000)
    for seconds in (1, 2, 30):
        when = find_time(f"lights off in {seconds} seconds", now)
        assert when is not None and when.at.microsecond == 0
        assert (when.at - now).total_seconds() >= seconds
