"""`robot-agent fleet status --prefix 'robots/+'`: one line per robot, from what every robot
keeps retained on the broker (`P/status`, `P/estop/state`, `P/state`). Read-only: it publishes
nothing, so an observer's credentials (read on `robots/#`) are enough."""

from __future__ import annotations

import queue
import sys
import time
from typing import Any

import paho.mqtt.client as paho

from agent.cli.remote import Identity, RemoteClient
from agent.config import Config

QUIET_S = 0.3  # retained messages come at once: this long without a new one, all have come
# What each robot keeps retained; bridge/state is there for a robot whose own broker is bridged
# to the site (deploy/mosquitto/robot-bridge.conf): 0, its bridge's last will, means the site
# can no longer reach it, and what it said last is stale.
READ = ("status", "estop/state", "state", "bridge/state")


def fleet_status(config: Config, prefix: str, wait_s: float,
                 identity: Identity | None = None) -> int:
    if "#" in prefix or not prefix or prefix.endswith("/"):
        print("fleet status: --prefix is a topic prefix, with + for any one level (robots/+)",
              file=sys.stderr)
        return 2
    robots: dict[str, dict[str, Any]] = {}
    with RemoteClient(config, identity=identity) as c:
        c.client.subscribe([(f"{prefix}/{name}", 1) for name in READ])
        deadline = time.monotonic() + wait_s
        quiet_until = time.monotonic() + max(QUIET_S, wait_s / 2)
        while (now := time.monotonic()) < min(deadline, quiet_until):
            try:
                topic, data = c.inbox.get(timeout=min(deadline, quiet_until) - now)
            except queue.Empty:
                break
            for name in READ:
                if topic.endswith(f"/{name}") and paho.topic_matches_sub(
                        f"{prefix}/{name}", topic):
                    robots.setdefault(topic[:-len(name) - 1], {})[name] = data
                    quiet_until = time.monotonic() + QUIET_S
                    break
    if not robots:
        print(f"fleet status: no robot has a retained status under {prefix}/ (is it the "
              "right prefix, and may this user read it?)")
        return 1
    for robot in sorted(robots):
        print(line(robot, robots[robot]))
    return 0


def line(robot: str, seen: dict[str, Any]) -> str:
    """One robot in one line: online, e-stop, link, model, what runs, how fresh its sensors."""
    status, latch, state = (_object(seen.get(name)) for name in READ[:3])
    parts = [robot, str(status.get("state", "no status"))]
    if seen.get("bridge/state") == 0:
        parts.append("UNREACHABLE (its bridge to the site is down; the rest is its last word)")
    if latch:
        parts.append(f"E-STOP ENGAGED ({latch.get('source')}: {latch.get('reason')})"
                     if latch.get("engaged") else "e-stop released")
    if status.get("state") == "online":
        link = "LINK LOST" if status.get("link_lost") else (
            f"link {status.get('estop_connection', '?')}")
        if "bridge" in status:
            link += f", bridge {status['bridge']}"
        parts += [link, f"model {status.get('model', '?')}"]
    running = state.get("running") or []
    if state:
        parts.append("running: " + ", ".join(f"{r.get('action')} on {r.get('device')}"
                                             for r in running) if running else "idle")
    sensors = state.get("sensors") or {}
    if sensors:
        fresh = sum(1 for s in sensors.values() if isinstance(s, dict) and s.get("fresh"))
        parts.append(f"sensors {fresh}/{len(sensors)} fresh")
    return "  ".join(parts)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
