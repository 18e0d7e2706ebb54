"""The labelled sets stay above their bars: in-scope accuracy (lines that ask for something)
and executed-wrong (a wrong action run now, or anything run for a line that asks for none).
The matcher alone decides what executes (the model never does), so this runs without the
model and takes seconds. Scoring: scripts/eval-data/README.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import load_config
from scripts.calibrate import HELDOUT_NOW
from scripts.eval_interpreter import Score, by_config, evaluate, read_rows, with_languages
from tests.conftest import ROOT

SHARED = ROOT.parent / "shared/eval"
EVAL = ROOT / "scripts/eval-data"
ROVER = ROOT / "deploy/examples/rover.toml"
# (config, data, in-scope accuracy at least, executed-wrong at most)
WRONG = 0.005
# SLURP's bars moved down with issue 21 (every content word accounted for): a number said to
# an action that takes none is asked back ("lights down to seven", 4 lines of SLURP dev), and a
# word the interpreter does not know ("my desk lamp", "the closet light") costs what
# scripts/calibrate.py measures, just below the execute threshold (9 lines): all asked back,
# none run wrong. docs/interpreter.md has the lines.
SETS = {
    "slurp-dev": (EVAL / "home-rover.toml", SHARED / "slurp-devel-home.jsonl", 0.69, WRONG),
    "rover-motion": (ROVER, EVAL / "rover-motion.jsonl", 0.95, WRONG),
    "injections": (ROVER, EVAL / "injections.jsonl", 0.0, WRONG),
    "sentence-forms": (EVAL / "home-current.toml", EVAL / "sentence-forms.jsonl", 0.85, WRONG),
    "rover-forms": (ROVER, EVAL / "rover-forms.jsonl", 0.85, WRONG),
    "forms-dev": (EVAL / "workshop.toml", EVAL / "forms-dev.jsonl", 0.95, WRONG),
    "forms-holdout": (EVAL / "workshop.toml", EVAL / "forms-holdout.jsonl", 0.90, WRONG),
    "tank-dev": (EVAL / "tank.toml", EVAL / "tank-dev.jsonl", 0.90, WRONG),
    # SLURP's test split in two halves (scripts/eval-data/README.md); on the dev half, "stop
    # start the juice" (labelled plug_on) stops the wheels: a stop word stops
    "slurp-test-dev": (EVAL / "home-rover.toml", EVAL / "slurp-test-home-dev.jsonl", 0.63,
                       WRONG),
    "slurp-test-holdout": (EVAL / "home-rover.toml", EVAL / "slurp-test-home-holdout.jsonl",
                           0.67, WRONG),
    # calibration sets on configs of their own: a device with a value, a value alone, and
    # what looks like them but asks for nothing
    # (greenhouse: 0.65 before its 23 value requests, several of them asked back by design)
    "calib-greenhouse": (EVAL / "greenhouse.toml", EVAL / "calib-greenhouse.jsonl", 0.60, WRONG),
    "calib-living-room": (EVAL / "living-room.toml", EVAL / "calib-living-room.jsonl", 0.65,
                          WRONG),
    # (studio: a backdrop is no light, so "switch to grey" is asked back)
    "calib-studio": (EVAL / "studio.toml", EVAL / "calib-studio.jsonl", 0.55, WRONG),
    # value requests to the rover: "take a right" is asked back (a value only turn takes)
    "calib-rover": (ROVER, EVAL / "calib-rover.jsonl", 0.30, WRONG),
    # value requests by a colleague who saw none of the rules (held out): mostly asked back
    **{f"values-holdout-{name}": (config, EVAL / f"values-holdout-{name}.jsonl", 0.0, WRONG)
       for name, config in (("home", EVAL / "home-rover.toml"),
                            ("greenhouse", EVAL / "greenhouse.toml"),
                            ("living-room", EVAL / "living-room.toml"),
                            ("studio", EVAL / "studio.toml"), ("rover", ROVER))},
}


# Sets whose lines each name their config, labelled at NOW = 2026-12-09 10:00, read with every
# language the interpreter has: (data, in-scope accuracy at least, executed-wrong at most)
HELDOUT = EVAL / "heldout"
OWN_CONFIGS = {
    "dev-d": (EVAL / "dev-d/requests.jsonl", 0.66, WRONG),
    "dev-e": (EVAL / "dev-e/requests.jsonl", 0.63, WRONG),
    "german-dev": (HELDOUT / "set-c/german-dev.jsonl", 0.75, WRONG),
    "negation-stops-dev": (HELDOUT / "set-c/negation-stops-dev.jsonl", 0.75, WRONG),
    "set-a": (HELDOUT / "set-a/requests.jsonl", 0.67, WRONG),  # development since 2026-12-08
    "set-f": (HELDOUT / "set-f/requests.jsonl", 0.54, WRONG),  # 0.563, 1 wrong: "turn around"
}


@pytest.mark.parametrize("name", sorted(OWN_CONFIGS))
def test_sets_with_configs_of_their_own(name: str) -> None:
    data, bar, most_wrong = OWN_CONFIGS[name]
    score = Score()
    for path, rows in by_config(data, read_rows(data), None).items():
        evaluate(with_languages(load_config(path), ("en", "de")), rows, score=score,
                 now=HELDOUT_NOW)
    assert score.executed_wrong / score.rows <= most_wrong, "\n".join(
        m for m in score.misses if m.startswith("WRONG"))
    assert score.in_scope_right / score.in_scope >= bar, "\n".join(score.misses)


@pytest.mark.parametrize("name", sorted(SETS))
def test_accuracy_and_wrong_executions(name: str) -> None:
    config_path, data_path, bar, most_wrong = SETS[name]
    if not data_path.exists():
        pytest.skip(f"{data_path} is not beside this checkout")
    score = evaluate(load_config(config_path), read_rows(Path(data_path)))
    assert score.executed_wrong / score.rows <= most_wrong, "\n".join(
        m for m in score.misses if m.startswith("WRONG"))
    if score.in_scope:
        assert score.in_scope_right / score.in_scope >= bar, "\n".join(score.misses)
