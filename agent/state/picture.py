"""The whole picture of the robot now, for people and programs: the e-stop, every device's
output state, every sensor with its value, unit, age and freshness, and what is running.

One place builds it; StateFeed publishes it (retained, `P/state`) and state questions are
answered from it, so an answer never says something the published picture does not.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from agent.core.clock import Clock
from agent.core.decisions import to_json
from agent.safety.executor import Executor
from agent.safety.latch import Latch
from agent.sensing.sensors import Sensors

log = logging.getLogger(__name__)

SENSOR_EVERY_S = 0.5  # after sensor changes, P/state at most this often, whatever the flood
CHANGE_GAP_S = 0.02  # after a device or e-stop change at once, but never more often than this


class Picture:
    def __init__(self, *, latch: Latch, executor: Executor, sensors: Sensors) -> None:
        self.latch = latch
        self.executor = executor
        self.sensors = sensors

    def now(self) -> dict[str, Any]:
        return {"estop": self.latch.engaged,
                "devices": {name: out.state() for name, out in self.executor.outputs.items()},
                "sensors": self.sensors.snapshot(),
                "running": self.executor.running_now()}


class StateFeed:
    """Publishes the picture on `P/state`, retained, from a thread of its own: at once after a
    device or e-stop change (and on connect), within SENSOR_EVERY_S after a sensor change.
    Changes that come faster are folded into one publication: the newest picture always
    goes out."""

    def __init__(self, picture: Picture, publish: Callable[[str], object], *, clock: Clock,
                 stopping: threading.Event) -> None:
        self.picture = picture
        self.publish = publish
        self.clock = clock
        self.stopping = stopping
        self.dirty = False
        self.urgent = False
        self.last = float("-inf")
        self.wake = threading.Event()
        self.heartbeat = clock.monotonic()
        self.thread = threading.Thread(target=self._run, name="state", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def changed(self, urgent: bool = False) -> None:
        """Something in the picture changed; urgent for devices, the e-stop and a connect.
        Cheap on purpose: a sensor flood calls this for every reading."""
        if urgent:
            self.urgent = True
        elif self.dirty:
            return
        self.dirty = True
        self.wake.set()

    def problem(self, hung_after_s: float) -> str:
        if not self.thread.is_alive():
            return "the state publisher thread died"
        silent = self.clock.monotonic() - self.heartbeat
        return f"the state publisher is stuck ({silent:.0f} s)" if silent > hung_after_s else ""

    def _run(self) -> None:
        timeout = 1.0
        while not self.stopping.is_set():
            self.heartbeat = self.clock.monotonic()
            self.wake.wait(timeout)
            self.wake.clear()
            timeout = 1.0
            if not self.dirty:
                continue
            wait = self.last + (CHANGE_GAP_S if self.urgent else SENSOR_EVERY_S) - \
                self.clock.monotonic()
            if wait > 0:
                timeout = wait
                continue
            self.dirty = self.urgent = False
            self.last = self.clock.monotonic()
            try:
                self.publish(to_json(self.picture.now()))
            except Exception:  # the next change tries again; the control path is not affected
                if not self.stopping.is_set():  # at shutdown the outputs close under it
                    log.exception("publishing the state failed")
