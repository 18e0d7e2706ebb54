"""Benchmark a fleet on one broker: N simulated robots (`robot-agent run --sim --no-world`, each
a process of its own, no model), one message on the site's e-stop topic, and how long until each
robot's engaged P/estop/state reaches an observer; then `robot-agent fleet status` over all.

    .venv/bin/python scripts/bench_fleet.py [--robots 20] [--rounds 50]

Latency is from just before the publish on site/estop to the receipt of each robot's retained
P/estop/state saying engaged, by one client on the same machine: the broker's fan-out to N
e-stop connections, N daemons making their outputs safe and saving their latch, and N states
back. Each round, every robot is then reset on its own topic.
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
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.mqtt.connection import no_delay  # noqa: E402
from scripts.bench_core import pct, rss_mb  # noqa: E402
from scripts.bench_link import BROKER, NO_MODEL, SITE_TOPIC, Rig, wait_for  # noqa: E402


class Observer:
    """Every robot's e-stop state, with when it arrived."""

    def __init__(self, port: int) -> None:
        self.cond = threading.Condition()
        self.states: dict[str, tuple[float, dict[str, Any]]] = {}
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-fleet",
                                  protocol=paho.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        no_delay(self.client.socket())
        self.client.subscribe("robots/+/estop/state", qos=1)
        self.client.loop_start()

    def _on_message(self, c: Any, u: Any, msg: paho.MQTTMessage) -> None:
        now = time.perf_counter()
        with self.cond:
            self.states[msg.topic.split("/")[1]] = (now, json.loads(msg.payload))
            self.cond.notify_all()

    def wait_all(self, robots: list[str], engaged: bool, since: float) -> dict[str, float]:
        """When each robot said engaged (or released) after since."""
        def done() -> bool:
            return all(r in self.states and self.states[r][0] >= since and
                       self.states[r][1].get("engaged") is engaged for r in robots)

        with self.cond:
            if not self.cond.wait_for(done, 30):
                late = [r for r in robots if not (r in self.states and
                                                  self.states[r][0] >= since)]
                raise RuntimeError(f"no {'engaged' if engaged else 'released'} state from "
                                   f"{late}")
            return {r: self.states[r][0] for r in robots}


def start_robots(rig: Rig, port: int, count: int) -> list[subprocess.Popen[bytes]]:
    example = (ROOT / "deploy/examples/rover.toml").read_text()
    procs = []
    for i in range(count):
        name = f"r{i:03d}"
        config = rig.tmp / f"{name}.toml"
        config.write_text(example.replace("rover-1", name).replace(
            "port = 1883", f'port = {port}\nsite_estop_topic = "{SITE_TOPIC}"'))
        procs.append(subprocess.Popen(
            [sys.executable, "-c", NO_MODEL, "run", "--config", str(config), "--sim",
             "--no-world"], cwd=ROOT, stderr=subprocess.DEVNULL,
            env={**os.environ, "ROBOT_AGENT_STATE_DIR": str(rig.tmp / name),
                 "PYTHONPATH": str(ROOT)}))
    return procs


# N stand-ins for the robots in one process, each answering the site's e-stop with its engaged
# state as a daemon does: what the broker's fan-out costs without N daemons sharing the cores.
STAND_INS = """
import json, sys, paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from agent.mqtt.connection import no_delay
port, count, topic = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def stand_in(name):
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id=name, protocol=paho.MQTTv5)
    state = f"robots/{name}/estop/state"
    def on_message(client, userdata, msg):
        engaged = msg.topic == topic
        client.publish(state, json.dumps({"engaged": engaged}), qos=1, retain=True)
    c.on_message = on_message
    c.connect("127.0.0.1", port)
    no_delay(c.socket())
    c.subscribe([(topic, 1), (f"robots/{name}/estop/reset", 1)])
    c.publish(state, json.dumps({"engaged": False}), qos=1, retain=True)
    c.loop_start()
    return c
clients = [stand_in(f"s{i:03d}") for i in range(count)]
sys.stdin.read()
"""


def cpu_s(pid: int) -> float:
    """User and system CPU seconds a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fleet_status(rig: Rig, port: int) -> tuple[float, int]:
    """How long `robot-agent fleet status` took, and how many robots it listed."""
    config = rig.tmp / "r000.toml"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "agent.cli", "fleet", "status", "--config",
                           str(config), "--prefix", "robots/+"], capture_output=True,
                          text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    elapsed = time.perf_counter() - start
    return elapsed, len([line for line in done.stdout.splitlines() if line.startswith("robots/")])


def site_estops(observer: Observer, robots: list[str], rounds: int
                ) -> tuple[dict[str, list[float]], list[float]]:
    """Each round: the site's e-stop, every robot engaged, every robot reset on its own topic.
    ms to each robot's engaged state, and to the last robot's."""
    per_robot: dict[str, list[float]] = {r: [] for r in robots}
    last: list[float] = []
    for i in range(rounds):
        start = time.perf_counter()
        observer.client.publish(SITE_TOPIC, "bench", qos=1)
        arrived = observer.wait_all(robots, True, start)
        for robot, at in arrived.items():
            per_robot[robot].append((at - start) * 1000)
        last.append((max(arrived.values()) - start) * 1000)
        reset = time.perf_counter()
        for robot in robots:
            observer.client.publish(f"robots/{robot}/estop/reset",
                                    json.dumps({"id": f"r{i}", "reason": "bench"}), qos=1)
        observer.wait_all(robots, False, reset)
        time.sleep(0.05)
    return per_robot, last


def report(per_robot: dict[str, list[float]], last: list[float], who: str) -> None:
    every = [ms for values in per_robot.values() for ms in values]
    print(f"site e-stop -> each robot's engaged state, {who}: n={len(every)} "
          f"p50={pct(every, 50):.1f} ms p99={pct(every, 99):.1f} ms max={max(every):.1f} ms")
    print(f"site e-stop -> the last one engaged, {who}: n={len(last)} p50={pct(last, 50):.1f} "
          f"ms p99={pct(last, 99):.1f} ms max={max(last):.1f} ms")
    p50s = sorted(pct(v, 50) for v in per_robot.values())
    p99s = sorted(pct(v, 99) for v in per_robot.values())
    print(f"  per robot: p50 from {p50s[0]:.1f} to {p50s[-1]:.1f} ms, p99 from {p99s[0]:.1f} "
          f"to {p99s[-1]:.1f} ms")
    for robot, values in per_robot.items():
        print(f"  {robot}: p50={pct(values, 50):.1f} ms p99={pct(values, 99):.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--robots", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    if shutil.which("mosquitto") is None:
        sys.exit("mosquitto is not installed: run scripts/setup")
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d %H:%M')}, {args.robots} robots, {args.rounds} rounds")
    rig = Rig(Path(tempfile.mkdtemp(prefix="bench-fleet-")))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        port = rig.broker(BROKER)
        observer = Observer(port)
        procs = start_robots(rig, port, args.robots)
        robots = [f"r{i:03d}" for i in range(args.robots)]
        started = time.perf_counter()
        wait_for(lambda: all(r in observer.states for r in robots), 120, "not every robot came")
        took = time.perf_counter() - started
        print(f"all {args.robots} robots said their e-stop state {took:.1f} s after starting")
        time.sleep(2.0)  # settled
        before = sum(cpu_s(p.pid) for p in procs)
        time.sleep(10.0)
        idle = (sum(cpu_s(p.pid) for p in procs) - before) / 10.0
        print(f"idle, all {args.robots} daemons together: {idle * 100:.0f} % of one core")
        per_robot, last = site_estops(observer, robots, args.rounds)
        report(per_robot, last, f"{args.robots} robots")
        rss = [rss_mb(p.pid) for p in procs]
        print(f"daemon RSS: {sum(rss) / len(rss):.0f} MB each, {sum(rss):.0f} MB in all; "
              f"broker RSS {rss_mb(rig.brokers[0].pid):.0f} MB")
        listing, listed = fleet_status(rig, port)
        print(f"robot-agent fleet status: {listed} robots listed in {listing:.2f} s")
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
        procs = []
        stand_ins = subprocess.Popen([sys.executable, "-c", STAND_INS, str(port),
                                      str(args.robots), SITE_TOPIC], stdin=subprocess.PIPE,
                                     cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            names = [f"s{i:03d}" for i in range(args.robots)]
            wait_for(lambda: all(n in observer.states for n in names), 60, "stand-ins")
            time.sleep(1.0)
            stand_per, stand_last = site_estops(observer, names, args.rounds)
            report(stand_per, stand_last, f"{args.robots} stand-ins in one process (the "
                                          "broker's fan-out, no daemons)")
        finally:
            stand_ins.terminate()
            stand_ins.wait(10)
        observer.client.loop_stop()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)
        rig.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
