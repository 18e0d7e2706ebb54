"""Many robots on one broker: one message on the site's e-stop topic engages every robot's
latched e-stop (source site), each is reset on its own topic, `robot-agent estop --site` sends
it, and `robot-agent fleet status` shows every robot in a line."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import Config, parse_config
from tests.conftest import BASE_CONFIG, ROOT, Broker, Client, Running, start_daemon, wait_until

SITE = 'site_estop_topic = "site/estop"\n'


def robot_config(port: int, name: str) -> str:
    """The test robot as robot `name`, under robots/<name>, on the site's e-stop."""
    return (BASE_CONFIG.format(port=port).replace("robots/t", f"robots/{name}")
            .replace('id = "t"', f'id = "{name}"').replace("[mqtt]\n", f"[mqtt]\n{SITE}"))


def config_of(port: int, name: str) -> Config:
    return parse_config(tomllib.loads(robot_config(port, name)))


@pytest.fixture
def fleet(broker: Broker, client: Client, tmp_path: Path) -> Iterator[list[Running]]:
    robots = [start_daemon(config_of(broker.port, name), tmp_path / name) for name in "ab"]
    for name in "ab":
        client.wait_for(f"robots/{name}/status", lambda s: s.get("state") == "online")
    yield robots
    for running in robots:
        running.stop()


def cli(tmp_path: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "a.toml"
    path.write_text(robot_config(port, "a"))
    return subprocess.run([sys.executable, "-m", "agent.cli", *args, "--config", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_one_message_stops_every_robot_and_each_is_reset_on_its_own(
        fleet: list[Running], client: Client) -> None:
    for name in "ab":
        client.publish(f"robots/{name}/cmd", {"id": f"{name}-m", "action": "move", "params": {
            "direction": "backward", "distance_m": 2.5}})
        assert client.result(f"{name}-m", "running", topic=f"robots/{name}/result")
    client.publish("site/estop", "fire alarm in hall 3")
    for name, running in zip("ab", fleet, strict=True):
        state = client.wait_for(f"robots/{name}/estop/state", lambda s: s["engaged"])
        assert (state["source"], state["reason"]) == ("site", "fire alarm in hall 3")
        assert client.result(f"{name}-m", "failed", topic=f"robots/{name}/result"
                             )["reason"] == "estop_engaged"
        assert not any(running.pin(n).state for n in (4, 14, 17, 18))
    client.publish("robots/a/estop/reset", {"id": "r", "reason": "hall 3 checked"})
    assert client.wait_for("robots/a/estop/state", lambda s: not s["engaged"])
    assert not fleet[0].daemon.latch.engaged and fleet[1].daemon.latch.engaged


def test_a_reply_can_never_be_sent_to_the_site_estop(fleet: list[Running],
                                                     client: Client) -> None:
    client.publish("robots/a/cmd", {"id": "x", "action": "lights_off", "reply_to": "site/estop"})
    assert client.result("x", topic="robots/a/result")["reason"] == "bad_reply_to"
    assert not any(running.daemon.latch.engaged for running in fleet)


def test_estop_site_and_fleet_status_from_the_command_line(
        fleet: list[Running], broker: Broker, client: Client, tmp_path: Path) -> None:
    listed = cli(tmp_path, broker.port, "fleet", "status", "--prefix", "robots/+")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["robots/a", "robots/b"]
    assert all("online  e-stop released  link connected" in line and "idle" in line
               for line in lines), lines
    sent = cli(tmp_path, broker.port, "estop", "--site", "--reason", "drill")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "robots/a: e-stop ENGAGED (site: drill)" in sent.stdout
    assert wait_until(lambda: all(r.daemon.latch.state.source == "site" for r in fleet))
    after = cli(tmp_path, broker.port, "fleet", "status").stdout
    assert after.count("E-STOP ENGAGED (site: drill)") == 2


def test_without_a_site_topic_estop_site_says_so(broker: Broker, tmp_path: Path) -> None:
    path = tmp_path / "plain.toml"
    path.write_text(BASE_CONFIG.format(port=broker.port))
    done = subprocess.run([sys.executable, "-m", "agent.cli", "estop", "--site", "--config",
                           str(path)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and "site_estop_topic" in done.stderr
    nothing = subprocess.run([sys.executable, "-m", "agent.cli", "fleet", "status", "--config",
                              str(path), "--wait", "0.5"], capture_output=True, text=True,
                             cwd=ROOT, timeout=60)
    assert nothing.returncode == 1 and "no robot" in nothing.stdout
