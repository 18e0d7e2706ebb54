"""Plans, cloud and local, run by one plan runner: long plans are normal work, a plan's time
limit ends only that plan, the e-stop ends a plan at once, and every step leaves its record."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.core.decisions import Decision
from tests.cloudstub import CloudStub
from tests.conftest import Broker, Client, Running, make_config, start_daemon
from tests.test_cloud import KEY, PLAN

FAN = """
[devices.fan]
kind = "motor"
forward = 20
backward = 21
[actions.fan]
device = "fan"
op = "run"
params.duration_s = { type = "number", minimum = 0.1, maximum = 5, default = 1 }
"""


def spin(degrees: float = 360) -> dict[str, Any]:
    """A turn: 360 degrees at 180 degrees a second runs 2 s."""
    return {"action": "turn", "params": {"direction": "left", "degrees": degrees}}


@pytest.fixture
def stub() -> Iterator[CloudStub]:
    server = CloudStub()
    yield server
    server.stop()


def planning_daemon(broker: Broker, client: Client, stub: CloudStub, state: Path,
                    monkeypatch: pytest.MonkeyPatch, max_plan_s: float = 30.0) -> Running:
    monkeypatch.setenv("ROBOT_AGENT_CLOUD_API_KEY", KEY)
    cloud = (f'\n[cloud]\nenabled = true\nbase_url = "{stub.base_url}"\nmodel = "stub"\n'
             f"max_plan_s = {max_plan_s}\n")
    return start_daemon(make_config(broker.port, FAN + cloud), state, client)


def records(client: Client, rid: str) -> list[Any]:
    client.forget()  # pulls everything received into history
    return [json.loads(p) for t, p, _ in client.history
            if t == "robots/t/events" and json.loads(p)["id"] == rid]


def test_a_plan_longer_than_the_stuck_limit_is_normal_work(
        broker: Broker, client: Client, stub: CloudStub, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    running = planning_daemon(broker, client, stub, tmp_path / "s", monkeypatch)
    running.daemon.hung_after_s = 1.0  # stands for the 30 s default: a plan of 4 s outlives it
    try:
        stub.script.append(("plan", [spin(), spin()]))
        client.publish(PLAN, {"id": "long", "goal": "spin twice"})
        assert client.final("long", timeout=15)["status"] == "done"
        assert running.daemon.health_problem() == ""
        assert running.thread.is_alive() and not running.exit_code  # no fault, no exit
    finally:
        running.stop()


def test_a_plan_timeout_ends_only_that_plan(broker: Broker, client: Client, stub: CloudStub,
                                            tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    running = planning_daemon(broker, client, stub, tmp_path / "s", monkeypatch,
                              max_plan_s=0.5)
    try:
        client.publish("robots/t/cmd", {"id": "fan", "action": "fan",
                                        "params": {"duration_s": 3}})
        client.result("fan", "running")
        stub.script.append(("plan", [spin(), {"action": "lights_off", "params": {}}]))
        client.publish(PLAN, {"id": "slow", "goal": "spin"})
        result = client.final("slow")
        assert (result["status"], result["reason"]) == ("failed", "plan_timeout")
        step = client.wait_for("robots/t/result", lambda r: r["id"] == "slow" and
                               r.get("step") == 1 and r["status"] == "failed")
        assert step["reason"] == "plan_timeout"  # the step itself got its final result
        assert all(running.pin(n).state == 0 for n in (4, 14, 17, 18))  # the plan's own stop
        assert running.pin(20).state > 0  # the unrelated fan runs on
        done = client.result("fan", "done", timeout=5)  # and ends on its own, with its result
        assert done["reason"] is None
    finally:
        running.stop()


def test_every_step_leaves_its_record(broker: Broker, client: Client, stub: CloudStub,
                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    running = planning_daemon(broker, client, stub, tmp_path / "s", monkeypatch)
    try:
        stub.script.append(("plan", [
            {"action": "lights_color", "params": {"color": "red"}}, spin(18),
            {"action": "lights_color", "params": {"color": "green"}},
            {"action": "lights_off", "params": {}}]))
        client.publish(PLAN, {"id": "four", "goal": "four steps"})
        assert client.final("four")["status"] == "done"
        time.sleep(0.3)  # records go out with the results; give the last one its hop
        events = records(client, "four")
        assert [e.get("step") for e in events] == [None, 1, 2, 2, 3, 4, None]
        assert [e["status"] for e in events] == ["running", "done", "running", "done", "done",
                                                 "done", "done"]
        assert [e["action"] for e in events[1:6]] == ["lights_color", "turn", "turn",
                                                      "lights_color", "lights_off"]
    finally:
        running.stop()


def test_a_local_plan_runs_through_the_same_runner_and_the_estop_ends_it(
        daemon: Running, client: Client) -> None:
    d = daemon.daemon
    job = d.pipeline.job("ask")
    plan = Decision.executed("lp", "ask", route="local", text="spin then blue")
    d.plans.run(plan, [spin(), {"action": "lights_color", "params": {"color": "blue"}}], job,
                None, max_s=30)
    started = client.wait_for("robots/t/result", lambda r: r["id"] == "lp" and
                              "step" not in r and r["status"] == "running")
    assert started["route"] == "local" and started["plan"][0]["action"] == "turn"
    client.result("lp", "running")
    client.wait_for("robots/t/result", lambda r: r["id"] == "lp" and r.get("step") == 1)
    client.publish("robots/t/estop", "")
    result = client.final("lp")
    assert (result["status"], result["reason"], result["route"]) == (
        "failed", "estop_engaged", "local")
    client.publish("robots/t/estop/reset", {"id": "r", "reason": "checked"})
    client.result("r", "done")
    time.sleep(0.5)
    assert daemon.pin(13).state == 0  # step 2 never ran, not even after the reset
    assert all(daemon.pin(n).state == 0 for n in (4, 14, 17, 18))


def test_a_plan_queued_before_an_estop_never_starts(daemon: Running, client: Client) -> None:
    d = daemon.daemon
    job = d.pipeline.job("ask")
    client.publish("robots/t/estop", "")
    client.wait_for("robots/t/estop/state", lambda s: s["engaged"])
    client.publish("robots/t/estop/reset", {"id": "r", "reason": "checked"})
    client.result("r", "done")
    d.plans.run(Decision.executed("old", "ask", route="local"),
                [{"action": "lights_color", "params": {"color": "blue"}}], job, None, max_s=30)
    result = client.final("old")
    assert (result["status"], result["reason"]) == ("refused", "estop_engaged")
    assert daemon.pin(13).state == 0
