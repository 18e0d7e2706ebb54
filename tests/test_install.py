"""deploy/install.sh into a temporary root: complete, idempotent, keeps config, uninstalls."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import ROOT, Broker, free_port, wait_until

INSTALL = ROOT / "deploy/install.sh"


def run(root: Path, *args: str) -> str:
    done = subprocess.run(["bash", str(INSTALL), "--root", str(root), "--no-venv", *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def snapshot(root: Path) -> dict[str, tuple[str, str]]:
    return {str(p.relative_to(root)): (oct(p.stat().st_mode)[-3:],
                                       hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_install_twice_is_the_same_and_says_so(tmp_path: Path) -> None:
    first = run(tmp_path)
    assert any(line.startswith("changed:") for line in first.splitlines())
    files = snapshot(tmp_path)
    for expected in ("etc/systemd/system/robot-agent.service",
                     "usr/lib/systemd/catalog/robot-agent.catalog",
                     "etc/robot-agent/config.toml",
                     "etc/robot-agent/credentials/mqtt-password",
                     "etc/robot-agent/credentials/signing-key",
                     "etc/mosquitto/conf.d/robot-agent.conf",
                     "etc/mosquitto/robot-agent.acl",
                     "etc/mosquitto/robot-agent.passwd",
                     "opt/robot-agent/docs/operations.md"):
        assert expected in files, expected
    assert files["etc/robot-agent/credentials/signing-key"][0] == "600"
    second = run(tmp_path)
    assert not any(line.startswith("changed:") for line in second.splitlines())
    assert second.strip().endswith("nothing changed")
    assert snapshot(tmp_path) == files


def test_the_installed_config_is_valid_and_confined_by_the_acl(tmp_path: Path) -> None:
    run(tmp_path)
    config = tmp_path / "etc/robot-agent/config.toml"
    text = config.read_text()
    assert 'pin_factory = "auto"' in text and 'username = "robot-agent"' in text
    check = subprocess.run([str(ROOT / ".venv/bin/robot-agent"), "check-config", "--config",
                            str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    acl = (tmp_path / "etc/mosquitto/robot-agent.acl").read_text()
    assert "topic readwrite robots/rover-1/#" in acl and "#\n" not in acl.replace(
        "rover-1/#\n", "").replace("topic readwrite homeassistant/#\n", "")
    # Home Assistant discovery: the daemon its own device and Home Assistant's status only
    assert "topic write homeassistant/device/rover-1/config\ntopic read homeassistant/status\n" \
        in acl
    assert "set_tcp_nodelay true" in (tmp_path / "etc/mosquitto/conf.d/robot-agent.conf"
                                      ).read_text()


def test_reinstall_keeps_an_edited_config_and_secrets(tmp_path: Path) -> None:
    run(tmp_path)
    config = tmp_path / "etc/robot-agent/config.toml"
    config.write_text(config.read_text().replace('id = "rover-1"', 'id = "rover-2"'))
    key = (tmp_path / "etc/robot-agent/credentials/signing-key").read_bytes()
    out = run(tmp_path)
    assert "rover-2" in config.read_text() and "config.toml (kept)" in out
    assert (tmp_path / "etc/robot-agent/credentials/signing-key").read_bytes() == key


def test_uninstall_keeps_config_and_purge_removes_it(tmp_path: Path) -> None:
    run(tmp_path)
    out = run(tmp_path, "--uninstall")
    assert "removed" in out
    assert not (tmp_path / "etc/systemd/system/robot-agent.service").exists()
    assert not (tmp_path / "opt/robot-agent").exists()
    assert (tmp_path / "etc/robot-agent/config.toml").exists()
    assert run(tmp_path, "--uninstall").strip().endswith("nothing changed")
    run(tmp_path, "--uninstall", "--purge")
    assert not (tmp_path / "etc/robot-agent").exists()


def test_a_robot_on_a_site_broker_has_no_broker_of_its_own(tmp_path: Path) -> None:
    out = run(tmp_path, "--site", "10.0.0.5:1884", "--id", "rover-7")
    text = (tmp_path / "etc/robot-agent/config.toml").read_text()
    for line in ('host = "10.0.0.5"', "port = 1884", 'username = "rover-7"',
                 'site_estop_topic = "site/estop"', 'prefix = "robots/rover-7"',
                 'id = "rover-7"'):
        assert f"\n{line}\n" in text, line
    assert "rover-1" not in text
    assert not (tmp_path / "etc/mosquitto").exists()
    assert "--site-broker --add-robot rover-7 --password-file" in out
    check = subprocess.run([sys.executable, "-m", "agent.cli", "check-config", "--config",
                            str(tmp_path / "etc/robot-agent/config.toml")],
                           capture_output=True, text=True, cwd=ROOT)
    assert check.returncode == 0, check.stderr
    again = run(tmp_path, "--site", "10.0.0.5:1884", "--id", "rover-7")
    assert not any(line.startswith("changed:") for line in again.splitlines())


def test_the_site_broker_gives_each_robot_its_own_user(tmp_path: Path) -> None:
    """Installed as shipped; every user it made gets in with its password (a real mosquitto
    on the installed files), a wrong password does not; a second run changes nothing."""
    password = tmp_path / "rover-7.pw"
    password.write_text("seven-secret\n")  # as a robot's credentials/mqtt-password is
    root = tmp_path / "root"
    first = run(root, "--site-broker", "--add-robot", "rover-7", "--password-file",
                str(password))
    mosq = root / "etc/mosquitto"
    assert (mosq / "robot-site.acl").read_text() == (
        ROOT / "deploy/mosquitto/site.acl").read_text()
    assert (mosq / "conf.d/robot-site.conf").read_text() == (
        ROOT / "deploy/mosquitto/site.conf").read_text()
    users = [line.split(":")[0] for line in (mosq / "robot-site.passwd").read_text().split()]
    assert users == ["operator", "homeassistant", "dispatcher", "rover-7"], first
    assert run(root, "--site-broker", "--add-robot", "rover-7", "--password-file",
               str(password)).strip().endswith("nothing changed")
    operator = (root / "etc/robot-agent/site-credentials/operator").read_text().strip()
    # The installed files, where mosquitto (which drops to its own user) can read them.
    files = Path(tempfile.mkdtemp(prefix="robot-agent-install-"))
    files.chmod(0o755)
    for name in ("robot-site.passwd", "robot-site.acl"):
        shutil.copy(mosq / name, files / name)
        (files / name).chmod(0o644)
    port = free_port()
    conf = files / "m.conf"
    conf.write_text((mosq / "conf.d/robot-site.conf").read_text().replace(
        "listener 1883", f"listener {port} 127.0.0.1").replace("/etc/mosquitto/", f"{files}/"))
    broker = Broker(port, conf)
    broker.start()
    try:
        assert connects(port, "rover-7", "seven-secret")
        assert connects(port, "operator", operator)
        assert not connects(port, "rover-7", "wrong")
    finally:
        broker.stop()
        shutil.rmtree(files)


def connects(port: int, user: str, password: str) -> bool:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"install-{user}",
                         protocol=paho.MQTTv5)
    client.username_pw_set(user, password)
    answer: list[bool] = []
    client.on_connect = lambda c, u, f, reason, p: answer.append(not reason.is_failure)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        assert wait_until(lambda: bool(answer)), "no CONNACK"
        return answer[0]
    finally:
        client.loop_stop()
        client.disconnect()
