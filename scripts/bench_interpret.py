"""CPU time of the interpreter alone, per sentence, in this process: the SLURP dev sentences on
the home config and three rover sentences (a question, a request, a negation), five passes
after a warm-up. CPU time (process_time), not wall time, so a shared machine's load moves it
less than it moves bench_text.py's round trips.

    .venv/bin/python scripts/bench_interpret.py [--code OTHER_CHECKOUT]

--code imports the interpreter of another checkout (run it in a fresh process per checkout),
to compare before and after in one session.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SLURP_DEV = ROOT.parent / "shared/eval/slurp-devel-home.jsonl"
ROVER = ["is the headlight on?", "switch the headlight off", "don't switch the headlight on"]
PASSES = 5


def per_sentence(interpreter: Any, texts: list[str]) -> list[float]:
    """Milliseconds of CPU per interpretation, every pass."""
    now = datetime(2026, 12, 9, 10).astimezone()
    for text in texts:
        interpreter.interpret(text, now)  # warm: caches, dateparser's first call
    spent = []
    for _ in range(PASSES):
        for text in texts:
            started = time.process_time()
            interpreter.interpret(text, now)
            spent.append((time.process_time() - started) * 1000)
    return sorted(spent)


def figures(spent: list[float]) -> str:
    def at(q: float) -> float:
        return spent[min(len(spent) - 1, int(len(spent) * q))]
    return f"n={len(spent)} p50={at(0.5):.3f} ms p95={at(0.95):.3f} ms p99={at(0.99):.3f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout to import")
    args = parser.parse_args()
    code = args.code.resolve()
    sys.path.insert(0, str(code))
    from agent.config import load_config
    from agent.interpret import Interpreter

    print(f"machine: {platform.machine()}, code: {code}")
    rover = Interpreter(load_config(code / "deploy/examples/rover.toml"))
    print(f"rover, three sentences: {figures(per_sentence(rover, ROVER * 50))}")
    if SLURP_DEV.exists():
        home = Interpreter(load_config(code / "scripts/eval-data/home-rover.toml"))
        texts = [json.loads(line)["text"] for line in SLURP_DEV.read_text().splitlines()
                 if line.strip()]
        print(f"SLURP dev ({len(texts)}): {figures(per_sentence(home, texts))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
