"""Benchmark reactions: from a sensor message to the outputs safe, idle, with the model busy,
and with the command queue busy. Starts its own mosquitto and daemon; prints figures.

    .venv/bin/python scripts/bench_reactions.py [--rounds 1000] [--events 300]

Each round starts a long turn, then publishes one reading that crosses a reaction's line (or
an event that fits a reaction's meaning) and times, on a client on the same machine, from just
before that publish to the receipt of the drive's retained state saying both motors are at 0:
the broker, loopback TCP both ways, the reaction on the daemon's MQTT thread, the gate and the
outputs. Also the daemon's own latency_ms of each firing (from the sensor message's arrival to
its result).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench_core import (  # noqa: E402
    ASKER,
    P,
    Probe,
    prepare,
    start_rover,
    stop_all,
    summary,
)

BENCH = f"""
[sensors.bench_distance]
topic = "{P}/sensors/bench_distance"
max_age_s = 5.0
[sensors.bench_camera]
topic = "{P}/events/bench_camera"
kind = "event"
max_age_s = 5.0
[reactions.bench_stop]
when = {{ sensor = "bench_distance", below = 0.5, clear = 0.6 }}
while_running = ["turn"]
do = {{ action = "stop" }}
[reactions.bench_event]
when = {{ event = "bench_camera", means = "a person is in the way" }}
while_running = ["turn"]
do = {{ action = "stop" }}
"""

# Keeps the command worker's queue full: bursts of 60 light commands (its queue holds 64),
# ten bursts a second.
COMMANDER = """
import sys, time, json
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
port, topic = int(sys.argv[1]), sys.argv[2]
c = paho.Client(CallbackAPIVersion.VERSION2, client_id="commander")
c.connect("127.0.0.1", port); c.loop_start()
i = 0
while True:
    for _ in range(60):
        c.publish(topic, json.dumps({"id": f"busy{i}", "action": "headlight_on"}), qos=0)
        i += 1
    time.sleep(0.1)
"""


class Firings:
    """The daemon's own latency_ms of each reaction firing, from its results."""

    def __init__(self, probe: Probe) -> None:
        self.ms: list[float] = []
        self.lock = threading.Lock()
        probe.client.message_callback_add(f"{P}/result", self._on_result)

    def _on_result(self, c: Any, u: Any, msg: Any) -> None:
        result = json.loads(msg.payload)
        if str(result.get("id", "")).startswith("reaction:bench_"):
            with self.lock:
                self.ms.append(float(result["latency_ms"]))

    def take(self) -> list[float]:
        with self.lock:
            taken, self.ms = self.ms, []
        return taken


def moving(state: dict[str, Any]) -> bool:
    return bool(state.get("left") or state.get("right"))


def start_turn(probe: Probe, tries: int = 20) -> None:
    """A long turn, sent again while a full command queue answers busy."""
    turn = {"action": "turn", "params": {"direction": "left", "degrees": 360}}
    for _ in range(tries):
        try:
            probe.round_trip(f"{P}/cmd", json.dumps({"id": f"t{time.monotonic_ns()}", **turn}),
                             f"{P}/state/drive", moving, timeout=0.5)
            return
        except RuntimeError:
            continue
    raise RuntimeError(f"the turn did not start in {tries} tries")


def rounds(probe: Probe, n: int, trigger: Any) -> list[float]:
    """n firings: a turn starts, then the trigger's message stops it; ms to the motors at 0."""
    drive = f"{P}/state/drive"
    latencies = []
    for i in range(n):
        rearm, topic, payload = trigger(i)
        if rearm:
            probe.client.publish(rearm[0], rearm[1], qos=1)
        start_turn(probe)
        time.sleep(random.uniform(0.01, 0.03))
        latencies.append(probe.round_trip(topic, payload, drive, lambda s: not moving(s)))
    return latencies


def crossing(i: int) -> tuple[tuple[str, str], str, str]:
    return (f"{P}/sensors/bench_distance", "2.0"), f"{P}/sensors/bench_distance", "0.2"


def event(i: int) -> tuple[None, str, str]:
    return None, f"{P}/events/bench_camera", f"someone is in the way ({i})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args()
    tmp, port, procs = prepare()
    try:
        start_rover(tmp, port, procs, extra=BENCH)
        probe = Probe(port)
        probe.client.subscribe(f"{P}/state/drive", 1)
        firings = Firings(probe)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and probe.got.get(f"{P}/status", (0, {}))[1].get(
                "model") not in ("ready", "failed"):
            time.sleep(0.1)
        model = probe.got[f"{P}/status"][1].get("model")
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
              f"{platform.python_implementation()} {platform.python_version()}; model {model}; "
              f"load average {os.getloadavg()[0]:.2f}")
        for label, load in (("idle", None), ("model busy on a stream of asks", ASKER),
                            ("command queue full (bursts of 60 commands, 10 a second)", COMMANDER)):
            extra = None
            if load is not None:
                topic = f"{P}/ask" if load is ASKER else f"{P}/cmd"
                extra = subprocess.Popen([sys.executable, "-c", load, str(port), topic])
                procs.append(extra)
                time.sleep(2.0)
            firings.take()
            print(summary(f"reading crosses -> outputs safe, {label}",
                          rounds(probe, args.rounds, crossing)))
            time.sleep(0.2)  # the last firing's result follows its device state
            print(summary("  inside the daemon (latency_ms)", firings.take()))
            print(summary(f"event fits -> outputs safe, {label}",
                          rounds(probe, args.events, event)))
            time.sleep(0.2)
            print(summary("  inside the daemon (latency_ms)", firings.take()))
            if extra is not None:
                extra.terminate()
                extra.wait(5)
                time.sleep(1.0)
        return 0
    finally:
        stop_all(procs, tmp)


if __name__ == "__main__":
    sys.exit(main())
