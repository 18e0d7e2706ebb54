"""The e-stop latch: engaged or not, by whom, why, since when; kept on disk across restarts.

A latch file that cannot be read means the daemon starts engaged: not knowing is not safe.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LatchState:
    engaged: bool
    source: str = ""  # mqtt | button | cli | watchdog | startup
    reason: str = ""
    since: float = 0.0  # epoch seconds


# The latch file is one fixed-size record, so saving it is a single pwrite to a file opened at
# start-up: the e-stop path makes one system call for it, not five (each one is a chance to
# wait for the GIL). A torn record does not parse, and an unreadable latch starts engaged.
RECORD_BYTES = 4096


class Latch:
    def __init__(self, directory: Path, started: float | None = None) -> None:
        """started: when this process started (epoch seconds), the `since` of a latch with
        nothing on record (a first start: released since then) or an unreadable one."""
        self.path = directory / "estop.json"
        self.started = time.time() if started is None else started
        self.state = self._load()
        self.fd: int | None = None
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            if os.fstat(self.fd).st_size != RECORD_BYTES:
                self._write(self.state)
                os.ftruncate(self.fd, RECORD_BYTES)
        except OSError as exc:
            log.error("cannot open the e-stop latch file %s: %s (the latch holds in memory "
                      "only; it will not survive a restart)", self.path, exc)

    @property
    def engaged(self) -> bool:
        return self.state.engaged

    def set(self, state: LatchState) -> None:
        """Change the latch in memory, then on disk; a disk failure never blocks it.

        The write survives a crash of this process at once (it is in the page cache); sync()
        makes it survive a power cut, and is left to the caller so the e-stop can be announced
        first. A power cut in between leaves the old record or a torn one; torn starts engaged.
        """
        self.state = state
        try:
            self._write(state)
        except OSError as exc:
            log.error("could not save the e-stop latch to %s: %s (it holds in memory)",
                      self.path, exc)

    def _write(self, state: LatchState) -> None:
        if self.fd is None:
            raise OSError(f"{self.path} is not open")
        record = json.dumps(asdict(state)).encode()[:RECORD_BYTES]
        os.pwrite(self.fd, record.ljust(RECORD_BYTES, b" "), 0)

    def sync(self) -> None:
        """Make the saved latch durable across a power cut."""
        try:
            if self.fd is not None:
                os.fsync(self.fd)
        except OSError as exc:
            log.error("could not sync the e-stop latch %s to disk: %s", self.path, exc)

    def _load(self) -> LatchState:
        try:
            with open(self.path, "rb") as f:  # one record; never more, whatever the path is
                data = json.loads(f.read(RECORD_BYTES).decode("utf-8"))
            return LatchState(bool(data["engaged"]), str(data.get("source", "")),
                              str(data.get("reason", "")), float(data.get("since", 0.0)))
        except FileNotFoundError:
            return LatchState(False, "startup", "no e-stop on record: first start", self.started)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("e-stop latch file %s is unreadable (%s): starting engaged", self.path, exc)
            return LatchState(True, "startup", f"latch file unreadable: {exc}", self.started)
