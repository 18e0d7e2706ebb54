"""Cloud planning against real HTTP servers on loopback: a scripted one for exact plans and
each failure mode, and (test_llama_server.py) llama-cpp-python's server with the real model."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cloudstub import CloudStub
from tests.conftest import (
    Broker,
    Client,
    Running,
    estop_ends_plan_in_its_first_step,
    free_port,
    make_config,
    start_daemon,
)

PLAN = "robots/t/plan"
KEY = "sk-test-SECRET-0123456789"


def cloud_config(port: int, base_url: str, timeout_s: float = 2.0, max_plan_s: float = 30.0,
                 ) -> Any:
    return make_config(port, f'\n[cloud]\nenabled = true\nbase_url = "{base_url}"\n'
                             f'model = "stub"\ntimeout_s = {timeout_s}\n'
                             f"max_plan_s = {max_plan_s}\n")


@pytest.fixture
def planning(broker: Broker, client: Client, stub: CloudStub, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    monkeypatch.setenv("ROBOT_AGENT_CLOUD_API_KEY", KEY)
    running = start_daemon(cloud_config(broker.port, stub.base_url), tmp_path / "state",
                           client)
    yield running
    running.stop()


def test_a_plan_runs_step_by_step_with_a_result_for_each(planning: Running, client: Client,
                                                         stub: CloudStub) -> None:
    stub.script.append(("plan", [
        {"action": "lights_color", "params": {"color": "red"}},
        {"action": "turn", "params": {"direction": "left", "degrees": 18}},
        {"action": "lights_off", "params": {}}]))
    client.publish(PLAN, {"id": "p1", "goal": "flash red, look left, lights off"})
    assert client.final("p1")["status"] == "done"
    steps = [r for r in map(lambda m: m, _results(client, "p1")) if "step" in r]
    assert [(r["step"], r["action"], r["status"]) for r in steps] == [
        (1, "lights_color", "done"), (2, "turn", "running"), (2, "turn", "done"),
        (3, "lights_off", "done")]
    assert all(r["route"] == "cloud" for r in steps)
    assert planning.pin(5).state == 0  # lights off at the end
    events = [e for e in _events(client) if e["id"] == "p1"]
    assert {e["input_kind"] for e in events} == {"plan"} and all(e["cloud_escalated"]
                                                                 for e in events)
    prompt = stub.requests[0]["body"]["messages"]
    assert "water" not in prompt[0]["content"]  # high-risk actions are never offered
    assert "Robot state: e-stop released" in prompt[1]["content"]


def test_the_planner_is_told_what_stays_on(planning: Running, client: Client,
                                           stub: CloudStub) -> None:
    """A light allowed to stay on is running with no end: the planner hears "stays on" (found
    by the property soak: formatting its missing end made every plan an internal_error)."""
    client.publish("robots/t/cmd", {"id": "on", "action": "lights_color",
                                    "params": {"color": "red"}})
    assert client.result("on")["status"] == "done"
    stub.script.append(("plan", [{"action": "lights_off", "params": {}}]))
    client.publish(PLAN, {"id": "p2", "goal": "lights off"})
    assert client.final("p2")["status"] == "done"
    assert "Running: lights_color (stays on)." in stub.requests[0]["body"]["messages"][1][
        "content"]


def test_every_step_of_a_plan_leaves_its_own_record(planning: Running, client: Client,
                                                    stub: CloudStub) -> None:
    """A four-step plan: P/events carries the plan's start, each step's records (a timed step's
    start and end, each saying which step it is, so no two look alike) and its end; nothing was
    dropped on the way."""
    client.publish("robots/t/sensors/front", "2.0")
    stub.script.append(("plan", [
        {"action": "lights_color", "params": {"color": "red"}},
        {"action": "turn", "params": {"direction": "left", "degrees": 18}},
        {"action": "move", "params": {"distance_m": 0.1}},
        {"action": "lights_off", "params": {}}]))
    client.publish(PLAN, {"id": "p4", "goal": "four steps"})
    assert client.final("p4")["status"] == "done"
    events = client.wait_for  # the last record is the plan's end: everything before is here
    events("robots/t/events", lambda e: e["id"] == "p4" and e["status"] == "done" and
           "step" not in e)
    records = [e for e in _events(client) if e["id"] == "p4"]
    assert [(e.get("step"), e["action"], e["status"]) for e in records] == [
        (None, None, "running"), (1, "lights_color", "done"), (2, "turn", "running"),
        (2, "turn", "done"), (3, "move", "running"), (3, "move", "done"),
        (4, "lights_off", "done"), (None, None, "done")], records
    assert len({json.dumps(e, sort_keys=True) for e in records}) == len(records)
    assert planning.daemon.status()["dropped"] == 0


def test_a_plan_with_forbidden_steps_is_refused_whole(planning: Running, client: Client,
                                                      stub: CloudStub) -> None:
    stub.script.append(("plan", [
        {"action": "lights_color", "params": {"color": "red"}},
        {"action": "fly", "params": {}},
        {"action": "move", "params": {"distance_m": 50}},
        {"action": "water", "params": {}}]))
    client.publish(PLAN, {"id": "p2", "goal": "do everything"})
    result = client.final("p2")
    assert result["status"] == "refused" and result["reason"] == "unknown_action"
    for named in ("step 2 fly", "step 3 move", "step 4 water"):
        assert named in result["detail"]
    assert "step 1" not in result["detail"]
    assert planning.pin(5).state == 0 and planning.pin(23).state == 0  # nothing ran


def test_the_estop_aborts_a_running_plan(planning: Running, client: Client,
                                         stub: CloudStub) -> None:
    stub.script.append(("plan", [
        {"action": "turn", "params": {"direction": "left", "degrees": 360}},
        {"action": "lights_color", "params": {"color": "blue"}}]))
    client.publish(PLAN, {"id": "p3", "goal": "spin then blue"})
    estop_ends_plan_in_its_first_step(client, planning, "p3")


@pytest.mark.parametrize("script, reason", [
    (("status", 500), "cloud_error"),  # twice: a 500 is also retried once as a JSON object
    (("status", 429), "cloud_error"),
    (("content", "I think you should turn left"), "cloud_error"),
    (("content", '{"steps": [{"action": "turn", "params": {"dir'), "cloud_error"),
    (("content", '{"steps": "turn left"}'), "cloud_error"),
    (("content", '{"plan": []}'), "cloud_error"),
    (("slow", 3.0, []), "offline"),
])
def test_bad_answers_end_clearly_and_nothing_runs(planning: Running, client: Client,
                                                  stub: CloudStub, script: tuple[Any, ...],
                                                  reason: str) -> None:
    stub.script.extend([script, script])
    client.publish(PLAN, {"id": "bad", "goal": "anything"})
    result = client.final("bad")
    assert (result["status"], result["reason"]) == ("refused", reason), result
    assert all(planning.pin(n).state == 0 for n in (4, 14, 17, 18, 5, 6, 13, 23))
    assert planning.daemon.health_problem() == ""


def test_an_outage_costs_one_timeout_then_fails_fast(planning: Running, client: Client,
                                                     stub: CloudStub) -> None:
    stub.script.append(("slow", 3.0, []))
    client.publish(PLAN, {"id": "t1", "goal": "anything"})
    assert client.final("t1")["reason"] == "offline"
    assert client.wait_for("robots/t/status", lambda s: s.get("cloud") == "offline")
    started = time.monotonic()
    client.publish(PLAN, {"id": "t2", "goal": "anything"})
    assert client.final("t2")["reason"] == "offline"
    assert time.monotonic() - started < 1.0  # the breaker is open: no second timeout
    assert planning.daemon.planner.client.probe()  # the stub answers a probe
    assert client.wait_for("robots/t/status", lambda s: s.get("cloud") == "online")


def test_json_schema_refused_falls_back_to_a_json_object(broker: Broker, client: Client,
                                                         tmp_path: Path) -> None:
    stub = CloudStub(reject_json_schema=True)
    running = start_daemon(cloud_config(broker.port, stub.base_url), tmp_path / "s", client)
    try:
        stub.script.append(("plan", [{"action": "lights_off", "params": {}}]))
        client.publish(PLAN, {"id": "f", "goal": "lights off"})
        assert client.final("f")["status"] == "done"
        kinds = [r["body"]["response_format"]["type"] for r in stub.requests]
        assert kinds == ["json_schema", "json_object"]
        assert stub.requests[1]["body"]["response_format"]["schema"]["required"] == ["steps"]
    finally:
        running.stop()
        stub.stop()


def test_text_the_interpreter_cannot_place_goes_to_the_cloud(planning: Running,
                                                             client: Client,
                                                             stub: CloudStub) -> None:
    stub.script.append(("plan", [{"action": "turn", "params": {"direction": "right",
                                                              "degrees": 9}},
                                 {"action": "lights_color", "params": {"color": "green"}}]))
    client.publish("robots/t/ask", {"id": "a", "text": "patrol the kitchen and come back"})
    result = client.final("a")
    assert result["status"] == "done" and result["route"] == "cloud"
    assert planning.pin(6).state == 1
    # The hand-over came first, as the contract says: escalated, then the plan's results.
    first = _results(client, "a")[0]
    assert (first["status"], first["decision"], first["route"]) == ("escalated", "escalate",
                                                                    "cloud")
    assert stub.requests[0]["body"]["messages"][1]["content"].endswith(
        "Goal: patrol the kitchen and come back")


def test_the_api_key_never_leaves_the_header(planning: Running, client: Client,
                                             stub: CloudStub,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    stub.script.extend([("plan", [{"action": "lights_off", "params": {}}]), ("status", 401),
                        ("slow", 3.0, [])])
    for rid in ("k1", "k2", "k3"):
        client.publish(PLAN, {"id": rid, "goal": "lights off"})
        client.final(rid)
    assert stub.requests[0]["headers"]["Authorization"] == f"Bearer {KEY}"
    client.wait_for("robots/t/status", lambda s: s.get("cloud") == "offline")
    everything = " ".join(p.decode(errors="replace") for _, p, _ in client.history)
    assert KEY not in everything and KEY not in caplog.text
    status = client.wait_for("robots/t/status", lambda s: s.get("cloud") == "offline")
    assert status["cloud_usage"]["prompt_tokens"] >= 100  # k1's answer was counted


def test_unreachable_from_the_start_local_work_goes_on(broker: Broker, client: Client,
                                                       tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    running = start_daemon(cloud_config(broker.port, dead), tmp_path / "s", client,
                           )
    try:
        client.publish("robots/t/ask", {"id": "a", "text": "patrol the kitchen"})
        result = client.final("a")
        assert (result["status"], result["reason"]) == ("refused", "offline")
        assert "can still do locally" in result["detail"] and "turn" in result["detail"]
        client.publish("robots/t/ask", {"id": "b", "text": "lights off"})
        assert client.final("b")["status"] == "done"
        client.publish("robots/t/cmd", {"id": "c", "action": "lights_color",
                                        "params": {"color": "red"}})
        assert client.final("c")["status"] == "done"
        client.publish("robots/t/estop", "")
        assert client.wait_for("robots/t/estop/state", lambda s: s["engaged"])
        assert client.wait_for("robots/t/status", lambda s: s.get("cloud") == "offline")
    finally:
        running.stop()


def test_the_cloud_going_away_mid_plan(planning: Running, client: Client,
                                       stub: CloudStub) -> None:
    stub.script.append(("plan", [{"action": "turn", "params": {"direction": "left",
                                                              "degrees": 90}},
                                 {"action": "lights_off", "params": {}}]))
    client.publish(PLAN, {"id": "m", "goal": "turn, then lights off"})
    client.wait_for("robots/t/result", lambda r: r["id"] == "m" and r.get("step") == 1)
    stub.stop()  # the plan is already here: its steps are local
    assert client.final("m")["status"] == "done"
    client.publish(PLAN, {"id": "m2", "goal": "again"})
    assert client.final("m2")["reason"] == "offline"
    client.publish("robots/t/cmd", {"id": "c", "action": "lights_off"})
    assert client.final("c")["status"] == "done"


def test_a_plan_never_outlives_its_time_limit(broker: Broker, client: Client,
                                              tmp_path: Path) -> None:
    stub = CloudStub()
    running = start_daemon(cloud_config(broker.port, stub.base_url, max_plan_s=0.5),
                           tmp_path / "s", client)
    try:
        stub.script.append(("plan", [{"action": "turn", "params": {"direction": "left",
                                                                  "degrees": 360}},
                                     {"action": "lights_off", "params": {}}]))
        client.publish(PLAN, {"id": "slow", "goal": "spin"})
        result = client.final("slow")
        assert (result["status"], result["reason"]) == ("failed", "plan_timeout")
        assert all(running.pin(n).state == 0 for n in (4, 14, 17, 18))
    finally:
        running.stop()
        stub.stop()


def test_a_stop_answers_the_plan_in_hand_and_the_one_still_queued(
        broker: Broker, client: Client, tmp_path: Path, stub: CloudStub,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOT_AGENT_CLOUD_API_KEY", KEY)
    running = start_daemon(cloud_config(broker.port, stub.base_url), tmp_path / "s", client)
    stub.script.extend([("slow", 1.0, [{"action": "lights_color",
                                        "params": {"color": "red"}}]),
                        ("plan", [{"action": "lights_off", "params": {}}])])
    client.publish(PLAN, {"id": "in-hand", "goal": "lights red, slowly"})
    client.publish(PLAN, {"id": "queued", "goal": "lights off"})
    time.sleep(0.3)  # the first is waiting for the cloud, the second in the queue
    assert running.stop() == 0
    assert client.final("in-hand")["reason"] == "shutdown"
    assert client.final("queued")["reason"] == "shutdown"


def test_malformed_plan_requests(planning: Running, client: Client) -> None:
    for payload, reason in ((b"nope", "malformed"), (b'{"id": "x"}', "malformed"),
                            (b'{"id": "x", "goal": "a", "extra": 1}', "malformed")):
        client.forget()
        client.publish(PLAN, payload)
        assert client.wait_for("robots/t/result")["reason"] == reason


def _results(client: Client, rid: str) -> list[Any]:
    import json

    return [json.loads(p) for t, p, _ in client.history
            if t == "robots/t/result" and json.loads(p)["id"] == rid]


def _events(client: Client) -> list[Any]:
    import json

    return [json.loads(p) for t, p, _ in client.history if t == "robots/t/events"]
