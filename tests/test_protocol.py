"""The protocol's values are the contract's: every value of every enum is documented in
docs/CONTRACT.md, and every value documented there is one the code has."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest

from agent.core.protocol import DecisionKind, InputKind, Reason, Route, SentenceForm, Status
from tests.conftest import ROOT

CONTRACT = (ROOT / "docs" / "CONTRACT.md").read_text()
INTERNAL = {Status.PROPOSED}  # never published


def documented(field: str) -> set[str]:
    row = next(line for line in CONTRACT.splitlines() if line.startswith(f"| {field} |"))
    return set(re.findall(r"`([a-z_]+)`", row.split("|")[2]))


@pytest.mark.parametrize("enum, field", [
    (Status, "`status`"), (DecisionKind, "`decision`"), (InputKind, "`input_kind`"),
    (Route, "`route`"), (SentenceForm, "sentence form")])
def test_every_value_is_documented_and_every_documented_value_is_real(
        enum: type[StrEnum], field: str) -> None:
    assert {v.value for v in enum if v not in INTERNAL} == documented(field)


def test_the_reason_codes_table_is_the_reason_enum() -> None:
    table = CONTRACT.split("## Reason codes", 1)[1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M))
    assert rows == {r.value for r in Reason}


def test_a_value_renders_as_the_contract_string() -> None:
    assert f"{Status.CONFIRM_REQUIRED}" == "confirm_required"
    assert str(Reason.ESTOP_ENGAGED) == "estop_engaged"
