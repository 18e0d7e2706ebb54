"""The whole picture of the robot now, for people and programs: the e-stop, every device's
output state, every sensor with its value, unit, age and freshness, and what is running.

One place builds it; the daemon publishes it (retained, `P/state`) and state questions are
answered from it, so an answer never says something the published picture does not.
"""

from __future__ import annotations

from typing import Any

from agent.estop_latch import Latch
from agent.executor import Executor
from agent.sensors import Sensors


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
