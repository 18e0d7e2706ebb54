"""Scheduled actions with a real broker and mock pins: they fire at their time through the whole
gate, survive a restart, never run late, and are cancelled by P/schedule/cancel and the e-stop."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agent.core.decisions import Decision
from tests.conftest import Broker, Client, Running, connect_client, make_config, start_daemon

RESULT = "robots/t/result"
LIST = "robots/t/schedule"
CANCEL = "robots/t/schedule/cancel"
RED = {"color": "red"}


def soon(seconds: float) -> datetime:
    return datetime.now().astimezone() + timedelta(seconds=seconds)


def schedule(running: Running, rid: str, at: datetime, action: str = "lights_color",
             params: dict[str, Any] | None = None, **kw: Any) -> Decision:
    return running.daemon.schedules.add(
        request_id=rid, input_kind="ask", action=action,
        params=RED if params is None and action == "lights_color" else params or {}, at=at,
        text=kw.pop("text", f"{action} later"), recurring=kw.pop("recurring", None), reply=None,
        confidence=0.95, **kw)


def final(client: Client, rid: str, timeout: float = 5.0) -> Any:
    return client.wait_for(RESULT, lambda r: r["id"] == rid and r["status"] != "running",
                           timeout)


def listed(client: Client, match: Any = lambda entries: True) -> list[Any]:
    entries: list[Any] = client.wait_for(LIST, match)
    return entries


def test_it_fires_within_a_second_of_its_time_through_the_gate(daemon: Running,
                                                               client: Client) -> None:
    at = soon(1.0)
    accepted = schedule(daemon, "s1", at)
    assert (accepted.status, accepted.decision, accepted.reason) == ("scheduled", "schedule",
                                                                     None)
    result = accepted.result()
    assert datetime.fromisoformat(result["at"]) == at.replace(microsecond=at.microsecond //
                                                              1000 * 1000)
    assert result["action"] == "lights_color" and result["params"] == RED
    assert daemon.pin(5).state == 0  # nothing runs now
    fired = final(client, "s1", timeout=3)
    arrived = datetime.now().astimezone()
    assert (fired["status"], fired["route"], fired["schedule_id"]) == (
        "done", "schedule", result["schedule_id"])
    assert at <= arrived <= at + timedelta(seconds=1)  # the promise: within 1 s
    assert daemon.pin(5).state == 1
    record = client.wait_for("robots/t/events", lambda e: e["id"] == "s1")
    assert record["route"] == "schedule" and record["schedule_id"] == result["schedule_id"]


def test_at_its_time_the_gate_decides_as_if_it_were_sent_then(daemon: Running,
                                                               client: Client) -> None:
    schedule(daemon, "s2", soon(0.5), "move", {"direction": "forward"})  # no front reading
    fired = final(client, "s2")
    assert (fired["status"], fired["decision"], fired["reason"], fired["route"]) == (
        "refused", "refuse", "stale_sensor", "schedule")
    assert all(daemon.pin(n).state == 0 for n in (4, 14, 17, 18))


def test_it_survives_a_restart(broker: Broker, client: Client, tmp_path: Path) -> None:
    config = make_config(broker.port)
    first = start_daemon(config, tmp_path / "state", client)
    accepted = schedule(first, "s3", soon(3.0))
    assert first.stop() == 0
    assert json.loads((tmp_path / "state" / "schedules.json").read_text())["entries"][0][
        "id"] == "s3"
    client.forget()
    second = start_daemon(config, tmp_path / "state", client)
    try:
        assert listed(client, lambda e: len(e) == 1)[0]["schedule_id"] == (
            accepted.extra["schedule_id"])
        assert final(client, "s3", timeout=5)["status"] == "done"
        assert second.pin(5).state == 1
        assert listed(client, lambda e: e == []) == []
    finally:
        second.stop()


def test_what_fell_due_while_down_never_runs(broker: Broker, client: Client,
                                             tmp_path: Path) -> None:
    config = make_config(broker.port)
    first = start_daemon(config, tmp_path / "state", client)
    schedule(first, "late", soon(0.8))
    schedule(first, "later", soon(60))
    first.stop()
    time.sleep(1.0)
    client.forget()
    second = start_daemon(config, tmp_path / "state", client)
    try:
        missed = final(client, "late")
        assert (missed["status"], missed["reason"], missed["route"]) == (
            "refused", "missed", "schedule")
        assert [e["id"] for e in listed(client, lambda e: len(e) == 1)] == ["later"]
        time.sleep(0.3)
        assert second.pin(5).state == 0
        status = client.wait_for("robots/t/status", lambda s: "schedules" in s)
        assert status["schedules"] == {"pending": 1, "store": "ok"}
    finally:
        second.stop()


def test_cancel_by_id_and_all(daemon: Running, client: Client) -> None:
    one = schedule(daemon, "c1", soon(30)).extra["schedule_id"]
    schedule(daemon, "c2", soon(30), "lights_off")
    schedule(daemon, "c3", soon(40))
    assert len(listed(client, lambda e: len(e) == 3)) == 3
    client.publish(CANCEL, {"schedule_id": one})
    assert client.result(f"cancel:{one}")["cancelled"] == [one]
    gone = final(client, "c1")
    assert (gone["status"], gone["reason"], gone["schedule_id"]) == ("refused", "cancelled",
                                                                     one)
    listed(client, lambda e: {x["id"] for x in e} == {"c2", "c3"})
    for bad, reason in (({"schedule_id": "nope", "id": "x1"}, "unknown_schedule"),
                        ({"all": False, "id": "x2"}, "malformed"),
                        ({"schedule_id": one, "all": True, "id": "x3"}, "malformed"),
                        ({"id": "x4", "what": 1}, "malformed")):
        client.publish(CANCEL, bad)
        answer = client.result(str(bad["id"]))
        assert (answer["status"], answer["reason"]) == ("refused", reason), answer
    client.publish(CANCEL, b"not json")
    assert client.wait_for(RESULT, lambda r: r["id"] == "")["reason"] == "malformed"
    assert len(daemon.daemon.schedules.pending()) == 2  # bad requests changed nothing
    left = sorted(e.schedule_id for e in daemon.daemon.schedules.pending())
    client.publish(CANCEL, {"all": True, "id": "every", "reply_to": "app/replies"})
    assert sorted(client.result("every", topic="app/replies")["cancelled"]) == left
    for rid in ("c2", "c3"):
        assert final(client, rid)["reason"] == "cancelled"
    assert listed(client, lambda e: e == []) == []
    assert daemon.daemon.schedules.pending() == []


def test_cancel_matching_is_what_text_uses(daemon: Running, client: Client) -> None:
    schedule(daemon, "t1", soon(30), "lights_off")
    schedule(daemon, "t2", soon(30))
    gone = daemon.daemon.schedules.cancel_matching(action="lights_off")
    assert [e.request_id for e in gone] == ["t1"]
    assert final(client, "t1")["reason"] == "cancelled"
    assert [e.request_id for e in daemon.daemon.schedules.pending()] == ["t2"]


def test_the_estop_cancels_every_schedule_and_a_reset_starts_none(daemon: Running,
                                                                  client: Client) -> None:
    at = soon(2.0)
    schedule(daemon, "e1", at)
    schedule(daemon, "e2", at, "lights_off")  # safe ops too: nothing scheduled survives
    schedule(daemon, "e3", soon(3600), recurring="daily")
    client.publish("robots/t/estop", "")
    for rid in ("e1", "e2", "e3"):  # at once, not when their time comes
        gone = final(client, rid, timeout=1.5)
        assert (gone["status"], gone["reason"]) == ("refused", "estop_engaged"), gone
    assert listed(client, lambda e: e == []) == []
    client.publish("robots/t/estop/reset", {"id": "r", "reason": "checked"})
    client.result("r", "done")
    time.sleep(max(0.0, (at - datetime.now().astimezone()).total_seconds()) + 1.0)
    assert daemon.pin(5).state == 0
    assert not [r for r in map(json.loads, (p for t, p, _ in client.history if t == RESULT))
                if r["id"] in ("e1", "e2", "e3") and r["status"] == "done"]


def test_nothing_is_scheduled_across_an_estop(daemon: Running, client: Client) -> None:
    d = daemon.daemon
    job = d.pipeline.job("ask")
    client.publish("robots/t/estop", "")
    client.wait_for("robots/t/estop/state", lambda s: s["engaged"])
    assert schedule(daemon, "during", soon(5)).reason == "estop_engaged"
    client.publish("robots/t/estop/reset", {"id": "r", "reason": "checked"})
    client.result("r", "done")
    assert schedule(daemon, "before", soon(5), job=job).reason == "estop_engaged"
    assert schedule(daemon, "after", soon(5)).status == "scheduled"


def test_bounds_and_risk(broker: Broker, client: Client, tmp_path: Path) -> None:
    config = make_config(broker.port, "\n[schedules]\nmax_pending = 2\nmax_ahead_h = 1\n")
    running = start_daemon(config, tmp_path / "state", client)
    try:
        assert schedule(running, "b1", soon(60)).status == "scheduled"
        refusals = {
            "far": schedule(running, "far", soon(3601)),
            "past": schedule(running, "past", soon(-1)),
            "risky": schedule(running, "risky", soon(60), "water", {"duration_s": 1}),
            "unknown": schedule(running, "unknown", soon(60), "fly", {}),
            "params": schedule(running, "params", soon(60), "lights_color", {"color": "teal"}),
            "weekly": schedule(running, "weekly", soon(60), recurring="weekly"),
        }
        assert {k: (d.status, d.decision, d.reason) for k, d in refusals.items()} == {
            "far": ("refused", "refuse", "out_of_bounds"),
            "past": ("refused", "refuse", "out_of_bounds"),
            "risky": ("refused", "refuse", "risk_high"),
            "unknown": ("refused", "refuse", "unknown_action"),
            "params": ("refused", "refuse", "invalid_params"),
            "weekly": ("refused", "refuse", "invalid_params"),
        }
        assert schedule(running, "b2", soon(60)).status == "scheduled"
        full = schedule(running, "b3", soon(60))
        assert (full.reason, "max_pending" in full.detail) == ("out_of_bounds", True)
        assert [e.request_id for e in running.daemon.schedules.pending()] == ["b1", "b2"]
    finally:
        running.stop()


def test_the_retained_list_follows_every_change(daemon: Running, client: Client) -> None:
    at = soon(1.0)
    accepted = schedule(daemon, "r1", at, text="red later")
    late = connect_client(int(daemon.daemon.config.mqtt.port), LIST)  # a newcomer: retained
    try:
        entry = late.wait_for(LIST, lambda e: len(e) == 1)[0]
        assert entry == {"schedule_id": accepted.extra["schedule_id"], "id": "r1",
                         "action": "lights_color", "params": RED,
                         "at": accepted.extra["at"], "text": "red later", "recurring": None}
        status = client.wait_for("robots/t/status", lambda s: s["schedules"]["pending"] == 1)
        assert status["schedules"]["store"] == "ok"
        late.forget()
        assert late.wait_for(LIST, lambda e: e == [], timeout=3) == []  # fired: gone
        client.wait_for("robots/t/status", lambda s: s["schedules"]["pending"] == 0)
    finally:
        late.client.loop_stop()
        late.client.disconnect()


def test_a_daily_entry_is_due_again_the_next_day(daemon: Running, client: Client) -> None:
    at = soon(0.5)
    accepted = schedule(daemon, "d1", at, recurring="daily")
    assert final(client, "d1")["status"] == "done"
    again = listed(client, lambda e: len(e) == 1 and e[0]["at"] != accepted.extra["at"])[0]
    assert again["schedule_id"] == accepted.extra["schedule_id"]
    assert datetime.fromisoformat(again["at"]) - datetime.fromisoformat(
        accepted.extra["at"]) in (timedelta(hours=23), timedelta(hours=24),
                                  timedelta(hours=25))  # a daylight-saving day is shorter
    assert again["recurring"] == "daily"


def test_a_corrupt_schedule_file(broker: Broker, client: Client, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "schedules.json").write_text('{"version": 1, "entries": [{"id": ')
    running = start_daemon(make_config(broker.port), state, client)
    try:
        status = client.wait_for("robots/t/status", lambda s: "schedules" in s)
        assert status["schedules"]["pending"] == 0
        assert status["schedules"]["store"].startswith("corrupt")
        assert (state / "schedules.json.corrupt").exists()  # kept for a technician
        assert running.daemon.health_problem() == ""
        assert schedule(running, "fresh", soon(0.5)).status == "scheduled"
        assert final(client, "fresh")["status"] == "done"
    finally:
        running.stop()


def test_a_schedule_that_cannot_be_saved_is_not_accepted(daemon: Running,
                                                         client: Client) -> None:
    blocker = daemon.state_dir / "schedules.json.tmp"
    blocker.mkdir(parents=True)  # the temporary file cannot be written: as on a full disk
    refused = schedule(daemon, "nosave", soon(30))
    assert (refused.status, refused.reason) == ("refused", "not_saved")
    assert daemon.daemon.schedules.pending() == []
    assert daemon.daemon.status()["schedules"]["store"].startswith("unwritable")
    blocker.rmdir()
    assert schedule(daemon, "saved", soon(30)).status == "scheduled"
    assert daemon.daemon.status()["schedules"] == {"pending": 1, "store": "ok"}
