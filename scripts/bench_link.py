"""Benchmark link loss and the site's e-stop, against real mosquitto processes:

1. link loss mid-move, with the shipped defaults (estop_link_timeout_s 1.0, link_loss_stop_s
   0.5): from the signal to the broker (SIGTERM: stopped; SIGSTOP: frozen) to the last wheel
   pin of the example rover at 0, polled every 0.5 ms in the daemon's own process; and the
   same for a robot whose own broker is bridged to a site (deploy/mosquitto/robot-bridge.conf)
   when the site broker is stopped or frozen;
2. the site's e-stop: from the publish on site/estop to the receipt of the robot's engaged
   P/estop/state by the publisher, with one broker, and through the bridge (both ways).

    .venv/bin/python scripts/bench_link.py [--trials 20] [--rounds 200] [--bridge-wait 20]

Each link-loss trial starts a broker and the daemon afresh and signals the broker at a random
moment 0-1 s into the move (a random phase of the e-stop connection's probe).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.config import Config, parse_config  # noqa: E402
from agent.daemon import Daemon  # noqa: E402
from agent.devices.sim_pins import sim_factory  # noqa: E402
from agent.mqtt.connection import no_delay  # noqa: E402
from agent.text.service import ModelOptions  # noqa: E402
from scripts.bench_core import free_port, pct  # noqa: E402

P = "robots/rover-1"
SITE_TOPIC = "site/estop"
BROKER = "listener {port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n"
# The daemon as `robot-agent run --sim --no-world` runs it, with the model runtime hidden: no
# model is loaded (the e-stop never needs it), as on a robot without the `model` extra.
NO_MODEL = ("import sys; sys.modules['llama_cpp'] = None; "
            "from agent.cli.main import main; sys.exit(main(sys.argv[1:]))")


@dataclass
class Rig:
    """The brokers (site first, when bridged) and their folder."""

    tmp: Path
    brokers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)

    def broker(self, conf: str) -> int:
        port = free_port()
        path = self.tmp / f"broker-{port}.conf"
        path.write_text(conf.replace("{port}", str(port)))
        self.brokers.append(subprocess.Popen(["mosquitto", "-c", str(path)],
                                             stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL))
        self.ports.append(port)
        wait_for(lambda: connectable(port), 10, "mosquitto did not start")
        return port

    def bridged(self) -> int:
        """A site broker, and the robot's own broker bridged to it (the shipped example);
        returns the robot broker's port."""
        site = self.broker(BROKER)
        conf = (ROOT / "deploy/mosquitto/robot-bridge.conf").read_text()
        conf = conf.replace("listener 1883 127.0.0.1", "listener {port} 127.0.0.1").replace(
            "site.example:1883", f"127.0.0.1:{site}")
        return self.broker(conf)

    def close(self) -> None:
        for proc in self.brokers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
                proc.wait(10)
        shutil.rmtree(self.tmp, ignore_errors=True)


def connectable(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def wait_for(predicate: Callable[[], bool], timeout: float, why: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(why)
        time.sleep(0.005)


def rover(port: int, bridged: bool) -> Config:
    raw = tomllib.loads((ROOT / "deploy/examples/rover.toml").read_text())
    raw["mqtt"].update(port=port, site_estop_topic=SITE_TOPIC)
    if bridged:
        raw["mqtt"]["bridge_state_topic"] = f"{P}/bridge/state"
    return parse_config(raw)


def stop_trial(mode: str, bridged: bool, wait_s: float) -> float | None:
    """ms from the signal to the wheels stopped; None: still turning after wait_s."""
    rig = Rig(Path(tempfile.mkdtemp(prefix="bench-link-")))
    try:
        port = rig.bridged() if bridged else rig.broker(BROKER)
        config = rover(port, bridged)
        wheels = [*(config.devices["drive"].left or ()), *(config.devices["drive"].right or ())]
        factory = sim_factory(closed=(config.safety.estop_button_pin,))
        daemon = Daemon(config, pin_factory=factory, state_dir=rig.tmp / "state",
                        model=ModelOptions(load=False))
        daemon.start()
        thread = threading.Thread(target=daemon.run_until_stopped, daemon=True)
        thread.start()
        try:
            wait_for(lambda: not daemon.link.lost and daemon.estop_link.connected.is_set() and
                     daemon.connection.connected.is_set() and (
                         not bridged or daemon.link.bridge == "connected"), 15, "no link")
            daemon.commands.receive(inbound(f"{P}/cmd", {
                "id": "m", "action": "move", "params": {"direction": "backward",
                                                        "distance_m": 2.0}}))
            def turning() -> bool:
                return any(factory.pin(n).state for n in wheels)

            wait_for(turning, 5, "the move did not start")
            time.sleep(random.uniform(0.0, 1.0))
            target = rig.brokers[0]  # the only broker, or the site's
            start = time.perf_counter()
            target.send_signal(signal.SIGTERM if mode == "stopped" else signal.SIGSTOP)
            deadline = start + wait_s
            while turning():
                if time.perf_counter() > deadline:
                    return None
                time.sleep(0.0005)
            return (time.perf_counter() - start) * 1000
        finally:
            for proc in rig.brokers:
                proc.send_signal(signal.SIGCONT)
            daemon.stopping.set()
            thread.join(15)
    finally:
        rig.close()


def inbound(topic: str, payload: dict[str, Any]) -> Any:
    from agent.mqtt.inbound import Inbound

    return Inbound(topic, json.dumps(payload).encode(), None, None)


class Observer:
    """Publishes on one broker and times the robot's e-stop state on another (or the same)."""

    def __init__(self, port: int, listen_port: int) -> None:
        self.cond = threading.Condition()
        self.latest: tuple[float, Any] = (0.0, None)
        self.client, self.listener = (self._client(p, f"bench-{i}")
                                      for i, p in enumerate((port, listen_port)))
        self.listener.on_message = self._on_message
        self.listener.subscribe(f"{P}/estop/state", qos=1)

    @staticmethod
    def _client(port: int, name: str) -> paho.Client:
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=name, protocol=paho.MQTTv5)
        client.connect("127.0.0.1", port)
        no_delay(client.socket())
        client.loop_start()
        return client

    def close(self) -> None:
        for client in (self.client, self.listener):
            client.loop_stop()

    def _on_message(self, c: Any, u: Any, msg: paho.MQTTMessage) -> None:
        with self.cond:
            self.latest = (time.perf_counter(), json.loads(msg.payload))
            self.cond.notify_all()

    def round_trip(self, topic: str, payload: str, engaged: bool) -> float:
        with self.cond:
            self.latest = (0.0, None)
        start = time.perf_counter()
        self.client.publish(topic, payload, qos=1)
        with self.cond:
            if not self.cond.wait_for(lambda: isinstance(self.latest[1], dict) and
                                      self.latest[1].get("engaged") is engaged, 10):
                raise RuntimeError(f"no {'engaged' if engaged else 'released'} state")
            return (self.latest[0] - start) * 1000


def site_estop_latency(rounds: int, bridged: bool, heard_at_site: bool) -> list[float]:
    """The daemon as a process of its own (robot-agent run --sim --no-world, no model)."""
    rig = Rig(Path(tempfile.mkdtemp(prefix="bench-site-")))
    daemon = None
    try:
        port = rig.bridged() if bridged else rig.broker(BROKER)
        config = rig.tmp / "rover.toml"
        text = (ROOT / "deploy/examples/rover.toml").read_text().replace(
            "port = 1883", f"port = {port}\nsite_estop_topic = \"{SITE_TOPIC}\"" + (
                f'\nbridge_state_topic = "{P}/bridge/state"' if bridged else ""))
        config.write_text(text)
        daemon = subprocess.Popen([sys.executable, "-c", NO_MODEL, "run", "--config", str(config),
                                   "--sim", "--no-world"], cwd=ROOT, stderr=subprocess.DEVNULL,
                                  env={**os.environ, "ROBOT_AGENT_STATE_DIR":
                                       str(rig.tmp / "state"), "PYTHONPATH": str(ROOT)})
        # Published at the site (the only broker, or the site's); the state heard there too,
        # or, bridged, on the robot's own broker (one way through the bridge).
        observer = Observer(rig.ports[0], rig.ports[0] if heard_at_site else rig.ports[-1])
        wait_for(lambda: observer.latest[1] is not None, 20, "the robot never said its state")
        time.sleep(1.0)
        latencies = []
        for i in range(rounds):
            time.sleep(random.uniform(0.01, 0.03))
            latencies.append(observer.round_trip(SITE_TOPIC, "bench", True))
            observer.round_trip(f"{P}/estop/reset", json.dumps({"id": f"r{i}",
                                                                 "reason": "bench"}), False)
        observer.close()
        return latencies
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(15)
        rig.close()


def stops(label: str, ms: list[float | None], wait_s: float) -> str:
    got = [m for m in ms if m is not None]
    missed = len(ms) - len(got)
    text = f"{label}: n={len(ms)}"
    if got:
        text += (f" p50={pct(got, 50):.0f} ms p95={pct(got, 95):.0f} ms "
                 f"max={max(got):.0f} ms")
    if missed:
        text += f"; still turning after {wait_s:g} s in {missed} of {len(ms)}"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=20, help="per link-loss case (direct)")
    parser.add_argument("--bridge-trials", type=int, default=5, help="per bridged case")
    parser.add_argument("--bridge-wait", type=float, default=20.0,
                        help="how long a bridged trial waits for the wheels to stop")
    parser.add_argument("--rounds", type=int, default=200, help="site e-stops per setup")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the daemon's own lines: the figures only
    if shutil.which("mosquitto") is None:
        sys.exit("mosquitto is not installed: run scripts/setup")
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")
    for mode in ("stopped", "frozen"):
        trials = [stop_trial(mode, False, 10.0) for _ in range(args.trials)]
        print(stops(f"wheels stopped after the broker was {mode} (SIG"
                    f"{'TERM' if mode == 'stopped' else 'STOP'})", trials, 10.0), flush=True)
    for mode in ("stopped", "frozen"):
        trials = [stop_trial(mode, True, args.bridge_wait) for _ in range(args.bridge_trials)]
        print(stops(f"bridged robot, wheels stopped after the site broker was {mode}", trials,
                    args.bridge_wait), flush=True)
    for bridged, at_site, where in (
            (False, True, "one broker"),
            (True, False, "through the bridge, heard on the robot's own broker"),
            (True, True, "through the bridge and back, heard at the site")):
        ms = site_estop_latency(args.rounds, bridged, at_site)
        print(f"site e-stop -> engaged state, {where}: n={len(ms)} p50={pct(ms, 50):.2f} ms "
              f"p95={pct(ms, 95):.2f} ms p99={pct(ms, 99):.2f} ms max={max(ms):.2f} ms",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
