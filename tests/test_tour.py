"""The README's tour, typed twice as a new user would: every command gets a new id each time
(none is a duplicate the second time), and the suggested subscription shows the answers and the
e-stop, not the sensor readings. scripts/sim's other port: its config copy."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from agent.config import load_config
from agent.devices.sim_pins import sim_factory
from scripts.sim_config import main as sim_config
from scripts.sim_config import with_port
from tests.conftest import ROOT, Broker, Client, start_daemon

ROVER = ROOT / "deploy/examples/rover.toml"
README = (ROOT / "README.md").read_text()


def tour() -> list[str]:
    """The mosquitto commands of the README's first code block after 'a short tour'."""
    block = README.split("prints a short tour", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.startswith("mosquitto_")]


def test_the_readme_tour_twice_runs_no_duplicate_and_shows_no_readings(
        broker: Broker, client: Client, tmp_path: Path) -> None:
    config = load_config(ROVER)
    config = config.model_copy(update={"mqtt": config.mqtt.model_copy(
        update={"port": broker.port})})
    running = start_daemon(config, tmp_path / "state", factory=sim_factory(closed=(26,)))
    at = f"-h 127.0.0.1 -p {broker.port}"
    sub, *pubs = [line.replace("-h 127.0.0.1", at) for line in tour()]
    assert sub.startswith("mosquitto_sub") and "#" not in sub
    watcher = subprocess.Popen(["bash", "-c", sub.replace("mosquitto_sub", "mosquitto_sub -W 6")],
                               stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        for _ in range(2):
            for line in pubs:
                subprocess.run(["bash", "-c", line], check=True, timeout=10)
                client.publish("robots/rover-1/sensors/front_distance", "1.5")
            time.sleep(0.3)
        watched, _ = watcher.communicate(timeout=15)
    finally:
        running.stop()
    client.forget()
    ids = {json.loads(p)["id"] for t, p, _ in client.history
           if t == "robots/rover-1/result"}
    for prefix in ("move-", "reset-"):
        assert len([i for i in ids if i.startswith(prefix)]) == 2, ids
    statuses = [json.loads(p)["status"] for t, p, _ in client.history
                if t == "robots/rover-1/result"]
    assert "duplicate" not in statuses
    topics = {line.split(" ", 1)[0] for line in watched.splitlines()}
    assert topics == {"robots/rover-1/result", "robots/rover-1/estop/state"}, topics


def test_another_port_changes_only_the_brokers_port(tmp_path: Path) -> None:
    out = tmp_path / "sim.toml"
    assert sim_config([str(ROVER), "1884", str(out)]) == 0
    assert load_config(out).mqtt.port == 1884
    changed = [(a, b) for a, b in zip(ROVER.read_text().splitlines(),
                                      out.read_text().splitlines(), strict=True) if a != b]
    assert changed == [("port = 1883", "port = 1884")]


def test_a_config_without_a_port_gets_one_in_its_mqtt_table_or_a_new_one() -> None:
    with_table = with_port('[device]\nid = "r"\n[mqtt]\nhost = "h"  # [x]\n[gpio]\n', 1884)
    assert re.search(r"\[mqtt\]\nport = 1884\nhost", with_table)
    assert with_port('[device]\nid = "r"\n', 1884).endswith("\n[mqtt]\nport = 1884\n")
    assert "port = 1884" in with_port("[sensors.a]\nport = 1\n[mqtt]\nport = 1883\n", 1884)
    assert "[sensors.a]\nport = 1\n" in with_port("[sensors.a]\nport = 1\n[mqtt]\n", 1884)
