"""When the daemon dies without making its outputs safe (SIGKILL, the OOM killer, a crash),
`robot-agent safe-outputs`, run by the unit's ExecStopPost=, does it.

What is proven here, and how: mock pins live in one process, so a new process cannot see the
pins a killed daemon left on. So (1) in one process, pins left driven as a dead daemon leaves
them are driven safe by the same function the command runs; (2) a real daemon process is
SIGKILLed while it holds an mqtt device in an operation, and the command, run as systemd runs
it after a death, tells the device safe over the real broker and latches the e-stop, which the
next daemon starts with; (3) the unit runs the command after every exit. That the unit's
ExecStopPost really runs after a SIGKILL is systemd's promise (systemd.service(5)); it is not
run here, where there is no systemd to run it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from gpiozero.pins.mock import MockFactory, MockPWMPin

from agent.cli.safe_outputs import safe_outputs
from agent.safety.latch import Latch
from tests.conftest import BASE_CONFIG, ROOT, Broker, Client, make_config

ARM = """
[devices.arm]
kind = "mqtt"
topic = "arm/cmd"
[actions.arm_reach]
device = "arm"
op = "reach"
max_duration_s = 30
"""
PINS = (4, 14, 17, 18, 5, 6, 13, 23)


def test_pins_left_on_by_a_dead_daemon_are_driven_safe(tmp_path: Path) -> None:
    factory = MockFactory(pin_class=MockPWMPin)
    for n in PINS:  # as a process that died mid-move with the lights and the pump on leaves them
        pin = factory.pin(n)
        pin.function = "output"
        pin.state = 1
    assert safe_outputs(make_config(1), factory, state_dir=tmp_path) == 0
    assert [factory.pin(n).state for n in PINS] == [0] * len(PINS)
    assert not Latch(tmp_path).engaged  # no death reported: nothing latched


def test_sigkill_mid_operation_then_safe_outputs_as_systemd_runs_it(
        broker: Broker, client: Client, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(BASE_CONFIG.format(port=broker.port) + ARM)
    env = {**os.environ, "ROBOT_AGENT_STATE_DIR": str(tmp_path / "state"),
           "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-m", "agent.cli", "run", "--config", str(config), "--sim"]
    daemon = subprocess.Popen(run, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        client.wait_for("robots/t/status", lambda s: s.get("state") == "online", timeout=30)
        client.publish("robots/t/sensors/front", "2.0")
        client.publish("robots/t/cmd", {"id": "m", "action": "move",
                                        "params": {"distance_m": 2}})
        client.publish("robots/t/cmd", {"id": "r", "action": "arm_reach"})
        client.result("m", "running")
        client.result("r", "running")
        daemon.send_signal(signal.SIGKILL)  # in the middle of the move, the arm reaching
        assert daemon.wait(10) == -signal.SIGKILL
    finally:
        daemon.kill()
    client.forget()
    done = subprocess.run([sys.executable, "-m", "agent.cli", "safe-outputs", "--config",
                           str(config), "--sim"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**env, "SERVICE_RESULT": "signal",
                                           "EXIT_STATUS": "KILL"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "arm: safe" in done.stdout and "e-stop latched" in done.stdout
    told = client.wait_for("arm/cmd")
    assert told == {"op": "safe"}
    latch = Latch(tmp_path / "state")
    assert latch.engaged and latch.state.source == "watchdog"
    assert "signal KILL" in latch.state.reason
    client.forget()
    again = subprocess.Popen(run, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:  # it comes back engaged: someone looks before the robot moves again
        state = client.wait_for("robots/t/estop/state", lambda s: "engaged" in s, timeout=30)
        assert state["engaged"] and state["source"] == "watchdog"
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(15)


def test_safe_outputs_says_when_the_broker_cannot_confirm(tmp_path: Path) -> None:
    from tests.conftest import free_port

    config = tmp_path / "config.toml"
    config.write_text(BASE_CONFIG.format(port=free_port()) + ARM)
    done = subprocess.run([sys.executable, "-m", "agent.cli", "safe-outputs", "--config",
                           str(config), "--sim"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ,
                                           "ROBOT_AGENT_STATE_DIR": str(tmp_path / "s")})
    assert done.returncode == 1
    assert "drive: safe" in done.stdout and "arm: safe message NOT acknowledged" in done.stdout


def test_the_unit_runs_it_after_every_exit_of_the_daemon() -> None:
    unit = (ROOT / "systemd/robot-agent.service").read_text().splitlines()
    start = next(line for line in unit if line.startswith("ExecStart="))
    after = [line for line in unit if line.startswith("ExecStopPost=")]
    config = start.split("--config ", 1)[1]
    assert after == [f"ExecStopPost=-/opt/robot-agent/venv/bin/robot-agent safe-outputs "
                     f"--config {config}"]
