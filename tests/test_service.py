"""systemd: notifications and their order on a NOTIFY_SOCKET the test owns, the watchdog
stopping when a thread hangs, journal fields for each kind of record."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agent.cli.systemd import Service
from agent.core.decisions import Decision
from agent.core.journal import MESSAGE_IDS, fields
from agent.requests.pipeline import Work
from tests.conftest import BASE_CONFIG, ROOT, Broker, Client, make_config, start_daemon

pytest.importorskip("systemd.daemon", reason="systemd-python is installed by scripts/setup")


def read_all(sock: socket.socket, seconds: float) -> list[str]:
    messages, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            messages.append(sock.recv(4096).decode())
        except TimeoutError:
            break
    return messages


def test_notify_order_ready_status_watchdog_stopping(broker: Broker, client: Client,
                                                     tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    config = tmp_path / "c.toml"
    config.write_text(BASE_CONFIG.format(port=broker.port))
    env = {**os.environ, "NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "1000000",
           "ROBOT_AGENT_STATE_DIR": str(tmp_path / "state")}
    env.pop("WATCHDOG_PID", None)
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "--config", str(config),
                             "--sim"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        early = read_all(sock, 4.0)
        while sum(m.count("WATCHDOG=1") for m in early) < 3:  # a loaded machine starts slowly
            more = read_all(sock, 10.0)
            assert more, early
            early += more
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        late = read_all(sock, 1.0)
    finally:
        proc.kill()
        sock.close()
    lines = [line for m in early + late for line in m.split("\n")]
    assert "READY=1" in lines
    assert any(line.startswith("STATUS=broker 127.0.0.1") and "connected" in line
               and "e-stop link connected" in line for line in lines)
    assert lines.count("WATCHDOG=1") >= 3
    assert lines[-1] == "STOPPING=1"
    assert lines.index("READY=1") < lines.index("STOPPING=1")


def test_watchdog_pings_stop_when_a_worker_hangs(broker: Broker, client: Client,
                                                 tmp_path: Path) -> None:
    running = start_daemon(make_config(broker.port), tmp_path / "state", client)
    d = running.daemon
    d.hung_after_s = 1.0
    sent: list[tuple[float, str]] = []
    service = Service(d, lambda m: sent.append((time.monotonic(), m)), watchdog_s=0.1)
    d.on_stopping = service.stopping  # as agent.cli.main.run_daemon wires it
    service.start()
    time.sleep(0.5)
    assert any("WATCHDOG=1" in m for _, m in sent)
    release = threading.Event()
    d.queues["commands"].offer(Work(d.pipeline.job("cmd"), lambda: release.wait(30),
                                    lambda reason, detail: None))
    hung_at = time.monotonic()
    running.thread.join(10)
    release.set()
    assert running.exit_code == [1]  # the daemon noticed it, made outputs safe and exited
    late = [m for t, m in sent if t > hung_at + 1.2 and "WATCHDOG=1" in m]
    assert late == []
    assert any("FAULT: worker thread stuck: commands" in m for _, m in sent)


@pytest.mark.parametrize("outcome, kind, prio", [
    (Decision.executed("c1", "cmd", action="move"), "execute", "6"),
    (Decision.refused("c2", "cmd", "interlock", "front is 0.1"), "refuse", "4"),
    (Decision.nothing("a1", "ask", detail="which?"), "none", "6"),
    (Decision("a2", "ask", "confirm_required", "confirm", "risk_high"), "confirm", "5"),
    (Decision.aborted("m", "supervision", "interlock", ""), "abort", "4"),
    (Decision.executed("estop:1", "estop", action="estop"), "estop", "4"),
    (Decision.executed("r", "reset", action="estop_reset"), "reset", "5"),
    (Decision.aborted("fault", "fault", "internal_error", ""), "fault", "3"),
])
def test_journal_fields_for_each_kind(outcome: Decision, kind: str, prio: str) -> None:
    record = outcome.record(1795387715.0, {"policy_version": "p", "device_class": "c",
                                           "model": ""})
    out = fields(record)
    assert out["MESSAGE_ID"] == MESSAGE_IDS[kind]
    assert out["PRIORITY"] == prio
    assert out["ID"] == outcome.id and out["DECISION"] == outcome.decision
    assert out["POLICY_VERSION"] == "p" and out["SYSLOG_IDENTIFIER"] == "robot-agent"
    assert all(key == key.upper() for key in out)
    assert outcome.decision in out["MESSAGE"] and "\n" not in out["MESSAGE"]


def test_catalog_explains_every_message_id() -> None:
    catalog = (ROOT / "deploy/robot-agent.catalog").read_text()
    for message_id in MESSAGE_IDS.values():
        assert f"-- {message_id}" in catalog
