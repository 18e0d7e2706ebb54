"""Benchmark the daemon core: e-stop latency (idle and under a sensor flood), structured command
latency, and the daemon's memory. Starts its own mosquitto and daemon; prints figures.

    .venv/bin/python scripts/bench_core.py [--rounds 300] [--flood-rate 5000]
        [--flood-client mosquitto_pub|paho|both] [--daemon-nice N]

E-stop latency is measured from just before the publish of P/estop to the receipt of the retained
P/estop/state saying engaged, by a client on the same machine: it includes the broker, both
directions of loopback TCP, and the daemon making every output safe and saving the latch.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from agent.mqtt.connection import no_delay

ROOT = Path(__file__).resolve().parent.parent
P = "robots/bench"

# The flood is published by mosquitto_pub (C), paced from here: the flood is the stimulus, not
# the system under test. Or by a Python paho client, as a robot stack in Python would publish
# its sensors (it takes about half a core of the two itself).
FLOODS: dict[str, str] = {}
FLOODS["mosquitto_pub"] = """
import fcntl, subprocess, sys, time
port, rate, topic = sys.argv[1], int(sys.argv[2]), sys.argv[3]
pub = subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-t", topic, "-l",
                        "-q", "0"], stdin=subprocess.PIPE)
fcntl.fcntl(pub.stdin, fcntl.F_SETPIPE_SZ, 4096)  # so the rate printed is the rate sent
sent, start, batch = 0, time.monotonic(), max(1, rate // 200)
while True:
    pub.stdin.write(b"1.5\\n" * batch); pub.stdin.flush(); sent += batch
    ahead = sent / rate - (time.monotonic() - start)
    if ahead > 0:
        time.sleep(ahead)
    if sent % rate == 0:
        print(sent / (time.monotonic() - start), flush=True)
"""
FLOODS["paho"] = """
import sys, time
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
port, rate, topic = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = paho.Client(CallbackAPIVersion.VERSION2, client_id="flood")
c.connect("127.0.0.1", port)
c.loop_start()
sent, start, batch = 0, time.monotonic(), max(1, rate // 200)
while True:
    for _ in range(batch):
        c.publish(topic, b"1.5", qos=0)
    sent += batch
    ahead = sent / rate - (time.monotonic() - start)
    if ahead > 0:
        time.sleep(ahead)
    if sent % rate == 0:
        print(sent / (time.monotonic() - start), flush=True)
"""


# A mix as a user might send: clear commands, an out-of-scope question, an unclear one.
ASKS = ["turn left 45 degrees", "switch the headlight on", "stop", "what time is it",
        "back up 20 centimetres", "make it nicer"]


# Keeps the interpreter busy: text no action shares a word with is scored by the model over
# every action (~150-300 ms each), several a second, so the queue stays full.
ASKER = """
import sys, time, json
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
port, topic = int(sys.argv[1]), sys.argv[2]
c = paho.Client(CallbackAPIVersion.VERSION2, client_id="asker")
c.connect("127.0.0.1", port); c.loop_start()
i = 0
while True:
    c.publish(topic, json.dumps({"id": f"busy{i}", "text": f"tell me a long story {i}"}), qos=0)
    i += 1
    time.sleep(0.05)
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(name: str, ms: list[float]) -> str:
    return (f"{name}: n={len(ms)} p50={pct(ms, 50):.2f} ms p95={pct(ms, 95):.2f} ms "
            f"p99={pct(ms, 99):.2f} ms max={max(ms):.2f} ms")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker_rss_mb(pid: int) -> float:
    """The RSS of the daemon's child processes (the model worker), summed."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return sum(rss_mb(int(child)) for child in children)


def memory(pid: int) -> str:
    return f"daemon RSS {rss_mb(pid):.0f} MB + model worker {worker_rss_mb(pid):.0f} MB"


class Probe:
    """Publishes and waits for the matching reply, timing the round trip."""

    def __init__(self, port: int) -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench",
                                  protocol=paho.MQTTv5)
        self.cond = threading.Condition()
        self.got: dict[str, tuple[float, Any]] = {}
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        no_delay(self.client.socket())
        self.client.subscribe([(f"{P}/estop/state", 1), (f"{P}/result", 1), (f"{P}/status", 1)])
        self.client.loop_start()

    def _on_message(self, c: Any, u: Any, msg: paho.MQTTMessage) -> None:
        now = time.perf_counter()
        with self.cond:
            self.got[msg.topic] = (now, json.loads(msg.payload))
            self.cond.notify_all()

    def round_trip(self, topic: str, payload: str, reply: str, match: Any,
                   timeout: float = 5.0) -> float:
        with self.cond:
            self.got.pop(reply, None)
        start = time.perf_counter()
        self.client.publish(topic, payload, qos=1)
        with self.cond:
            ok = self.cond.wait_for(lambda: reply in self.got and match(self.got[reply][1]),
                                    timeout)
            if not ok:
                raise RuntimeError(f"no reply on {reply}")
            return (self.got[reply][0] - start) * 1000


def estop_rounds(probe: Probe, rounds: int) -> list[float]:
    """Each round an e-stop and its reset. Rounds start 10-30 ms apart, at random: each e-stop
    meets the load afresh (not the previous round's tail), at a random phase of the flood."""
    latencies = []
    for i in range(rounds):
        time.sleep(random.uniform(0.01, 0.03))
        latencies.append(probe.round_trip(f"{P}/estop", "", f"{P}/estop/state",
                                          lambda s: s["engaged"]))
        probe.round_trip(f"{P}/estop/reset", json.dumps({"id": f"r{i}", "reason": "bench"}),
                         f"{P}/estop/state", lambda s: not s["engaged"])
    return latencies


def start_rover(tmp: Path, port: int, procs: list[subprocess.Popen[bytes]], *, extra: str = "",
                code: Path = ROOT, nice: int = 0) -> subprocess.Popen[bytes]:
    """A mosquitto (set_tcp_nodelay, as shipped) and the daemon on the example rover config
    with its rate limits lifted (plus extra config), in simulation; both appended to procs for
    the caller to end. code: the checkout whose daemon runs (another one, to compare before
    and after)."""
    (tmp / "m.conf").write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                                "set_tcp_nodelay true\n")
    # the checkout's own example: an older daemon does not know a newer config's keys
    config = (code / "deploy/examples/rover.toml").read_text()
    for old, new in (("port = 1883", f"port = {port}"),
                     ('prefix = "robots/rover-1"', f'prefix = "{P}"'),
                     ("max_actions_per_min = 120", "max_actions_per_min = 100000"),
                     ("rate_per_min = 30", "rate_per_min = 100000")):
        config = config.replace(old, new)
    (tmp / "config.toml").write_text(config + extra)
    procs.append(subprocess.Popen(["mosquitto", "-c", str(tmp / "m.conf")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(0.5)
    env = {**os.environ, "ROBOT_AGENT_STATE_DIR": str(tmp / "state")}
    daemon = subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "--config",
                               str(tmp / "config.toml"), "--sim"], env=env, cwd=code,
                              stderr=subprocess.DEVNULL,
                              preexec_fn=(lambda: os.nice(nice)) if nice else None)
    procs.append(daemon)
    return daemon


def prepare() -> tuple[Path, int, list[subprocess.Popen[bytes]]]:
    """A temporary folder, a free port, and the list of processes stop_all ends."""
    if shutil.which("mosquitto") is None:
        sys.exit("mosquitto is not installed: run scripts/setup")
    return Path(tempfile.mkdtemp(prefix="bench-")), free_port(), []


def stop_all(procs: list[subprocess.Popen[bytes]], tmp: Path) -> None:
    for proc in reversed(procs):
        proc.terminate()
        proc.wait(10)
    shutil.rmtree(tmp, ignore_errors=True)


def flooded_phase(probe: Probe, procs: list[subprocess.Popen[bytes]], pid: int, port: int,
                  args: argparse.Namespace, client: str) -> None:
    """The e-stop and commands under a sensor flood published by client, then the e-stop with
    the model kept busy as well."""
    flood = subprocess.Popen([sys.executable, "-c", FLOODS[client], str(port),
                              str(args.flood_rate), f"{P}/sensors/front_distance"],
                             stdout=subprocess.PIPE, text=True)
    procs.append(flood)  # type: ignore[arg-type]
    time.sleep(2.0)
    flooded = estop_rounds(probe, args.rounds)
    achieved = flood.stdout.readline().strip() if flood.stdout else "?"
    label = f"{client} flood at {args.flood_rate} msg/s (measured {float(achieved):.0f} msg/s)"
    print(summary(f"e-stop latency, {label}", flooded))
    cmd_flood = [probe.round_trip(f"{P}/cmd", json.dumps({"id": f"f{client}{i}",
                                                          "action": "stop"}),
                                  f"{P}/result", lambda r, i=i: r["id"] == f"f{client}{i}")
                 for i in range(args.commands)]
    print(summary(f"structured command -> result, {label}", cmd_flood))
    print(f"after the flood: {memory(pid)}")
    asker = subprocess.Popen([sys.executable, "-c", ASKER, str(port), f"{P}/ask"])
    procs.append(asker)
    time.sleep(2.0)
    busy = estop_rounds(probe, args.rounds)
    print(summary(f"e-stop latency, model busy on a stream of asks + {label}", busy))
    asker.terminate()
    asker.wait(5)
    flood.terminate()
    flood.wait(5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--flood-rate", type=int, default=5000)
    parser.add_argument("--flood-client", choices=[*FLOODS, "both"], default="both",
                        help="who publishes the sensor flood")
    parser.add_argument("--daemon-nice", type=int, default=0,
                        help="run the daemon at this nice value (the unit says -5; needs root)")
    args = parser.parse_args()
    tmp, port, procs = prepare()
    try:
        daemon = start_rover(tmp, port, procs, nice=args.daemon_nice)
        probe = Probe(port)
        deadline = time.monotonic() + 30
        while f"{P}/status" not in probe.got and time.monotonic() < deadline:
            time.sleep(0.05)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
              f"{platform.python_implementation()} {platform.python_version()}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and probe.got[f"{P}/status"][1].get("model") not in (
                "ready", "failed"):
            time.sleep(0.1)
        time.sleep(1.0)
        model = probe.got[f"{P}/status"][1].get("model")
        print(f"after start, model {model}: {memory(daemon.pid)}")
        print(summary("e-stop latency, idle", estop_rounds(probe, args.rounds)))

        cmd_ms = [probe.round_trip(f"{P}/cmd", json.dumps({"id": f"c{i}", "action": "stop"}),
                                   f"{P}/result", lambda r, i=i: r["id"] == f"c{i}")
                  for i in range(args.commands)]
        print(summary("structured command -> result (stop)", cmd_ms))

        for name in FLOODS if args.flood_client == "both" else [args.flood_client]:
            flooded_phase(probe, procs, daemon.pid, port, args, name)
        time.sleep(1.0)
        ask_ms = [probe.round_trip(f"{P}/ask", json.dumps({"id": f"a{i}", "text": text}),
                                   f"{P}/result", lambda r, i=i: r["id"] == f"a{i}")
                  for i, text in enumerate(ASKS * 20)]
        print(summary("ask -> first result (text through matcher, model and gate)", ask_ms))
        print(f"after {len(ask_ms)} asks: {memory(daemon.pid)}")
        return 0
    finally:
        stop_all(procs, tmp)


if __name__ == "__main__":
    sys.exit(main())
