"""Every labelled set with and without the local model: what the model changes.

    .venv/bin/python scripts/ablation.py [--threads N]

One markdown row per set and mode: in-scope accuracy, none-lines right, executed-wrong, how
often a line that was asked back (or refused) named the label's action, latency percentiles;
then the process's peak RSS. The model only ever chooses which action to name when the matcher
ties, or suggests one when no word matched: it never makes anything run, so accuracy and
executed-wrong cannot change with it; what can is the action a question back names, and time.
"""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as scripts/NAME.py

from agent.config import load_config
from scripts.calibrate import DEVELOPMENT, HELD_OUT, HELDOUT_NOW, LANGUAGES
from scripts.eval_interpreter import (
    NOW,
    Score,
    by_config,
    evaluate,
    pct,
    read_rows,
    with_languages,
)


def row(name: str, mode: str, score: Score) -> str:
    def share(right: int, of: int) -> str:
        return f"{right / of:.3f} ({right}/{of})" if of else "-"

    return (f"| {name} | {mode} | {share(score.in_scope_right, score.in_scope)} | "
            f"{share(score.none_right, score.none_lines)} | {score.executed_wrong} | "
            f"{share(score.named_right, score.asked_back)} | {pct(score.latencies, 50):.1f} | "
            f"{pct(score.latencies, 95):.1f} | {pct(score.latencies, 99):.1f} |")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=0, help="model threads (default: config)")
    args = parser.parse_args()
    from agent.interpret import load_scorer

    print("| set | model | in-scope accuracy | none lines right | executed wrong | asked back "
          "naming the right action | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for config_path, data in [*DEVELOPMENT, *HELD_OUT]:
        if not data.exists():
            continue
        now = NOW if config_path else HELDOUT_NOW
        without, with_model = Score(), Score()
        for path, rows in by_config(data, read_rows(Path(data)), config_path).items():
            config = with_languages(load_config(path), LANGUAGES)
            if args.threads:
                config = config.model_copy(update={"model": config.model.model_copy(
                    update={"threads": args.threads})})
            evaluate(config, rows, score=without, now=now)
            evaluate(config, rows, load_scorer(config), with_model, now)
        print(row(data.name, "without", without), flush=True)
        print(row(data.name, "with", with_model), flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process (model loaded once per config): {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
