"""systemd integration: READY, STATUS, WATCHDOG and STOPPING notifications.

The watchdog ping is sent only while the daemon reports itself healthy (every thread alive,
none stuck), so a hung daemon stops pinging and systemd kills and restarts it. Without systemd
(no NOTIFY_SOCKET), nothing is sent.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.daemon import Daemon

log = logging.getLogger(__name__)

Notify = Callable[[str], None]


def systemd_notify() -> Notify | None:
    """sd_notify through systemd-python, or None where there is no systemd to tell."""
    if not os.environ.get("NOTIFY_SOCKET"):
        return None
    try:
        import systemd.daemon as sd
    except ImportError:
        log.warning("NOTIFY_SOCKET is set but systemd-python is not installed")
        return None
    def notify(state: str) -> None:
        sd.notify(state)

    return notify


def watchdog_interval() -> float | None:
    """Half of WATCHDOG_USEC, when the watchdog is meant for this process."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1e6 / 2


class Service:
    def __init__(self, daemon: Daemon, notify: Notify, watchdog_s: float | None) -> None:
        self.daemon = daemon
        self.notify = notify
        self.watchdog_s = watchdog_s
        self.last_status = ""
        self.thread = threading.Thread(target=self._run, name="systemd", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def status(self) -> str:
        d = self.daemon
        cfg = d.config.mqtt
        connection = d.connection
        broker = (f"broker {cfg.host}:{cfg.port} connected" if connection.connected.is_set()
                  else f"waiting for broker {cfg.host}:{cfg.port} "
                       f"({connection.last_error or '...'})")
        link = d.estop.connection
        estop_link = ("e-stop link connected" if link.connected.is_set()
                      else f"e-stop link DOWN ({link.last_error or '...'})")
        if d.link.bridged:
            estop_link += f", bridge {d.link.bridge}"
        if d.link.lost:
            estop_link += "; MOTION STOPPED (link lost)"
        status = d.status()
        estop = "E-STOP ENGAGED" if status["estop"] else "e-stop released"
        problem = d.health_problem()
        schedules = status["schedules"]
        store = "" if schedules["store"] == "ok" else f" (schedule file {schedules['store']})"
        return (f"{broker}; {estop_link}; model {status['model']}; cloud {status['cloud']}; "
                f"{estop}; {schedules['pending']} scheduled{store}"
                + (f"; FAULT: {problem}" if problem else ""))

    def stopping(self) -> None:
        """The daemon's last word before its outputs go safe: the status that says why (a fault
        is named: the daemon may notice it before this thread's next look), then STOPPING=1."""
        status = self.status()
        self.notify((f"STATUS={status}\n" if status != self.last_status else "") + "STOPPING=1")

    def _run(self) -> None:
        d = self.daemon
        ready = False
        tick = min(self.watchdog_s or 1.0, 1.0)
        while not d.stopping.is_set():
            messages = []
            if not ready and d.connection.connected.is_set():
                ready = True
                messages.append("READY=1")
            status = self.status()
            if status != self.last_status:
                self.last_status = status
                messages.append(f"STATUS={status}")
            if self.watchdog_s and not d.health_problem():
                messages.append("WATCHDOG=1")
            if messages:
                self.notify("\n".join(messages))
            d.stopping.wait(tick)
