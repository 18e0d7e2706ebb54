"""The reading adapter alone against the rules, per labelled set: what the model could add, and
what the rules must catch.

    .venv/bin/python scripts/ablation_reader.py --adapter models/reading-frame.gguf \
        [--task frame|call] [--sets dev|validation|all] [--half a|b|all] [--set CONFIG:DATA]

For every line the model reads the request (agent.interpret._reader) and the binder maps the
reading onto the config (agent.interpret._binder); the rules interpret it as the daemon does,
without the model (scripts/eval_interpreter.py). Columns:
- in-scope: lines labelled execute or schedule (an action with parameters). `model` = the
  model's bound action and every labelled parameter right, nothing left to ask; `rules` = the
  interpreter's decision right by the house scoring (execute, or schedule at the right time);
  `model, not rules` = lines only the model gets, `rules, not model` the reverse.
- none lines: how often the model's reading binds to an action where the label is none (a
  negation, a question, a condition, a device the robot lacks...): what the rules must catch.
- p50/p95: the model's latency per request, in ms (the machine is shared: say so).
Then, over all sets, the reliability of a bound reading (nothing left to ask) by how it was
bound and by band of its probability: how often its action and parameters were the label's
(a reading on a none line is wrong): the raw counts a calibration of the model's evidence reads.
--half b: only the half of each development set not trained on (scripts/adapter_data.py).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as scripts/NAME.py

from agent.config import Config, load_config
from agent.interpret._binder import Bound, bind_call, bind_frame, listed
from agent.interpret._frame import parse_call, parse_frame
from agent.interpret._reader import Reader
from scripts.adapter_data import in_half
from scripts.calibrate import DEVELOPMENT, HELD_OUT
from scripts.eval_interpreter import (
    by_config,
    evaluate,
    is_right,
    label,
    params_match,
    pct,
    read_rows,
)


@dataclass
class Tally:
    in_scope: int = 0
    model_right: int = 0
    rules_right: int = 0
    only_model: int = 0
    only_rules: int = 0
    none_lines: int = 0
    model_acts_on_none: int = 0
    latencies: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    # (how it was bound, band of probability) -> [readings, right]
    reliability: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def row(self, name: str) -> str:
        def share(n: int, of: int) -> str:
            return f"{n / of:.3f} ({n}/{of})" if of else "-"

        return (f"| {name} | {share(self.model_right, self.in_scope)} | "
                f"{share(self.rules_right, self.in_scope)} | {self.only_model} | "
                f"{self.only_rules} | {share(self.model_acts_on_none, self.none_lines)} | "
                f"{pct(self.latencies, 50):.0f} | {pct(self.latencies, 95):.0f} |")

    def add(self, other: Tally) -> None:
        for name in ("in_scope", "model_right", "rules_right", "only_model", "only_rules",
                     "none_lines", "model_acts_on_none"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.latencies += other.latencies
        for key, (n, right) in other.reliability.items():
            counts = self.reliability.setdefault(key, [0, 0])
            counts[0] += n
            counts[1] += right

    def sample(self, bound: Bound | None, probability: float, right: bool) -> None:
        if bound is None or bound.question:
            return
        band = next(f">= {b}" for b in BANDS if probability >= b)
        counts = self.reliability.setdefault((bound.how, band), [0, 0])
        counts[0] += 1
        counts[1] += right


BANDS = (0.99, 0.95, 0.9, 0.8, 0.5, 0.0)


def bound_reading(reader: Reader, config: Config, text: str) -> tuple[Bound | None, float]:
    reading = reader.read(text)
    if reader.task == "frame":
        return bind_frame(config, parse_frame(reading.answer)), reading.probability
    return bind_call(config, parse_call(reading.answer, listed(config))), reading.probability


def measure(reader: Reader, config: Config, rows: list[dict[str, Any]]) -> Tally:
    tally = Tally()
    rules = evaluate(config, rows)
    for row, (_, out) in zip(rows, rules.outcomes, strict=True):
        row = label(row)
        started = time.perf_counter()
        bound, probability = bound_reading(reader, config, row["text"])
        tally.latencies.append((time.perf_counter() - started) * 1000)
        if row["decision"] in ("execute", "schedule"):
            tally.in_scope += 1
            model_ok = bound is not None and not bound.question and \
                bound.action == row["expect"] and params_match(row.get("params", {}),
                                                               bound.params)
            rules_ok = is_right(row, out)
            tally.model_right += model_ok
            tally.rules_right += rules_ok
            tally.only_model += model_ok and not rules_ok
            tally.only_rules += rules_ok and not model_ok
            tally.sample(bound, probability, model_ok)
            if not model_ok:
                tally.misses.append(f"miss  {row['text']!r} want {row['expect']} "
                                    f"{row.get('params', {})} got {bound}")
        elif row["decision"] == "none":
            tally.none_lines += 1
            acts = bound is not None and not bound.question
            tally.model_acts_on_none += acts
            tally.sample(bound, probability, False)
            if acts:
                tally.misses.append(f"ACTS  {row['text']!r} ({row.get('form', '')}) as {bound}")
    return tally


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--adapter", type=Path, required=True)
    parser.add_argument("--task", choices=("frame", "call"), default="frame")
    parser.add_argument("--sets", choices=("dev", "validation", "all", "none"), default="all")
    parser.add_argument("--set", action="append", default=[], help="CONFIG:DATA, more sets")
    parser.add_argument("--half", choices=("a", "b", "all"), default="all")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    from agent.interpret import bundled_path, catalogue

    base = bundled_path(catalogue()["smollm2-135m-instruct-q4_1"])
    chosen = {"dev": DEVELOPMENT, "validation": HELD_OUT, "all": DEVELOPMENT + HELD_OUT,
              "none": []}[args.sets]
    sets = [*chosen, *((Path(c) if c else None, Path(d))
                       for c, d in (s.split(":") for s in args.set))]
    print("| set | model alone, in-scope | rules, in-scope | model, not rules | rules, not "
          "model | model acts on a none line | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|---|")
    frame_reader: Reader | None = None
    total = Tally()
    for config_path, data in sets:
        if not data.exists():
            continue
        rows = [r for r in read_rows(data) if args.half == "all" or
                (config_path, data) not in DEVELOPMENT or in_half(r["text"], args.half)]
        tally = Tally()
        for path, own in by_config(data, rows, config_path).items():
            config = load_config(path)
            if args.task == "frame":
                frame_reader = frame_reader or Reader(base, args.adapter, args.threads, "frame")
                reader = frame_reader
            else:
                reader = Reader(base, args.adapter, args.threads, "call", listed(config))
            tally.add(measure(reader, config, own))
        total.add(tally)
        print(tally.row(data.name), flush=True)
        if args.misses:
            print("\n".join(tally.misses), file=sys.stderr)
    print(total.row("all"))
    print("\n| bound as | probability | readings | right | precision |\n|---|---|---|---|---|")
    for (how, band), (n, right) in sorted(total.reliability.items()):
        print(f"| {how} | {band} | {n} | {right} | {right / n:.3f} |")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process: {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
