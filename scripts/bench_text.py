"""Benchmark text through the running daemon: a state question, a plain request, a negation,
each from the publish on P/ask to its first result. Starts its own mosquitto and daemon (the
example rover, in simulation, with the model) and prints figures.

    .venv/bin/python scripts/bench_text.py [--rounds 200] [--code OTHER_CHECKOUT]

--code runs the daemon of another checkout, to compare before and after on the same machine
under the same load (a checkout from before sentence forms executes the question instead).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as scripts/NAME.py

from scripts.bench_core import (
    ROOT,
    P,
    Probe,
    free_port,
    memory,
    start_rover,
    stop_all,
    summary,
)

TEXTS = {
    "state question": "is the headlight on?",
    "plain request": "switch the headlight off",
    "negated request": "don't switch the headlight on",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout to run")
    args = parser.parse_args()
    if shutil.which("mosquitto") is None:
        sys.exit("mosquitto is not installed: run scripts/setup")
    tmp = Path(tempfile.mkdtemp(prefix="bench-text-"))
    port = free_port()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        daemon = start_rover(tmp, port, procs, code=args.code.resolve())
        probe = Probe(port)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and probe.got.get(f"{P}/status", (0, {}))[1].get(
                "model") not in ("ready", "failed"):
            time.sleep(0.1)
        time.sleep(1.0)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average "
              f"{os.getloadavg()[0]:.2f}; code: {args.code}; model "
              f"{probe.got[f'{P}/status'][1].get('model')}")
        for name, text in TEXTS.items():
            ms = [probe.round_trip(f"{P}/ask", json.dumps({"id": f"{name}{i}", "text": text}),
                                   f"{P}/result", lambda r, i=i, n=name: r["id"] == f"{n}{i}")
                  for i in range(args.rounds)]
            reply = probe.got[f"{P}/result"][1]
            print(summary(f"{name} ({text!r} -> {reply['decision']}/{reply['status']})", ms))
        print(f"load average after: {os.getloadavg()[0]:.2f}; {memory(daemon.pid)}")
        return 0
    finally:
        stop_all(procs, tmp)


if __name__ == "__main__":
    sys.exit(main())
