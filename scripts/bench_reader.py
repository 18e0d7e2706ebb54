"""Speed and memory of the reading adapter: p50/p95/p99 per request and the process's RSS.

    .venv/bin/python scripts/bench_reader.py [--adapter models/reading-frame.gguf]
        [--task frame] [--threads 2] [--one-core] [--rounds 2]

Requests: every line of the development sets (texts only), read in order after one warm-up
pass over the first 20. --one-core pins the process to one core (sched_setaffinity, as
`taskset -c 0`) with one thread: a bound for a Pi-class core count. The load time includes
evaluating the fixed prefix. The machine may be shared: run it at least twice.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as scripts/NAME.py

from agent.config import load_config
from agent.interpret._binder import listed
from agent.interpret._reader import Reader
from scripts.adapter_data import TRAINED_ON
from scripts.eval_interpreter import pct, read_rows

ROOT = Path(__file__).resolve().parent.parent


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--adapter", type=Path, default=ROOT / "models/reading-frame.gguf")
    parser.add_argument("--task", choices=("frame", "call"), default="frame")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--one-core", action="store_true")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if args.one_core:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        args.threads = 1
    from agent.interpret import bundled_path, catalogue

    base = bundled_path(catalogue()["smollm2-135m-instruct-q4_1"])
    config_path, _ = TRAINED_ON[0]
    texts = [r["text"] for _, data in TRAINED_ON if data.exists() for r in read_rows(data)]
    started = time.perf_counter()
    reader = Reader(base, args.adapter, args.threads, args.task,
                    listed(load_config(config_path)) if args.task == "call" else None)
    load_s = time.perf_counter() - started
    loaded_rss = rss_mb()
    for text in texts[:20]:
        reader.read(text)
    for round_ in range(1, args.rounds + 1):
        latencies = []
        for text in texts:
            started = time.perf_counter()
            reader.read(text)
            latencies.append((time.perf_counter() - started) * 1000)
        print(f"round {round_}: {len(texts)} requests, threads {args.threads}"
              f"{', one core' if args.one_core else ''}: p50 {pct(latencies, 50):.0f} ms, "
              f"p95 {pct(latencies, 95):.0f} ms, p99 {pct(latencies, 99):.0f} ms", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"load {load_s:.2f} s; RSS after load {loaded_rss:.0f} MB, now {rss_mb():.0f} MB, "
          f"peak {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
