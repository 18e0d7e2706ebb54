"""Measure how often each kind of evidence is right, and write the confidence table.

    .venv/bin/python scripts/calibrate.py          # print; write agent/interpret/_calibrated.py
    .venv/bin/python scripts/calibrate.py --check  # print only; exit 1 if the table is stale

Every single-action interpretation of the development sets (and every step of a plan) is one
sample of its kind of evidence (agent/interpret/_evidence.py): right when its action and its
labelled parameters are the label's, wrong otherwise (including any action read into a line
that asks for none). A kind's confidence is the lower bound of a one-sided 95 % Wilson interval
on its precision, so a kind seen a few times cannot claim much. A stop is a stop whatever its
measured precision (stopping is always safe): its confidence stays 1.0.

Then the reliability table: on the development and on the held-out sets apart, each band of
confidence with the measured precision of the interpretations in it.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as scripts/NAME.py

from agent.config import load_config
from agent.interpret import Interpretation, Interpreter, ReadingModel
from agent.safety.gate import Gate
from agent.text.decide import with_values_picked
from scripts.adapter_data import TRAINED_ON
from scripts.eval_interpreter import (
    NOW,
    by_config,
    label,
    params_match,
    read_rows,
    with_languages,
)

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "scripts/eval-data"
SHARED = ROOT.parent / "shared/eval"
HELDOUT = EVAL / "heldout"
HELDOUT_NOW = datetime(2026, 12, 9, 10, 0).astimezone()  # NOW of the frozen sets' labels
LANGUAGES = ("en", "de")  # every set is read with every language the interpreter has
DEVELOPMENT: list[tuple[Path | None, Path]] = [
    # The first development sets (SLURP's lines, the project's own): the reading adapter was
    # trained on these (scripts/adapter_data.py), and not on any below
    *TRAINED_ON,
    # Sets once held out, since tuned on (docs/interpreter.md): development from issue 21 on
    (EVAL / "home-current.toml", EVAL / "sentence-forms.jsonl"),
    (ROOT / "deploy/examples/rover.toml", EVAL / "rover-forms.jsonl"),
    (EVAL / "workshop.toml", EVAL / "forms-holdout.jsonl"),
    (EVAL / "home-rover.toml", EVAL / "slurp-test-home-holdout.jsonl"),
    (EVAL / "home-rover.toml", EVAL / "values-holdout-home.jsonl"),
    (EVAL / "greenhouse.toml", EVAL / "values-holdout-greenhouse.jsonl"),
    (EVAL / "living-room.toml", EVAL / "values-holdout-living-room.jsonl"),
    (EVAL / "studio.toml", EVAL / "values-holdout-studio.jsonl"),
    (ROOT / "deploy/examples/rover.toml", EVAL / "values-holdout-rover.jsonl"),
    # The development halves of the sets frozen on 2026-12-07 (each line names its config)
    (None, HELDOUT / "set-c/german-dev.jsonl"),
    (None, HELDOUT / "set-c/negation-stops-dev.jsonl"),
    # Written by a colleague who saw none of the rules, as development data (issue 21)
    (None, EVAL / "dev-d/requests.jsonl"),
    (None, EVAL / "dev-e/requests.jsonl"),
    # Frozen 2026-12-07 and 2026-12-08, their executed-wrong lines read on 2026-12-08 (set B's
    # after issue 22's ablation had measured the adapter on it)
    (None, HELDOUT / "set-a/requests.jsonl"),
    (None, HELDOUT / "set-f/requests.jsonl"),
    (None, HELDOUT / "set-b/requests.jsonl"),
]
# Frozen before any rule saw them (scripts/eval-data/heldout/FROZEN.json): figures only
HELD_OUT: list[tuple[Path | None, Path]] = [
    (None, HELDOUT / "set-g/requests.jsonl"),
    (None, HELDOUT / "set-c/german-holdout.jsonl"),
    (None, HELDOUT / "set-c/negation-stops-holdout.jsonl"),
]
TABLE = ROOT / "agent/interpret/_calibrated.py"
MODEL_TABLE = ROOT / "agent/interpret/_calibrated_model.py"
Z = 1.645  # one-sided 95 %
FIXED = {"stop": 1.0}
BANDS = [(0.99, 1.01), (0.95, 0.99), (0.90, 0.95), (0.80, 0.90), (0.70, 0.80), (0.0, 0.70)]


def wilson_lower(right: int, n: int, z: float = Z) -> float:
    if n == 0:
        return 0.0
    p = right / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, (centre - spread) / (1 + z * z / n))  # never -0.0


def samples(interp: Interpretation, row: dict[str, Any], gate: Gate
            ) -> list[tuple[Interpretation, bool]]:
    """(single-action interpretation, right?) pairs of one labelled line: those that could
    run, whatever their confidence. One the gate refuses anyway (out of bounds, high risk) is
    the gate's to decide, not the interpreter's: left out."""
    row = label(row)

    def could_run(step: Interpretation) -> bool:
        return (step.action is not None and not step.by_model and not step.question and
                not step.not_here and gate.check_static(step.action, step.params).allowed and
                gate.config.actions[step.action].risk != "high")

    interp = with_values_picked(interp, gate.config, None)
    if interp.form == "plan":
        if "steps" not in row and row["decision"] != "none":
            return []  # a label of the older format says nothing of sequences
        if not all(could_run(step) for step in interp.steps):
            return []  # refused whole
        wanted = row.get("steps") or []
        return [(step, row["decision"] == "plan" and n < len(wanted) and
                 step.action == wanted[n]["action"] and
                 params_match(wanted[n].get("params", {}), step.params))
                for n, step in enumerate(interp.steps)]
    if interp.form != "request" or not could_run(interp):
        return []
    right = (row["decision"] in ("execute", "schedule") and interp.action == row["expect"]
             and params_match(row.get("params", {}), interp.params))
    return [(interp, right)]


def collect(sets: list[tuple[Path | None, Path]], reader: ReadingModel | None = None
            ) -> list[tuple[Interpretation, bool]]:
    """Every sample of these sets; a set without a config names one on each line. With the
    reading adapter, a sample of the model's evidence counts only from a set it was not
    trained on (scripts/adapter_data.py's TRAINED_ON): there it would be flattered."""
    found = []
    trained = {data for _, data in TRAINED_ON}
    for config_path, data in sets:
        if not data.exists():
            print(f"skipping {data}: not beside this checkout", file=sys.stderr)
            continue
        now = NOW if config_path else HELDOUT_NOW
        for path, rows in by_config(data, read_rows(data), config_path).items():
            config = with_languages(load_config(path), LANGUAGES)
            interpreter, gate = Interpreter(config), Gate.static(config)
            interpreter.reader = reader
            for row in rows:
                found += [(interp, ok) for interp, ok in samples(
                    interpreter.interpret(row["text"], now=now), row, gate)
                    if not (data in trained and interp.evidence.startswith("model_"))]
    return found


def measure(found: list[tuple[Interpretation, bool]]) -> dict[str, tuple[int, int, float]]:
    n: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for interp, ok in found:
        n[interp.evidence] += 1
        right[interp.evidence] += ok
    return {kind: (n[kind], right[kind], wilson_lower(right[kind], n[kind])) for kind in n}


HEADER = '''"""Confidence of each kind of evidence, written by scripts/calibrate.py: do not edit.

Each kind: right of samples on the development sets (SLURP dev, the dev half of the SLURP test
sample, rover-motion, injections, forms-dev, tank-dev, calib-home, calib-tank, calib-greenhouse,
calib-living-room, calib-studio, calib-rover); the value is the lower bound of a one-sided
95 % Wilson interval on its precision. A kind never seen is 0.
"""

CONFIDENCE: dict[str, float] = {
'''


MODEL_HEADER = '''"""Confidence of each kind of the reading adapter's evidence, written by
scripts/calibrate.py --model: do not edit.

Each kind (agent/interpret/_model_evidence.py): right of samples on the development sets the
adapter was not trained on (sets A, F and B, dev-d, dev-e, the German and negation development
halves, the sets once held out); the value is the lower bound of a one-sided 95 % Wilson
interval on its precision. A kind never seen is 0.
"""

MODEL_CONFIDENCE: dict[str, float] = {
'''


def kinds_of(measured: dict[str, tuple[int, int, float]], model: bool) -> list[str]:
    """Every kind of one table, measured or in it, the most often seen first."""
    from agent.interpret._calibrated import CONFIDENCE
    from agent.interpret._calibrated_model import MODEL_CONFIDENCE

    table = MODEL_CONFIDENCE if model else CONFIDENCE
    return sorted({k for k in set(table) | set(measured) if k.startswith("model_") == model},
                  key=lambda k: (-measured.get(k, (0,))[0], k))


def table_source(measured: dict[str, tuple[int, int, float]], kinds: list[str],
                 header: str = HEADER) -> str:
    lines = []
    for kind in kinds:
        n, right, bound = measured.get(kind, (0, 0, 0.0))
        lines.append(f'    "{kind}": {FIXED.get(kind, round(bound, 3))},  # {right}/{n}\n')
    return header + "".join(lines) + "}\n"


def reliability(found: list[tuple[Interpretation, bool]]) -> list[str]:
    """Measured precision by band of confidence; stops apart (a stop runs whatever)."""
    rows = []
    stops = [ok for interp, ok in found if interp.evidence == "stop"]
    if stops:
        rows.append(f"| stop (always 1.0) | {sum(stops) / len(stops):.3f} | {len(stops)} |")
    found = [(interp, ok) for interp, ok in found if interp.evidence != "stop"]
    for low, high in BANDS:
        inside = [ok for interp, ok in found if low <= interp.confidence < high]
        if inside:
            rows.append(f"| {low:.2f}-{min(high, 1.0):.2f} | {sum(inside) / len(inside):.3f} "
                        f"| {len(inside)} |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="exit 1 if the table is stale")
    parser.add_argument("--model", action="store_true",
                        help="with the reading adapter: measure its kinds (its own table)")
    args = parser.parse_args()
    from agent.interpret._calibrated import CONFIDENCE
    from agent.interpret._calibrated_model import MODEL_CONFIDENCE

    reader = None
    if args.model:
        from agent.interpret import load_reader

        reader = load_reader(load_config(ROOT / "deploy/examples/rover.toml"))
    measured = measure(collect(DEVELOPMENT, reader))
    kinds = kinds_of(measured, args.model)
    print("| evidence | samples | right | precision | lower bound (confidence) |")
    print("|---|---|---|---|---|")
    for kind in kinds:
        n, right, bound = measured.get(kind, (0, 0, 0.0))
        precision = f"{right / n:.3f}" if n else "-"
        print(f"| {kind} | {n} | {right} | {precision} | {FIXED.get(kind, round(bound, 3))} |")
    table, path = (MODEL_CONFIDENCE, MODEL_TABLE) if args.model else (CONFIDENCE, TABLE)
    source = table_source(measured, kinds, MODEL_HEADER if args.model else HEADER)
    if args.check:
        stale = path.read_text() != source
        print("the table is stale: run scripts/calibrate.py" if stale else "the table is current")
        return int(stale)
    path.write_text(source)
    print(f"wrote {path.relative_to(ROOT)}")
    # The interpreter reads this very dict: the new values, for the reliability below
    table.update({k: FIXED.get(k, round(measured.get(k, (0, 0, 0.0))[2], 3)) for k in kinds})
    for name, sets in (("development", DEVELOPMENT), ("held out", HELD_OUT)):
        print(f"\nreliability, {name} sets (with the table just written):")
        print("| confidence | measured precision | n |\n|---|---|---|")
        found = collect(sets, reader)
        print("\n".join(reliability(found)))
        executing = [ok for interp, ok in found
                     if interp.evidence != "stop" and interp.confidence >= 0.90]
        print(f"at or above 0.90 (the default execute_threshold): "
              f"{sum(executing) / max(1, len(executing)):.3f} of {len(executing)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
