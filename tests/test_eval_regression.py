"""The labelled sets stay above issue 3's bar. The matcher alone decides what executes (the
model only phrases questions), so this runs without the model and takes a second."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.config import load_config
from agent.gate import Gate
from agent.interpret import Interpreter
from agent.text_decisions import decide_statically
from scripts.eval_interpreter import params_match
from tests.conftest import ROOT

SHARED = ROOT.parent / "shared/eval"
SETS = [
    (SHARED / "home-rover.toml", SHARED / "slurp-devel-home.jsonl"),
    (ROOT / "deploy/examples/rover.toml", ROOT / "scripts/eval-data/rover-motion.jsonl"),
    (ROOT / "deploy/examples/rover.toml", ROOT / "scripts/eval-data/injections.jsonl"),
]


@pytest.mark.parametrize("config_path, data_path", SETS,
                         ids=["slurp-dev", "rover-motion", "injections"])
def test_accuracy_and_wrong_executions(config_path: Path, data_path: Path) -> None:
    if not data_path.exists():
        pytest.skip(f"{data_path} is not beside this checkout")
    config = load_config(config_path)
    interpreter = Interpreter(config)
    gate = Gate.static(config)
    rows = [json.loads(line) for line in data_path.read_text().splitlines() if line.strip()]
    right = wrong = 0
    for row in rows:
        out = decide_statically(interpreter.interpret(row["text"]), config, gate)
        executed = out.decision == "execute"
        if row["expect"] in ("none", "refuse"):
            ok = not executed
        else:
            ok = executed and out.action == row["expect"] and params_match(row["params"],
                                                                           out.params)
        right += ok
        wrong += executed and not ok
    assert right / len(rows) >= 0.85
    assert wrong / len(rows) <= 0.02
