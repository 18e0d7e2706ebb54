"""Benchmark scheduled actions: how late they fire. Starts its own mosquitto and an in-process
daemon on simulated pins, schedules --count untimed actions a few tens of milliseconds apart
(with random offsets, so no two are due together and none lines up with the timer's naps), and
prints the lateness of each against its due time:

- due -> record: the `ts` of the action's decision record, taken by the daemon as it publishes
  the result (the timer, the gate, the output and the journal line);
- due -> result at a client: when a subscriber on the same machine receives the result (the
  above, plus the broker and loopback TCP both ways).

    .venv/bin/python scripts/bench_schedules.py [--count 200] [--spacing-ms 50]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.core.protocol import InputKind, Route  # noqa: E402
from scripts.bench_core import summary  # noqa: E402
from tests.conftest import Broker, connect_client, make_config, start_daemon  # noqa: E402


class Receiver:
    """Notes when each result and each record arrives, by request id."""

    def __init__(self, port: int) -> None:
        self.results: dict[str, float] = {}
        self.records: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"bench-{uuid.uuid4().hex[:6]}")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe([("robots/t/result", 1), ("robots/t/events", 1)])
        self.client.loop_start()

    def _on_message(self, c: Any, u: Any, msg: paho.MQTTMessage) -> None:
        arrived = time.time()
        data = json.loads(msg.payload)
        if data.get("route") != "schedule":
            return
        with self.lock:
            if msg.topic.endswith("/result"):
                self.results.setdefault(data["id"], arrived)
            else:
                self.records.setdefault(data["id"], data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--spacing-ms", type=float, default=50.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-schedules-"))
    broker = Broker.local(tmp)
    port = broker.port
    client = connect_client(port, "robots/t/status")
    config = make_config(port, f"\n[schedules]\nmax_pending = {args.count}\n")
    running = start_daemon(config, tmp / "state", client)
    receiver = Receiver(port)
    rng = random.Random(1)
    try:
        start = datetime.now().astimezone() + timedelta(seconds=1.0)
        due: dict[str, datetime] = {}
        for i in range(args.count):
            at = start + timedelta(milliseconds=i * args.spacing_ms +
                                   rng.uniform(0, args.spacing_ms / 2))
            rid = f"b{i}"
            accepted = running.daemon.schedules.add(
                request_id=rid, input_kind=InputKind.CMD, action="lights_color",
                params={"color": rng.choice(["red", "green", "blue"])}, at=at, text=None,
                recurring=None, reply=None, confidence=None, route=Route.DIRECT)
            assert accepted.status == "scheduled", accepted
            due[rid] = at
        last = max(due.values())
        time.sleep(max(0.0, (last - datetime.now().astimezone()).total_seconds()) + 2.0)
        with receiver.lock:
            missing = [rid for rid in due if rid not in receiver.results]
            at_client = [1000 * (receiver.results[rid] - due[rid].timestamp())
                         for rid in due if rid in receiver.results]
            at_record = [1000 * (receiver.records[rid]["ts"] - due[rid].timestamp())
                         for rid in due if rid in receiver.records]
            statuses = {receiver.records[rid]["status"] for rid in receiver.records}
        print(f"{args.count} schedules, {args.spacing_ms:g} ms apart; load average "
              f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; statuses {sorted(statuses)}")
        print(summary("due -> record (daemon)", at_record))
        print(summary("due -> result at a client", at_client))
        if missing:
            print(f"MISSING: {len(missing)} results never arrived: {missing[:10]}")
        early = [ms for ms in at_record if ms < -1.0]  # the record's ts is rounded to 1 ms
        if early:
            print(f"EARLY: {len(early)} fired before their time")
        return 1 if missing or early else 0
    finally:
        receiver.client.loop_stop()
        receiver.client.disconnect()
        running.stop()
        client.client.loop_stop()
        client.client.disconnect()
        broker.stop()


if __name__ == "__main__":
    sys.exit(main())
