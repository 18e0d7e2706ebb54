"""A full disk under the state directory: the e-stop still engages, every output goes safe, and
the daemon stays healthy. The latch is one fixed-size record written in place, so on a real full
filesystem it still reaches the disk and holds across a restart."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Broker, Client, Running, make_config, start_daemon

ESTOP = "robots/t/estop"
STATE = "robots/t/estop/state"


def engage_while_moving(running: Running, client: Client) -> None:
    client.publish("robots/t/sensors/front", "2.0")
    client.publish("robots/t/cmd", {"id": "m", "action": "move", "params": {"distance_m": 2}})
    client.result("m", "running")
    client.publish(ESTOP, '{"reason": "disk full drill"}')
    assert client.wait_for(STATE, lambda s: s["engaged"])["reason"] == "disk full drill"
    assert all(running.pin(n).state == 0 for n in (4, 14, 17, 18))
    assert client.result("m", "failed")["reason"] == "estop_engaged"
    assert running.daemon.health_problem() == ""


def fill(directory: Path) -> None:
    """Write until the filesystem refuses: proof that it is full."""
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        with pytest.raises(OSError) as full:
            while True:
                os.write(fd, b"\0" * 4096)
    finally:
        os.close(fd)
    assert full.value.errno == errno.ENOSPC


@pytest.fixture
def tiny_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: a real filesystem that really fills up. Mounting it needs root."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the /dev/full test covers the code path")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_full_filesystem_estop_engages_and_the_latch_still_holds(
        broker: Broker, client: Client, tiny_filesystem: Path) -> None:
    state_dir = tiny_filesystem / "state"
    first = start_daemon(make_config(broker.port), state_dir, client)
    try:
        fill(tiny_filesystem)
        engage_while_moving(first, client)
    finally:
        assert first.stop() == 0
    client.forget()
    second = start_daemon(make_config(broker.port), state_dir, client)
    try:
        state = client.wait_for(STATE, lambda s: "engaged" in s)
        assert state["engaged"] and state["reason"] == "disk full drill"
    finally:
        second.stop()


def test_every_latch_write_failing_with_enospc_still_engages(
        broker: Broker, client: Client, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / "estop.json").symlink_to("/dev/full")  # every write: ENOSPC
    running = start_daemon(make_config(broker.port), state_dir, client)
    try:
        # What it reads there is no latch record: it starts engaged, as when unreadable.
        assert client.wait_for(STATE, lambda s: "engaged" in s)["source"] == "startup"
        client.publish("robots/t/estop/reset", {"id": "r", "reason": "drill"})
        assert client.result("r")["status"] == "done"
        client.forget()
        engage_while_moving(running, client)
        assert "No space left on device" in caplog.text
    finally:
        running.stop()
