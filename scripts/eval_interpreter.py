"""Score the interpreter on labelled sentences (scoring rules: scripts/eval-data/README.md).

    .venv/bin/python scripts/eval_interpreter.py [--config CONFIG] --data FILE.jsonl
        [--no-model] [--now 2026-12-09T10:00]

Both label formats are read: the sentence-form one (`decision`, `expect`, `params`, `form`,
`at`, `steps`...) and the older one (`expect` an action, or `none`/`refuse`). A line may name
its own config (`config`, a file beside the data: the held-out sets do). Prints in-scope
accuracy (lines that ask for something) apart from the `none` lines, executed-wrong, accuracy
per decision and per form, latency percentiles and the process's RSS, then every miss, except
for a frozen held-out set (scripts/eval-data/heldout/FROZEN.json), whose misses are not shown
unless asked for: a held-out set is read for figures only. The interpreter's clock is pinned
to NOW of the README (or --now).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as scripts/NAME.py

from agent.config import Config, load_config
from agent.core.decisions import Decision
from agent.interpret import Interpreter, ReadingModel, Scorer
from agent.safety.gate import Gate
from agent.text.decide import decide_statically

NOW = datetime(2026, 11, 25, 10, 0).astimezone()  # a Wednesday, local time
HELDOUT = Path(__file__).resolve().parent / "eval-data" / "heldout"
RUNS_NOW = ("execute", "plan")  # decisions that move something at once


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def params_match(expected: dict[str, object], got: dict[str, object]) -> bool:
    for key, want in expected.items():
        have = got.get(key)
        if isinstance(want, int | float) and not isinstance(want, bool):
            if not isinstance(have, int | float) or abs(have - want) > abs(want) * 0.1:
                return False
        elif have != want:
            return False
    return True


def label(row: dict[str, Any]) -> dict[str, Any]:
    """A row in the sentence-form format (old rows: an action is an execute, else none)."""
    if "decision" in row:
        return row
    runs = row["expect"] not in ("none", "refuse")
    return {**row, "decision": "execute" if runs else "none",
            "form": "plain" if runs else "out_of_scope"}


def right_time(row: dict[str, Any], out: Decision, now: datetime) -> bool:
    at = out.extra.get("at")
    if not at:
        return False
    fired = datetime.fromisoformat(at).astimezone(now.tzinfo).replace(tzinfo=None)
    wanted = datetime.fromisoformat(row["at"])
    return bool(abs((fired - wanted).total_seconds()) <= row.get("at_tolerance_s", 60))


def is_right(row: dict[str, Any], out: Decision, now: datetime = NOW) -> bool:
    want, got = row["decision"], out.decision
    if want == "none":
        return got not in ("execute", "schedule", "plan")
    if want == "answer":
        return got == "answer"
    if want == "cancel":
        return got == "cancel" and row["expect"] in out.extra.get("cancel", [])
    if want == "plan":
        steps = out.extra.get("plan", [])
        return got == "plan" and len(steps) == len(row["steps"]) and all(
            s["action"] == w["action"] and params_match(w.get("params", {}), s["params"])
            for s, w in zip(steps, row["steps"], strict=True))
    same = out.action == row["expect"] and params_match(row.get("params", {}), out.params)
    if want == "schedule":
        if row.get("recurring") and got == "none":
            return True  # asked back rather than scheduled: allowed for a recurring request
        return (got == "schedule" and same and right_time(row, out, now) and
                out.extra.get("recurring") == row.get("recurring"))
    return got == "execute" and same


@dataclass
class Score:
    rows: int = 0
    in_scope: int = 0
    in_scope_right: int = 0
    none_lines: int = 0
    none_right: int = 0
    executed_wrong: int = 0
    needless_stops: int = 0  # a stop run where the line asked for something else: never wrong
    asked_back: int = 0  # in-scope lines asked back or refused...
    named_right: int = 0  # ...whose question or refusal names the label's action
    latencies: list[float] = field(default_factory=list)
    whys: list[str] = field(default_factory=list)  # how each line's interpretation came about
    by_decision: Counter[tuple[str, bool]] = field(default_factory=Counter)
    by_form: Counter[tuple[str, bool]] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    outcomes: list[tuple[dict[str, Any], Decision]] = field(default_factory=list)

    def add(self, row: dict[str, Any], out: Decision, latency_ms: float, why: str,
            now: datetime = NOW, stop_action: str | None = None) -> None:
        ok = is_right(row, out, now)
        wrong_run = out.decision in RUNS_NOW and not (ok and row["decision"] == out.decision)
        needless_stop = wrong_run and out.decision == "execute" and out.action == stop_action
        if needless_stop:  # a stop is never a wrong execution (a missed one is what costs)
            wrong_run = False
            self.needless_stops += 1
        self.rows += 1
        self.latencies.append(latency_ms)
        self.whys.append(why)
        self.outcomes.append((row, out))
        if row["decision"] == "none":
            self.none_lines += 1
            self.none_right += ok
        else:
            self.in_scope += 1
            self.in_scope_right += ok
        self.executed_wrong += wrong_run
        if not ok and row["decision"] in ("execute", "schedule") and out.decision in (
                "none", "refuse"):
            self.asked_back += 1
            self.named_right += out.action == row["expect"]
        self.by_decision[(row["decision"], ok)] += 1
        self.by_form[(row.get("form", "?"), ok)] += 1
        if not ok:
            self.misses.append(
                f"{'WRONG' if wrong_run else 'STOP ' if needless_stop else 'miss '} "
                f"want={row['decision']}/{row['expect']} "
                f"got={out.decision}/{out.action}/{out.reason} conf={out.confidence} "
                f"params={out.params} {_extras(out)}| {row['text']} | {why}")

    def summary(self, name: str, scorer: str) -> str:
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        lines = [
            f"{name}: n={self.rows} in-scope accuracy={_share(self.in_scope_right, self.in_scope)}"
            f" none-lines right={_share(self.none_right, self.none_lines)}"
            f" executed_wrong={self.executed_wrong / max(1, self.rows):.3f}"
            f" ({self.executed_wrong}) needless stops={self.needless_stops}"
            f" asked back naming the right action="
            f"{_share(self.named_right, self.asked_back)}"
            f" latency p50={pct(self.latencies, 50):.1f} ms"
            f" p95={pct(self.latencies, 95):.1f} ms p99={pct(self.latencies, 99):.1f} ms"
            f" max_rss={rss:.0f} MB scorer={scorer}",
            "  by decision: " + _breakdown(self.by_decision),
            "  by form: " + _breakdown(self.by_form),
        ]
        return "\n".join(lines)


def _share(right: int, of: int) -> str:
    return f"{right / of:.3f} ({right}/{of})" if of else "- (0)"


def _breakdown(counts: Counter[tuple[str, bool]]) -> str:
    names = sorted({name for name, _ in counts})
    return ", ".join(f"{n} {counts[(n, True)]}/{counts[(n, True)] + counts[(n, False)]}"
                     for n in names)


def _extras(out: Decision) -> str:
    shown = {k: out.extra[k] for k in ("at", "recurring", "plan", "cancel", "question")
             if out.extra.get(k)}
    return f"{json.dumps(shown, default=str)} " if shown else ""


def evaluate(config: Config, rows: list[dict[str, Any]], scorer: Scorer | None = None,
             score: Score | None = None, now: datetime = NOW,
             reader: ReadingModel | None = None) -> Score:
    interpreter = Interpreter(config, scorer)
    interpreter.reader = reader
    gate = Gate.static(config)
    score = score or Score()
    for row in rows:
        interp = interpreter.interpret(row["text"], now=now)
        out = decide_statically(interp, config, gate)
        score.add(label(row), out, interp.latency_ms, interp.why, now, interpreter.stop_action)
    return score


def by_config(data: Path, rows: list[dict[str, Any]], given: Path | None
              ) -> dict[Path, list[dict[str, Any]]]:
    """The rows grouped by the config they are said to: --config, else each row's own."""
    groups: dict[Path, list[dict[str, Any]]] = {}
    for row in rows:
        path = given or data.parent / row["config"]
        groups.setdefault(path, []).append(row)
    return groups


def with_languages(config: Config, languages: tuple[str, ...]) -> Config:
    return config.model_copy(update={"interpreter": config.interpreter.model_copy(
        update={"languages": languages})})


def frozen_heldout(data: Path) -> str:
    """The date a held-out set was frozen, or '' when the file is no frozen held-out set."""
    frozen = json.loads((HELDOUT / "FROZEN.json").read_text())
    try:
        name = str(data.resolve().relative_to(HELDOUT))
    except ValueError:
        return ""
    entry = frozen.get(name, {})
    return str(entry.get("frozen", "")) if entry.get("status") == "held-out" else ""


def read_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, help="else each line's own `config`")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--no-model", action="store_true", help="matcher only")
    parser.add_argument("--quiet", action="store_true", help="figures only")
    parser.add_argument("--now", type=datetime.fromisoformat, help="NOW of the labels")
    parser.add_argument("--languages", help="the interpreter's languages, e.g. en,de "
                        "(else each config's own [interpreter] languages)")
    parser.add_argument("--show-heldout-misses", action="store_true",
                        help="print the misses of a frozen held-out set (once the work is done)")
    args = parser.parse_args()
    now = args.now.astimezone() if args.now else NOW
    score = Score()
    scorer_name = "none"
    for path, rows in by_config(args.data, read_rows(args.data), args.config).items():
        config = load_config(path)
        if args.languages:
            config = with_languages(config, tuple(args.languages.split(",")))
        scorer = None
        if not args.no_model:
            from agent.interpret import load_scorer

            scorer = load_scorer(config)
            scorer_name = scorer.name
        evaluate(config, rows, scorer, score, now)
    print(score.summary(args.data.name, scorer_name))
    frozen = frozen_heldout(args.data)
    if frozen and not args.show_heldout_misses:
        print(f"(a held-out set frozen on {frozen}: its misses are not shown)")
    elif not args.quiet:
        print("\n".join(score.misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
