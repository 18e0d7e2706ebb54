"""deploy/install.sh into a temporary root: complete, idempotent, keeps config, uninstalls."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from tests.conftest import ROOT

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
