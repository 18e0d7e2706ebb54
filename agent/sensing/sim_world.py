"""A simulated world for `run --sim`: a room for the simulated robot to drive in, and the sensor
readings a robot stack would publish from it, over MQTT on the configured sensor topics.

Only in simulation: the command line starts it with `--sim` or `gpio.pin_factory = "mock"`.
Ten times a second it reads the robot device's motor values (the simulated pins'), moves the
robot in a 2.5 x 2.5 m room (it starts 2 m from a wall), and publishes `{"value", "ts"}` to:
- each number sensor with unit "m": the distance ahead to the wall the robot faces;
- each number sensor with unit "%": a battery that starts at 20 %, drains while the motors run
  and charges while they are still, as if on a charger (so a low-battery reaction fires after
  about 25 s of driving, re-arms after a rest, and can fire again);
- each bool sensor: a bumper, true while the robot touches a wall;
- each camera: once a second, a JPEG of the room as the robot sees it (agent.sensing.sim_camera).
Other sensors (events, other units) are left to the user, to publish by hand. With `[sim] world
= false` none of this runs: mock pins, and sensors only as the user publishes them.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from agent.config import Config
from agent.core.clock import Clock
from agent.devices import Output
from agent.sensing.sim_camera import render

PERIOD_S = 0.1
FRAME_EVERY_S = 1.0  # a camera's frames: a low rate, as a robot would send them
ROOM_M = (2.5, 2.5)
START = (0.5, 1.25, 0.0)  # x, y (m), heading (degrees, counter-clockwise; 0 faces +x): 2 m ahead
TOUCH_M = 0.02  # this close to a wall the bumper is pressed
BATTERY_START = 20.0
CHARGE_IDLE = 0.05  # % a second
DRAIN_DRIVING = 0.2


@dataclass
class Pose:
    x: float
    y: float
    heading: float

    def ahead(self) -> float:
        """Distance to the wall straight ahead."""
        return self.wall(self.heading)[0]

    def wall(self, heading: float) -> tuple[float, str]:
        """Distance to the wall in a direction (degrees), and which wall it is: "+x", "-x",
        "+y" or "-y" (the robot starts facing "+x")."""
        dx, dy = math.cos(math.radians(heading)), math.sin(math.radians(heading))
        limits = []
        for axis, position, step, size in (("x", self.x, dx, ROOM_M[0]),
                                           ("y", self.y, dy, ROOM_M[1])):
            if step > 1e-9:
                limits.append(((size - position) / step, "+" + axis))
            elif step < -1e-9:
                limits.append((-position / step, "-" + axis))
        distance, which = min(limits)
        return max(0.0, distance), which

    def drive(self, metres: float, degrees: float) -> None:
        """Turn, then move (forward or back), never through a wall."""
        self.heading = (self.heading + degrees) % 360
        room = (self.ahead() if metres >= 0
                else Pose(self.x, self.y, self.heading + 180).ahead())
        metres = math.copysign(min(abs(metres), room), metres)
        self.x += metres * math.cos(math.radians(self.heading))
        self.y += metres * math.sin(math.radians(self.heading))


class SimWorld:
    def __init__(self, config: Config, outputs: dict[str, Output],
                 publish: Callable[[str, str | bytes], object], *, clock: Clock,
                 stopping: threading.Event) -> None:
        self.publish = publish
        self.clock = clock
        self.stopping = stopping
        self.mover = next((out for out in outputs.values() if out.motion() is not None), None)
        self.pose = Pose(*START)
        self.battery = BATTERY_START
        sensors = config.sensors.items()
        self.distances = [s.topic for _, s in sensors if s.kind == "number" and s.unit == "m"]
        self.batteries = [s.topic for _, s in sensors if s.kind == "number" and s.unit == "%"]
        self.bumpers = [s.topic for _, s in sensors if s.kind == "bool"]
        self.cameras = [s.topic for _, s in sensors if s.kind == "camera"]
        self.thread = threading.Thread(target=self._run, name="sim-world", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def step(self, dt: float) -> None:
        """Move the robot, and drain or charge the battery, for dt seconds of the motors'
        current values."""
        metres_s, degrees_s = (self.mover.motion() if self.mover else None) or (0.0, 0.0)
        self.pose.drive(metres_s * dt, degrees_s * dt)
        change = -DRAIN_DRIVING if metres_s or degrees_s else CHARGE_IDLE
        self.battery = min(100.0, max(0.0, self.battery + change * dt))

    def readings(self) -> list[tuple[str, float | bool]]:
        ahead = self.pose.ahead()
        return ([(t, round(ahead, 3)) for t in self.distances] +
                [(t, round(self.battery, 2)) for t in self.batteries] +
                [(t, ahead <= TOUCH_M) for t in self.bumpers])

    def _run(self) -> None:
        last = framed = self.clock.monotonic()
        while not self.stopping.wait(PERIOD_S):
            now = self.clock.monotonic()
            self.step(now - last)
            last = now
            ts = self.clock.time()
            for topic, value in self.readings():
                self.publish(topic, json.dumps({"value": value, "ts": round(ts, 3)}))
            if self.cameras and now - framed >= FRAME_EVERY_S:
                framed = now
                frame = render(self.pose)
                for topic in self.cameras:
                    self.publish(topic, frame)
