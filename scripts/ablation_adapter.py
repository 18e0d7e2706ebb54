"""The reading adapter in the decision, measured: every set read by the interpreter without
and with it (the adapter's reading weighed in where the rules cannot act alone,
agent/interpret/_model_evidence.py), in one process, alternating.

    .venv/bin/python scripts/ablation_adapter.py              # development and held-out sets
    .venv/bin/python scripts/ablation_adapter.py --sets held-out --misses

Per set: in-scope accuracy and executed-wrong without and with the adapter, needless stops,
how many requests the model was asked about, and the latency of those (the whole
interpretation, the model's reading in it) at p50, p95 and p99. Sets the adapter was trained
on are marked: their figures flatter it. docs/interpreter.md, "The reading adapter", has the
table and the machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as scripts/NAME.py

from agent.config import load_config
from agent.interpret import ReadingModel, load_reader
from scripts.adapter_data import TRAINED_ON
from scripts.calibrate import DEVELOPMENT, HELD_OUT, HELDOUT_NOW, LANGUAGES
from scripts.eval_interpreter import NOW, Score, by_config, evaluate, pct, read_rows, with_languages

ROOT = Path(__file__).resolve().parent.parent


def scored(config_path: Path | None, data: Path, reader: ReadingModel | None) -> Score:
    score = Score()
    now = NOW if config_path else HELDOUT_NOW
    for path, rows in by_config(data, read_rows(data), config_path).items():
        config = with_languages(load_config(path), LANGUAGES)
        evaluate(config, rows, score=score, now=now, reader=reader)
    return score


def share(right: int, of: int) -> str:
    return f"{right / of:.3f}" if of else "-"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", choices=("development", "held-out", "all"), default="all")
    parser.add_argument("--misses", action="store_true", help="the lines the adapter changed")
    args = parser.parse_args()
    sets = {"development": DEVELOPMENT, "held-out": HELD_OUT,
            "all": DEVELOPMENT + HELD_OUT}[args.sets]
    reader = load_reader(load_config(ROOT / "deploy/examples/rover.toml"))
    trained = {data for _, data in TRAINED_ON}
    print("| set | lines | in-scope, rules | in-scope, with the adapter | executed wrong, "
          "rules | executed wrong, with | needless stops, rules / with | asked the model | "
          "p50 / p95 / p99 ms, asked | asked back naming the right action, rules / with |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    totals = {"dev": [Score(), Score()], "held": [Score(), Score()]}
    for config_path, data in sets:
        if not data.exists():
            continue
        alone, both = scored(config_path, data, None), scored(config_path, data, reader)
        asked = [ms for ms, why in zip(both.latencies, both.whys, strict=True)
                 if "the model reads" in why or "the model's reading" in why]
        name = str(data.relative_to(ROOT.parent)).replace("main/scripts/eval-data/", "")
        name += " (trained on)" if data in trained else ""
        print(f"| {name} | {alone.rows} | {share(alone.in_scope_right, alone.in_scope)} | "
              f"{share(both.in_scope_right, both.in_scope)} | {alone.executed_wrong} | "
              f"{both.executed_wrong} | {alone.needless_stops} / {both.needless_stops} | "
              f"{len(asked)} | {pct(asked, 50):.0f} / {pct(asked, 95):.0f} / "
              f"{pct(asked, 99):.0f} | {share(alone.named_right, alone.asked_back)} / "
              f"{share(both.named_right, both.asked_back)} |", flush=True)
        for score, total in zip((alone, both), totals["held" if (config_path, data) in HELD_OUT
                                                      else "dev"], strict=True):
            for attr in ("rows", "in_scope", "in_scope_right", "executed_wrong", "asked_back",
                         "named_right"):
                setattr(total, attr, getattr(total, attr) + getattr(score, attr))
        if args.misses:
            for (row, old), (_, new) in zip(alone.outcomes, both.outcomes, strict=True):
                if (old.decision, old.action, old.params) != (new.decision, new.action,
                                                             new.params):
                    print(f"  {row['text']!r}: {old.decision}/{old.action} -> "
                          f"{new.decision}/{new.action} {new.params} (want "
                          f"{row['decision']}/{row.get('expect')})", file=sys.stderr)
    for name, (alone, both) in totals.items():
        if alone.rows:
            print(f"| all {name} | {alone.rows} | {share(alone.in_scope_right, alone.in_scope)} "
                  f"| {share(both.in_scope_right, both.in_scope)} | {alone.executed_wrong} | "
                  f"{both.executed_wrong} | | | | {share(alone.named_right, alone.asked_back)}"
                  f" / {share(both.named_right, both.asked_back)} |")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process (the interpreter and the model in it): {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
