"""Score the interpreter on labelled utterances (scoring rules: ../shared/eval/README.md).

    .venv/bin/python scripts/eval_interpreter.py --config CONFIG --data FILE.jsonl [--no-model]

Prints accuracy, executed-wrong, latency percentiles and process RSS, then every miss.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from pathlib import Path

from agent.config import load_config
from agent.gate import Gate
from agent.interpret import Interpreter
from agent.text_decisions import decide_statically


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--no-model", action="store_true", help="matcher only")
    parser.add_argument("--quiet", action="store_true", help="figures only")
    args = parser.parse_args()
    config = load_config(args.config)
    scorer = None
    if not args.no_model:
        from agent.interpret import load_scorer

        scorer = load_scorer(config)
    interpreter = Interpreter(config, scorer)
    gate = Gate.static(config)
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    right = wrong = 0
    latencies = []
    misses = []
    for row in rows:
        interp = interpreter.interpret(row["text"])
        out = decide_statically(interp, config, gate)
        latencies.append(interp.latency_ms)
        expect = row["expect"]
        executed = out.decision == "execute"
        if expect in ("none", "refuse"):
            ok = not executed
        else:
            ok = executed and out.action == expect and params_match(row.get("params", {}),
                                                                    out.params)
        right += ok
        wrong += executed and not ok
        if not ok:
            misses.append(f"{'WRONG' if executed else 'miss '} want={expect} got={out.action} "
                          f"{out.decision}/{out.reason} conf={out.confidence} "
                          f"params={out.params} | {row['text']} | {interp.why}")
    n = len(rows)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.data.name}: n={n} accuracy={right / n:.3f} executed_wrong={wrong / n:.3f} "
          f"({wrong}) latency p50={pct(latencies, 50):.1f} ms p95={pct(latencies, 95):.1f} ms "
          f"p99={pct(latencies, 99):.1f} ms max_rss={rss:.0f} MB "
          f"scorer={scorer.name if scorer else 'none'}")
    if not args.quiet:
        print("\n".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
