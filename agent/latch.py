"""The e-stop latch: engaged or not, by whom, why, since when; kept on disk across restarts.

A latch file that cannot be read means the daemon starts engaged: not knowing is not safe.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_STATE_DIR = Path("/var/lib/robot-agent")


def state_dir() -> Path:
    return Path(os.environ.get("ROBOT_AGENT_STATE_DIR") or DEFAULT_STATE_DIR)


@dataclass(frozen=True)
class LatchState:
    engaged: bool
    source: str = ""  # mqtt | button | cli | watchdog | startup
    reason: str = ""
    since: float = 0.0  # epoch seconds


class Latch:
    def __init__(self, directory: Path) -> None:
        self.path = directory / "estop.json"
        self.state = self._load()

    @property
    def engaged(self) -> bool:
        return self.state.engaged

    def set(self, state: LatchState) -> None:
        """Change the latch in memory, then on disk; a disk failure never blocks it.

        The atomic rename makes the file survive a crash of this process at once; sync() makes
        it survive a power cut, and is left to the caller so the e-stop can be announced first.
        A power cut in between leaves the old file or an unreadable one; unreadable starts
        engaged.
        """
        self.state = state
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(asdict(state)), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.error("could not save the e-stop latch to %s: %s (it holds in memory)",
                      self.path, exc)

    def sync(self) -> None:
        """Make the saved latch durable across a power cut."""
        try:
            for target, flags in ((self.path, os.O_RDONLY), (self.path.parent, os.O_RDONLY)):
                fd = os.open(target, flags)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as exc:
            log.error("could not sync the e-stop latch %s to disk: %s", self.path, exc)

    def _load(self) -> LatchState:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return LatchState(bool(data["engaged"]), str(data.get("source", "")),
                              str(data.get("reason", "")), float(data.get("since", 0.0)))
        except FileNotFoundError:
            return LatchState(False)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.error("e-stop latch file %s is unreadable (%s): starting engaged", self.path, exc)
            return LatchState(True, "startup", f"latch file unreadable: {exc}", 0.0)
