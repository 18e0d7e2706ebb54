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
        """Change the latch in memory first, then on disk; a disk failure never blocks it."""
        self.state = state
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(asdict(state), f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            log.error("could not save the e-stop latch to %s: %s (it holds in memory)",
                      self.path, exc)

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
