"""Schedules as a property: random interleavings of adding, cancelling, e-stops, their follow-ups
arriving late, resets and time passing, on a daemon that is built but not started (no broker,
no threads, a fake clock), checked after every step:

- nothing accepted before an e-stop ever runs after it, even before the e-stop's follow-up has
  cancelled it, and even after a reset;
- every accepted entry gets at most one final result, and once time has run past all of them
  and the follow-ups have arrived, exactly one.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from gpiozero.pins.mock import MockFactory, MockPWMPin
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.daemon import Daemon
from agent.mqtt.inbound import Inbound
from agent.requests.schedules import LATE_LIMIT_S
from tests.conftest import NO_MODEL, make_config
from tests.test_sensors import Clock


class World:
    def __init__(self, state_dir: Path) -> None:
        self.clock = Clock()  # a fake: time moves when the test says
        self.daemon = Daemon(make_config(1), pin_factory=MockFactory(pin_class=MockPWMPin),
                             state_dir=state_dir, clock=self.clock, model=NO_MODEL)
        self.results: list[dict[str, Any]] = []
        self.daemon.connection.publish = self._published  # type: ignore[method-assign]
        self.schedules = self.daemon.schedules
        self.accepted: dict[str, int] = {}  # request id -> the e-stop epoch it was accepted in
        self.ids = 0
        self.follow_ups: list[int] = []  # steps until each e-stop's follow-up

    def _published(self, topic: str, payload: str | bytes, qos: int = 1,
                   retain: bool = False, correlation: bytes | None = None) -> Any:
        if topic == "robots/t/result":
            self.results.append(json.loads(payload))

    def finals(self, rid: str) -> list[dict[str, Any]]:
        return [r for r in self.results if r["id"] == rid and r["status"] != "scheduled"]

    def step(self, op: tuple[Any, ...]) -> None:
        kind = op[0]
        before = len(self.results)
        if kind == "add":
            self.ids += 1
            rid = f"r{self.ids}"
            action, params = (("lights_off", {}) if op[2] else ("lights_color",
                                                                 {"color": "red"}))
            decision = self.schedules.add(
                request_id=rid, input_kind="ask", action=action, params=params,
                at=datetime.fromtimestamp(self.clock.time() + op[1]).astimezone(), text=None,
                recurring=None, reply=None, confidence=None)
            if decision.status == "scheduled":
                self.accepted[rid] = self.daemon.estop.epoch
        elif kind == "cancel":
            pending = self.schedules.pending()
            if pending:
                self.schedules.cancel(pending[op[1] % len(pending)].schedule_id)
        elif kind == "cancel_all":
            self.schedules.cancel_matching(action=None)
        elif kind == "estop":  # its follow-up comes op[1] steps later
            self.daemon.estop.engage("mqtt", "test")
            self.follow_ups.append(op[1])
        elif kind == "reset":
            self.daemon.estop.reset(Inbound("robots/t/estop/reset",
                                            json.dumps({"id": "x", "reason": "ok"}).encode()))
        elif kind == "time":
            self.clock.t += op[1]
            self.schedules.tick()
        self._follow_ups()
        self.check(self.results[before:])

    def _follow_ups(self) -> None:
        """What the e-stop's follow-up worker does for schedules, as late as the test says."""
        self.follow_ups = [n - 1 for n in self.follow_ups]
        if any(n < 0 for n in self.follow_ups):
            self.follow_ups = [n for n in self.follow_ups if n >= 0]
            self.schedules.after_estop()

    def check(self, new: list[dict[str, Any]]) -> None:
        for result in new:
            if result.get("route") == "schedule" and result["status"] == "done":
                assert self.accepted[result["id"]] == self.daemon.estop.epoch, (
                    f"{result['id']} ran after an e-stop that came after it")
        for rid in self.accepted:
            assert len(self.finals(rid)) <= 1, self.finals(rid)

    def finish(self) -> None:
        self.schedules.after_estop()
        self.clock.t += 10 * 3600
        self.schedules.tick()
        for rid in self.accepted:
            assert len(self.finals(rid)) == 1, (rid, self.finals(rid))
        assert self.schedules.pending() == []


ADD = st.tuples(st.just("add"), st.sampled_from([0.5, 3.0, 10.0]), st.booleans())
TIME = st.tuples(st.just("time"), st.sampled_from([0.2, 1.0, 4.0, 12.0, 2 * LATE_LIMIT_S]))
OPS = st.one_of(  # adding and time passing are drawn three times as often as the rest
    ADD, TIME, ADD, TIME, ADD, TIME,
    st.tuples(st.just("cancel"), st.integers(0, 10)),
    st.tuples(st.just("cancel_all")),
    st.tuples(st.just("estop"), st.integers(0, 3)),
    st.tuples(st.just("reset")),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, min_size=10, max_size=30))
def test_schedules_across_estops_resets_and_time(ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as state:
        world = World(Path(state))
        try:
            for op in ops:
                world.step(op)
            world.finish()
        finally:
            world.daemon.executor.close()
