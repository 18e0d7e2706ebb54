"""Field commands against a running daemon, and doctor failing for each broken part."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from agent.cli.doctor import doctor
from agent.config import Config
from tests.conftest import (
    BASE_CONFIG,
    ROOT,
    TEST_KEY,
    Broker,
    Client,
    Running,
    free_port,
    make_config,
)


def cli(tmp_path: Path, port: int, *args: str, extra: str = "") -> subprocess.CompletedProcess[str]:
    config = tmp_path / "field.toml"
    config.write_text(BASE_CONFIG.format(port=port) + extra)
    return subprocess.run([sys.executable, "-m", "agent.cli", *args, "--config", str(config)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_estop_status_reset_send(daemon: Running, broker: Broker, tmp_path: Path) -> None:
    done = cli(tmp_path, broker.port, "estop", "--reason", "checking the arm")
    assert done.returncode == 0 and "ENGAGED" in done.stdout
    assert daemon.daemon.latch.state.source == "cli"
    status = cli(tmp_path, broker.port, "status")
    assert status.returncode == 0
    assert "ENGAGED" in status.stdout and "checking the arm" in status.stdout
    refused = cli(tmp_path, broker.port, "send", "lights_color", "color=red")
    assert refused.returncode == 1 and "estop_engaged" in refused.stdout
    released = cli(tmp_path, broker.port, "reset", "--reason", "arm checked by Ana")
    assert released.returncode == 0 and '"done"' in released.stdout
    assert daemon.daemon.latch.state.source == "cli"  # as the CLI's e-stop says cli
    sent = cli(tmp_path, broker.port, "send", "lights_color", "color=red")
    assert sent.returncode == 0 and daemon.pin(5).state == 1
    unknown = cli(tmp_path, broker.port, "send", "fly")
    assert unknown.returncode == 1 and "unknown_action" in unknown.stdout


def test_signed_send_runs_a_high_risk_action(daemon: Running, broker: Broker,
                                             tmp_path: Path) -> None:
    key = tmp_path / "signing.key"
    key.write_bytes(TEST_KEY)
    config = BASE_CONFIG.format(port=broker.port).replace(
        "[safety]\n", f'[safety]\nsigning_key_file = "{key}"\n')
    path = tmp_path / "signed.toml"
    path.write_text(config)
    done = subprocess.run([sys.executable, "-m", "agent.cli", "send", "water", "--sign",
                           "--config", str(path)], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"done"' in done.stdout


def test_list_and_cancel_schedules(daemon: Running, broker: Broker, tmp_path: Path) -> None:
    from datetime import datetime, timedelta

    at = datetime.now().astimezone() + timedelta(hours=1)
    ids = [daemon.daemon.schedules.add(
        request_id=rid, input_kind="ask", action="lights_off", params={}, at=at,
        text="lights off in an hour", recurring=None, reply=None, confidence=0.9
    ).extra["schedule_id"] for rid in ("a1", "a2")]
    listed = cli(tmp_path, broker.port, "schedules")
    assert listed.returncode == 0 and all(i in listed.stdout for i in ids)
    assert "lights off in an hour" in listed.stdout
    assert "2 pending" in cli(tmp_path, broker.port, "status").stdout
    one = cli(tmp_path, broker.port, "schedules", "--cancel", ids[0])
    assert one.returncode == 0 and ids[0] in one.stdout
    assert [e.schedule_id for e in daemon.daemon.schedules.pending()] == ids[1:]
    unknown = cli(tmp_path, broker.port, "schedules", "--cancel", "s-nope")
    assert unknown.returncode == 1 and "unknown_schedule" in unknown.stdout
    assert cli(tmp_path, broker.port, "schedules", "--cancel-all").returncode == 0
    assert "no pending schedules" in cli(tmp_path, broker.port, "schedules").stdout


def test_status_without_a_daemon_fails(broker: Broker, tmp_path: Path) -> None:
    done = cli(tmp_path, broker.port, "status")
    assert done.returncode == 1 and "nothing on robots/t/status" in done.stdout


@pytest.fixture
def healthy(broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("ROBOT_AGENT_STATE_DIR", str(tmp_path / "state"))
    key = tmp_path / "signing.key"
    key.write_bytes(TEST_KEY)
    return _update(make_config(broker.port), "safety", signing_key_file=str(key))


def test_doctor_all_ok(healthy: Config, capsys: pytest.CaptureFixture[str]) -> None:
    assert doctor(healthy) == 0
    out = capsys.readouterr().out
    for name in ("broker", "latency", "model", "gpio", "cloud", "clock", "state", "signing"):
        assert f"{name}" in out
    assert "FAIL" not in out


def _update(config: Config, section: str, **values: object) -> Config:
    return config.model_copy(update={section: getattr(config, section).model_copy(
        update=values)})


@pytest.mark.parametrize("broken, expected", [
    (lambda c: _update(c, "mqtt", port=free_port()), "broker   FAIL cannot reach"),
    (lambda c: _update(c, "model", path="/nonexistent/model.gguf"), "model    FAIL"),
    (lambda c: _update(c, "gpio", pin_factory="auto"), "gpio     FAIL"),
    (lambda c: _update(c, "cloud", enabled=True, base_url=f"http://127.0.0.1:{free_port()}/v1",
                       timeout_s=2), "cloud    FAIL"),
    (lambda c: _update(c, "safety", require_signed_reset=True, signing_key_file=""),
     "signing  FAIL"),
])
def test_doctor_names_each_broken_part(healthy: Config, capsys: pytest.CaptureFixture[str],
                                       broken: object, expected: str) -> None:
    assert doctor(broken(healthy)) == 1  # type: ignore[operator]
    out = capsys.readouterr().out
    assert expected in out
    assert out.count("FAIL") == 1


def test_doctor_names_a_broker_without_set_tcp_nodelay(healthy: Config, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    port = free_port()
    conf = tmp_path / "default.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")  # as most are
    default = Broker(port, conf)
    default.start()
    try:
        assert doctor(_update(healthy, "mqtt", port=port)) == 1
    finally:
        default.stop()
    out = capsys.readouterr().out
    assert "latency  FAIL" in out and "set_tcp_nodelay true" in out and out.count("FAIL") == 1


def test_doctor_unwritable_state_dir(healthy: Config, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("ROBOT_AGENT_STATE_DIR", str(blocker / "state"))
    assert doctor(healthy) == 1
    assert "state    FAIL" in capsys.readouterr().out


def test_doctor_names_an_unreadable_file_of_used_signed_ids(
        healthy: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "state").mkdir(exist_ok=True)
    (tmp_path / "state" / "signed-ids.json").write_text('{"s-1": ')
    assert doctor(healthy) == 1
    out = capsys.readouterr().out
    assert "signing  FAIL signing_unavailable" in out and "signed-ids.json" in out


def test_doctor_wrong_password(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    # mosquitto started as root runs as its own user, which cannot enter pytest's 0700 dirs.
    readable = Path(tempfile.mkdtemp(prefix="robot-agent-test-"))
    readable.chmod(0o755)
    passwords = readable / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "robot", "right"],
                   check=True, capture_output=True)
    conf = tmp_path / "m.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\n"
                    f"password_file {passwords}\nset_tcp_nodelay true\n")
    passwords.chmod(0o644)
    secured = Broker(port, conf)
    secured.start()
    try:
        wrong = tmp_path / "wrong"
        wrong.write_text("wrong\n")
        monkeypatch.setenv("ROBOT_AGENT_STATE_DIR", str(tmp_path / "state"))
        key = tmp_path / "signing.key"
        key.write_bytes(TEST_KEY)
        base = _update(make_config(port), "safety", signing_key_file=str(key))
        config = _update(base, "mqtt", username="robot", password_file=str(wrong))
        assert doctor(config) == 1
        out = capsys.readouterr().out
        assert "refused the connection" in out and "ends with a newline" in out
        right = tmp_path / "right"
        right.write_text("right\n")  # as `echo right > file` writes it: works
        config = _update(base, "mqtt", username="robot", password_file=str(right))
        assert doctor(config) == 0
    finally:
        secured.stop()
        shutil.rmtree(readable)


def test_doctor_with_a_broken_config_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[device]\nid = "Bad"\n')
    done = subprocess.run([sys.executable, "-m", "agent.cli", "doctor", "--config", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and "config   FAIL" in done.stdout


def test_send_waits_for_the_final_result(daemon: Running, broker: Broker, client: Client,
                                         tmp_path: Path) -> None:
    client.publish("robots/t/sensors/front", "2.0")
    done = cli(tmp_path, broker.port, "send", "turn", "direction=left", "degrees=30")
    assert done.returncode == 0
    lines = done.stdout.strip().splitlines()
    assert '"running"' in lines[0] and '"done"' in lines[-1]
