"""The simulated world of `run --sim`: the distance ahead falls as the simulated robot drives
toward a wall, so a reaction stops it with no hardware, and commands typed by hand find fresh
readings."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

from agent.config import parse_config
from agent.core.clock import SystemClock
from agent.devices.sim_pins import sim_factory
from agent.sensing.sim_world import Pose, SimWorld
from tests.conftest import ROOT, Broker, Client, start_daemon
from tests.test_first_hour import WITHOUT_RUNTIME

P = "robots/rover-1"


def test_the_room_has_walls() -> None:
    pose = Pose(0.5, 1.25, 0.0)
    assert pose.ahead() == pytest.approx(2.0)
    pose.drive(1.5, 0)
    assert pose.ahead() == pytest.approx(0.5)
    pose.drive(3.0, 0)  # never through the wall
    assert pose.ahead() == pytest.approx(0.0)
    pose.drive(-0.7, 0)
    assert pose.ahead() == pytest.approx(0.7)
    pose.drive(0, 90)  # facing +y, from the middle
    assert pose.ahead() == pytest.approx(1.25)


def test_the_battery_drains_while_driving_and_charges_while_still() -> None:
    """So a low-battery reaction that fired (or was refused during an e-stop) re-arms."""
    config = parse_config(tomllib.loads((ROOT / "deploy/examples/rover.toml").read_text()))
    world = SimWorld(config, {}, lambda topic, payload: None, clock=SystemClock(),
                     stopping=threading.Event())
    world.step(100.0)  # no robot: still
    assert world.battery == pytest.approx(25.0)
    world.mover = SimpleNamespace(motion=lambda: (0.0, 90.0))  # turning on the spot
    world.step(60.0)
    assert world.battery == pytest.approx(13.0)
    world.step(1000.0)
    assert world.battery == 0.0


def test_the_rover_example_stops_itself_before_the_wall(broker: Broker, client: Client,
                                                        tmp_path: Path) -> None:
    raw = tomllib.loads((ROOT / "deploy/examples/rover.toml").read_text())
    raw["mqtt"]["port"] = broker.port
    config = parse_config(raw)
    # the example's normally-closed e-stop button, not pressed: its circuit is closed
    running = start_daemon(config, tmp_path / "state",
                           factory=sim_factory(closed=(config.safety.estop_button_pin,)))
    world = SimWorld(config, running.daemon.outputs,
                     lambda topic, payload: running.daemon.connection.publish(topic, payload),
                     clock=SystemClock(), stopping=running.daemon.stopping)
    world.start()
    try:
        client.wait_for(f"{P}/sensors/front_distance", lambda r: r["value"] == 2.0)
        client.publish(f"{P}/cmd", {"id": "m1", "action": "move",
                                    "params": {"direction": "forward", "distance_m": 2.0}})
        client.result("m1", "running", topic=f"{P}/result")
        ended = client.result("m1", "failed", topic=f"{P}/result", timeout=10)
        assert ended["reason"] == "superseded"
        stop = client.wait_for(f"{P}/events", lambda r: r["input_kind"] == "reaction")
        assert stop["detail"].startswith("reaction too_close (front_distance 0.3")
        assert 0.3 < world.pose.ahead() < 0.4
        time.sleep(1.5)  # longer than the distance sensor's max_age_s
        client.publish(f"{P}/cmd", {"id": "m2", "action": "move",
                                    "params": {"direction": "backward", "distance_m": 0.5}})
        assert client.result("m2", topic=f"{P}/result")["status"] == "running"
        assert world.battery < 20.0
    finally:
        running.stop()


@pytest.mark.parametrize("world, flag, readings", [
    ("", "", True),  # the default: the simulated world publishes
    ("\n[sim]\nworld = false\n", "", False),
    ("", "--no-world", False),
])
def test_sim_without_the_world_publishes_no_readings(broker: Broker, client: Client,
                                                     tmp_path: Path, world: str, flag: str,
                                                     readings: bool) -> None:
    """A control stack that simulates its own sensors is not overwritten: mock pins, no
    readings (the daemon is still online and its e-stop works)."""
    config = tmp_path / "rover.toml"
    config.write_text((ROOT / "deploy/examples/rover.toml").read_text().replace(
        "port = 1883", f"port = {broker.port}") + world)
    env = {**os.environ, "ROBOT_AGENT_STATE_DIR": str(tmp_path / "state"),
           "PYTHONPATH": str(ROOT)}
    daemon = subprocess.Popen([sys.executable, "-c", WITHOUT_RUNTIME, "run", "--config",
                               str(config), "--sim", *([flag] if flag else [])],
                              env=env, cwd=tmp_path, stderr=subprocess.DEVNULL)
    try:
        client.wait_for(f"{P}/status", lambda s: s.get("state") == "online", timeout=20)
        time.sleep(1.0)  # ten periods of the simulated world
        client.forget()  # everything received so far, into its history
        heard = [topic for topic, _, _ in client.history if topic.startswith(f"{P}/sensors/")]
        assert bool(heard) is readings, heard
        client.publish(f"{P}/estop", "")
        assert client.wait_for(f"{P}/estop/state", lambda s: s["engaged"])
    finally:
        daemon.terminate()
        daemon.wait(10)
