"""Soak: the daemon under steady mixed load for a while, memory sampled throughout.

    .venv/bin/python scripts/soak.py [--minutes 10]

Load: a 1,000 msg/s sensor flood, structured commands at 20/s, asks at 2/s (half of them
scored by the model), an e-stop and reset every 10 s. Prints the RSS of the daemon and of its
model worker every 30 s, and the growth of each from the first minute's sample to the last
(target: under 5 %). Runs on demand, not in CI.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench_core import FLOODS, P, free_port, rss_mb, start_rover, worker_rss_mb  # noqa: E402
from tests.conftest import connect_client  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="soak-"))
    port = free_port()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        daemon = start_rover(tmp, port, procs)
        client = connect_client(port)
        client.wait_for(f"{P}/status", lambda s: s.get("model") == "ready", timeout=60)
        procs.append(subprocess.Popen([sys.executable, "-c", FLOODS["mosquitto_pub"], str(port),
                                       "1000",
                                       f"{P}/sensors/front_distance"],
                                      stdout=subprocess.DEVNULL))
        started = time.monotonic()
        end = started + args.minutes * 60
        samples: list[tuple[float, float, float]] = []
        next_sample, i = started, 0
        while time.monotonic() < end:
            i += 1
            client.client.publish(f"{P}/cmd", json.dumps(
                {"id": f"c{i}", "action": "turn" if i % 2 else "headlight_on",
                 "params": {"direction": "left", "degrees": 5} if i % 2 else {}}))
            if i % 10 == 0:
                text = "turn left 10 degrees" if i % 20 else f"what is the weather {i}"
                client.client.publish(f"{P}/ask", json.dumps({"id": f"a{i}", "text": text}))
            if i % 200 == 0:
                client.client.publish(f"{P}/estop", "")
                time.sleep(0.05)
                client.client.publish(f"{P}/estop/reset",
                                      json.dumps({"id": f"r{i}", "reason": "soak"}))
            if i % 100 == 0:
                client.forget()
                client.history.clear()
                client.mark = 0
            if time.monotonic() >= next_sample:
                samples.append((time.monotonic() - started, rss_mb(daemon.pid),
                                worker_rss_mb(daemon.pid)))
                print(f"{samples[-1][0]:6.0f} s  RSS daemon {samples[-1][1]:.1f} MB, "
                      f"model worker {samples[-1][2]:.1f} MB", flush=True)
                next_sample += 30
            time.sleep(0.05)
        first = next((s for s in samples if s[0] >= 60), samples[0])
        last = (0.0, rss_mb(daemon.pid), worker_rss_mb(daemon.pid))
        for name, i in (("daemon", 1), ("model worker", 2)):
            print(f"soak {args.minutes:g} min: {name} RSS {first[i]:.1f} MB at 1 min -> "
                  f"{last[i]:.1f} MB at the end ({100 * (last[i] - first[i]) / first[i]:+.2f} %)")
        together = (first[1] + first[2], last[1] + last[2])
        print(f"soak {args.minutes:g} min: both RSS {together[0]:.1f} MB at 1 min -> "
              f"{together[1]:.1f} MB at the end "
              f"({100 * (together[1] - together[0]) / together[0]:+.2f} %)")
        print(f"daemon alive: {daemon.poll() is None}")
        return 0 if daemon.poll() is None else 1
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    sys.exit(main())
