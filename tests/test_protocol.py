"""The protocol's values are the contract's: every value of every enum is documented in
docs/CONTRACT.md, and every value documented there is one the code has."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import get_args

import pytest
from pydantic import BaseModel

from agent.config import Config
from agent.core.decisions import Decision
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


def test_the_status_table_says_which_statuses_are_final_as_the_code_does() -> None:
    table = CONTRACT.split("| status | final | meaning |", 1)[1].split("\n\n", 1)[0]
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| (yes|no) \|", table, re.M))
    assert set(rows) == {s.value for s in Status if s not in INTERNAL}
    assert {name: said == "yes" for name, said in rows.items()} == {
        s.value: s.final for s in Status if s not in INTERNAL}
    assert not Status.PROPOSED.final


def test_a_step_and_a_daily_firing_are_never_final_whatever_their_status() -> None:
    done = Decision.executed("p-1", InputKind.PLAN)
    assert done.result()["final"] is True
    assert done.but(continues=True).result()["final"] is False
    assert Decision.executed("p-1", InputKind.PLAN, running=True).result()["final"] is False
    assert Decision.refused("c-1", InputKind.CMD, Reason.INTERLOCK, "").result()["final"] is True


TIME_NAME = re.compile(r"^(ts|since|at|[a-z_]+_(s|ms|h|per_min))$")


def _time_table() -> set[str]:
    table = CONTRACT.split("## Time fields and their units", 1)[1].split("\n## ", 1)[0]
    return {name for row in re.findall(r"^\| (`[^|]+) \|", table, re.M)
            for name in re.findall(r"`([a-z_]+)`", row)}


def _config_fields(model: type[BaseModel]) -> set[str]:
    """Every key name of the config, at any depth."""
    names = set()
    for name, info in model.model_fields.items():
        names.add(info.alias or name)
        for inner in (info.annotation, *get_args(info.annotation)):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                names |= _config_fields(inner)
    return names


def test_every_time_field_of_the_contract_and_the_config_has_its_unit_in_the_table() -> None:
    table = _time_table()
    said = {m.split(".")[-1] for m in re.findall(r'[`"]([a-z_.]+)[`"]', CONTRACT)}
    assert {n for n in said if TIME_NAME.match(n)} <= table
    assert {n for n in _config_fields(Config) if TIME_NAME.match(n)} <= table
