"""A robot with its own broker, bridged to a site broker: two real mosquitto processes, the
shipped deploy/mosquitto/robot-bridge.conf on the robot's side and the shipped site.conf and
site.acl on the site's. Commands and the site's e-stop cross the bridge; with the site gone,
local control, the local e-stop and the button keep working and motion stops (link loss)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.config import parse_config
from tests.conftest import (
    BASE_CONFIG,
    ROOT,
    Broker,
    Client,
    Running,
    connect_client,
    free_port,
    start_daemon,
    wait_until,
)
from tests.test_link_loss import BACK, WHEELS
from tests.test_site_acl import USERS, User, site_broker

P = "robots/t"
BRIDGED = f"""[mqtt]
site_estop_topic = "site/estop"
bridge_state_topic = "{P}/bridge/state"
"""


@dataclass
class Bridged:
    site: Broker
    local: Broker
    robot: Running
    operator: User  # at the site
    here: Client  # on the robot's own broker


def robot_broker(directory: Path, site_port: int) -> Broker:
    """The shipped example for robot t, pointed at the site on site_port."""
    conf = (ROOT / "deploy/mosquitto/robot-bridge.conf").read_text()
    port = free_port()
    for old, new in (("listener 1883 127.0.0.1", f"listener {port} 127.0.0.1"),
                     ("site.example:1883", f"127.0.0.1:{site_port}"),
                     ("rover-1", "t"), ("CHANGE-ME", "t-pw")):
        assert old in conf, old
        conf = conf.replace(old, new)
    (directory / "robot-bridge.conf").write_text(conf)
    broker = Broker(port, directory / "robot-bridge.conf")
    broker.start()
    return broker


@pytest.fixture
def bridged(tmp_path: Path) -> Iterator[Bridged]:
    site = site_broker((*USERS, "t"))
    local = robot_broker(tmp_path, site.port)
    raw = tomllib.loads(BASE_CONFIG.format(port=local.port).replace("[mqtt]\n", BRIDGED))
    raw["safety"].update(estop_button_pin=26, estop_button_contact="no")
    here = connect_client(local.port, f"{P}/#")
    robot = start_daemon(parse_config(raw), tmp_path / "state", here)
    operator = User(site.port, "operator", f"{P}/#")
    try:
        assert wait_until(lambda: not robot.daemon.link.lost and robot.daemon.link.bridge ==
                          "connected", 10), "the bridge did not come up"
        yield Bridged(site, local, robot, operator, here)
    finally:
        operator.close()
        here.client.loop_stop()
        robot.stop()
        local.stop()
        site.stop()
        shutil.rmtree(site.conf.parent)


def test_commands_and_the_site_estop_cross_the_bridge(bridged: Bridged) -> None:
    site, robot = bridged.operator, bridged.robot
    assert wait_until(lambda: any(b'"online"' in p for p in site.heard(f"{P}/status")))
    site.publish(f"{P}/cmd", '{"id": "c1", "action": "lights_color", "params": {"color": "red"}}')
    assert wait_until(lambda: any(b'"c1"' in p for p in site.heard(f"{P}/result")))
    assert robot.pin(5).state == 1
    site.publish("site/estop", "site drill")
    assert wait_until(lambda: robot.daemon.latch.engaged)
    assert robot.daemon.latch.state.source == "site"
    assert wait_until(lambda: any(b'"source":"site"' in p
                                  for p in site.heard(f"{P}/estop/state")))
    site.publish(f"{P}/estop/reset", '{"id": "r1", "reason": "drill over"}')
    assert wait_until(lambda: not robot.daemon.latch.engaged)


def test_without_the_site_local_control_and_every_estop_work_and_motion_stops(
        bridged: Bridged) -> None:
    here, robot = bridged.here, bridged.robot
    here.publish(f"{P}/cmd", {"id": "lamp", "action": "lights_color", "params": {"color": "red"}})
    here.publish(f"{P}/cmd", {"id": "m", "action": "move", "params": {**BACK,
                                                                      "distance_m": 2.5}})
    assert here.result("m", "running")
    bridged.operator.close()
    bridged.site.stop()
    ended = here.result("m", "failed", timeout=5)
    assert ended["reason"] == "link_lost" and "bridge to the site" in ended["detail"]
    assert not any(robot.pin(n).state for n in WHEELS) and robot.pin(5).state == 1
    status = here.wait_for(f"{P}/status", lambda s: s.get("link_lost") is True)
    assert status["bridge"] == "disconnected"
    # Local control: motion refused, everything else as usual.
    here.publish(f"{P}/cmd", {"id": "m2", "action": "move", "params": BACK})
    assert here.result("m2")["reason"] == "link_lost"
    here.publish(f"{P}/cmd", {"id": "off", "action": "lights_off"})
    assert here.result("off")["status"] == "done" and robot.pin(5).state == 0
    # The local e-stop and the button.
    here.publish(f"{P}/estop", "local stop")
    assert here.wait_for(f"{P}/estop/state", lambda s: s["engaged"])["source"] == "mqtt"
    here.publish(f"{P}/estop/reset", {"id": "r1", "reason": "checked"})
    assert here.result("r1")["status"] == "done"
    robot.pin(26).drive_low()
    assert wait_until(lambda: robot.daemon.latch.engaged)
    assert robot.daemon.latch.state.source == "button"
    robot.pin(26).drive_high()
    here.publish(f"{P}/estop/reset", {"id": "r2", "reason": "checked"})
    assert here.result("r2")["status"] == "done"
    # The site back: the bridge reconnects, motion is allowed again, with no reset.
    bridged.site.start()
    assert wait_until(lambda: not robot.daemon.link.lost, 20), "the link did not come back"
    here.publish(f"{P}/cmd", {"id": "m3", "action": "move", "params": BACK})
    assert here.result("m3")["status"] == "running"


def test_the_site_sees_a_robot_whose_bridge_is_down(bridged: Bridged, tmp_path: Path) -> None:
    """The bridge's last will (its state 0) at the site: fleet status says the robot is out of
    reach, where its retained status still says online."""
    config = tmp_path / "operator.toml"
    config.write_text(BASE_CONFIG.format(port=bridged.site.port))
    fleet = [sys.executable, "-m", "agent.cli", "fleet", "status", "--config", str(config),
             "--username", "operator", "--password-file",
             str(bridged.site.conf.parent / "operator.pw")]
    seen = subprocess.run(fleet, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert seen.returncode == 0 and seen.stdout.startswith(f"{P}  online"), seen.stdout
    assert "UNREACHABLE" not in seen.stdout
    bridged.local.stop()  # the robot's side goes away: the site keeps the bridge's last will
    assert wait_until(lambda: "UNREACHABLE" in subprocess.run(
        fleet, capture_output=True, text=True, cwd=ROOT, timeout=60).stdout, 20)
