"""Confidence is measured, not set by hand: the checked-in table is what scripts/calibrate.py
derives from the labelled development data, and what it claims holds on held-out data."""

from __future__ import annotations

import pytest

from scripts.calibrate import DEVELOPMENT, HELD_OUT, TABLE, collect, kinds_of, measure, table_source


@pytest.fixture(scope="module")
def measured() -> dict[str, tuple[int, int, float]]:
    if not all(data.exists() for _, data in DEVELOPMENT):
        pytest.skip("the shared SLURP sample is not beside this checkout")
    return measure(collect(DEVELOPMENT))


def test_the_table_is_the_measured_one(measured: dict[str, tuple[int, int, float]]) -> None:
    assert TABLE.read_text() == table_source(measured, kinds_of(measured, model=False)), \
        "run scripts/calibrate.py"


# On the held-out sets (scripts/eval-data/heldout: set G, frozen 2026-12-08; set C's held-out
# halves), read for figures only, what executes at 0.90 or more was right 96 times in 96
# (docs/interpreter.md); set F's first measurement, before it was read, was 97 in 101: the bar
# keeps the lower. (Sets A, F and B are development since their wrong lines were read.)
@pytest.mark.parametrize("sets, samples, precision", [(DEVELOPMENT, 500, 0.99),
                                                      (HELD_OUT, 90, 0.955)],
                         ids=["development", "held-out"])
def test_what_executes_is_right(sets: list, samples: int,  # type: ignore[type-arg]
                                precision: float) -> None:
    if not all(data.exists() for _, data in sets):
        pytest.skip("the shared SLURP sample is not beside this checkout")
    executing = [ok for interp, ok in collect(sets)
                 if interp.evidence != "stop" and interp.confidence >= 0.90]
    assert len(executing) > samples
    assert sum(executing) / len(executing) >= precision
