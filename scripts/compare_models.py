"""Each model alone as a classifier: top-1 over every action and 'none' on labelled data.

    .venv/bin/python scripts/compare_models.py --config C --data D [--model-path GGUF]

This is how the default model was chosen (docs/interpreter.md): it measures what the model
itself knows, with the same calibrated scoring the interpreter uses.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from agent.config import load_config
from agent.interpret import load_scorer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model-path", default="")
    args = parser.parse_args()
    config = load_config(args.config)
    config = config.model_copy(update={"model": config.model.model_copy(
        update={"path": args.model_path})})
    started = time.perf_counter()
    scorer = load_scorer(config)
    load_s = time.perf_counter() - started
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    names = [*config.actions, "none"]
    right = actions_right = n_actions = 0
    confident = confident_right = 0
    latencies = []
    for row in rows:
        started = time.perf_counter()
        probs = scorer.score(row["text"], names)
        latencies.append((time.perf_counter() - started) * 1000)
        best = max(probs, key=lambda a: probs[a])
        right += best == row["expect"]
        if row["expect"] != "none":
            n_actions += 1
            actions_right += best == row["expect"]
        if best != "none" and probs[best] >= 0.7:
            confident += 1
            confident_right += best == row["expect"]
    latencies.sort()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{scorer.name}: load {load_s:.1f} s, top-1 {right / len(rows):.3f}, on action "
          f"utterances {actions_right / n_actions:.3f}, precision at p>=0.7 "
          f"{confident_right}/{confident}, p50 {latencies[len(latencies) // 2]:.0f} ms, "
          f"max RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
