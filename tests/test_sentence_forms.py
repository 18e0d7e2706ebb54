"""What a sentence asks for, end to end on a real broker and mock pins: a negation moves
nothing, a question is answered and touches nothing, a request for later is scheduled, a
sequence runs as a local plan and the e-stop ends it."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime

import pytest

from tests.conftest import Client, Running, estop_ends_plan_in_its_first_step, wait_until

ASK = "robots/t/ask"
WHEELS = (4, 14, 17, 18)


def untouched(running: Running) -> bool:
    """No output has been driven since the daemon started."""
    return all(output.last_op == "safe" for output in running.daemon.outputs.values())


@pytest.mark.parametrize("text", ["don't turn left", "do not move forward",
                                  "I'd rather you didn't turn the lamp off"])
def test_a_negated_request_moves_nothing(daemon: Running, client: Client, text: str,
                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="agent.decisions")
    client.forget()
    client.publish(ASK, {"id": "n", "text": text})
    result = client.result("n")
    assert (result["status"], result["decision"], result["reason"]) == ("none", "none",
                                                                       "negated")
    event = client.wait_for("robots/t/events", lambda e: e["id"] == "n")
    assert (event["reason"], event["text"]) == ("negated", text)
    # the journal line is written just after the record is published: wait for it
    assert wait_until(lambda: any("id=n " in r.getMessage() for r in caplog.records))
    line = next(r.getMessage() for r in caplog.records if "id=n " in r.getMessage())
    # the technician's line: what was asked, and why nothing moved
    assert "reason=negated" in line and json.dumps(text) in line and "nothing was done" in line
    time.sleep(0.2)
    assert all(daemon.pin(n).state == 0 for n in WHEELS)
    assert untouched(daemon)


def test_a_state_question_is_answered_and_touches_nothing(daemon: Running,
                                                          client: Client) -> None:
    client.publish("robots/t/sensors/front", "0.8")
    time.sleep(0.1)
    client.forget()
    client.publish(ASK, {"id": "q1", "text": "how far is the front?"})
    answer = client.result("q1")
    assert (answer["status"], answer["decision"]) == ("answered", "answer")
    assert "0.8" in answer["answer"]
    front = answer["facts"]["sensors"]["front"]
    assert front["value"] == 0.8 and front["fresh"] is True and front["age_s"] >= 0
    client.publish(ASK, {"id": "q2", "text": "is the lamp on?"})
    answer = client.result("q2")
    assert answer["decision"] == "answer" and answer["answer"] == "The lamp is off."
    assert answer["facts"]["devices"]["lamp"]["on"] is False
    client.publish(ASK, {"id": "q3", "text": "are you moving?"})
    assert "Nothing is running now." in client.result("q3")["answer"]
    event = client.wait_for("robots/t/events", lambda e: e["id"] == "q2")
    assert event["decision"] == "answer" and "The lamp is off." in event["detail"]
    assert untouched(daemon)


def test_a_colour_left_to_the_robot_differs_from_the_one_shown(daemon: Running,
                                                               client: Client) -> None:
    client.publish(ASK, {"id": "c1", "text": "make the lamp blue"})
    assert client.result("c1")["params"] == {"color": "blue"}
    for n, colour in enumerate(("red", "green"), 2):  # after the last, the first again
        client.publish(ASK, {"id": f"c{n}", "text": "change the colour of the lamp"})
        result = client.result(f"c{n}")
        assert (result["decision"], result["params"]) == ("execute", {"color": colour})
    assert daemon.daemon.outputs["lamp"].hw.value == (0, 1, 0)


def test_a_request_for_later_is_scheduled_not_run(daemon: Running, client: Client) -> None:
    client.publish(ASK, {"id": "s1", "text": "set the lamp colour to red in ten minutes"})
    result = client.result("s1")
    assert (result["status"], result["decision"], result["action"]) == (
        "scheduled", "schedule", "lights_color")
    assert result["params"] == {"color": "red"} and result["schedule_id"]
    at = datetime.fromisoformat(result["at"])
    assert at.tzinfo is not None
    assert 590 <= at.timestamp() - time.time() <= 610
    assert [e.action for e in daemon.daemon.schedules.pending()] == ["lights_color"]
    assert untouched(daemon)  # not now


def test_a_negation_of_what_is_scheduled_cancels_it(daemon: Running, client: Client) -> None:
    client.publish(ASK, {"id": "s2", "text": "switch the lamp off at 11 pm"})
    assert client.result("s2")["status"] == "scheduled"
    client.publish(ASK, {"id": "c1", "text": "don't turn the lamp off"})
    result = client.result("c1")
    assert (result["decision"], result["reason"]) == ("cancel", "cancelled")
    assert result["cancelled"] == [client.result("s2")["schedule_id"]]
    assert daemon.daemon.schedules.pending() == []


def test_high_risk_is_never_scheduled_from_text(daemon: Running, client: Client) -> None:
    client.publish(ASK, {"id": "s3", "text": "start the water at 7 pm"})
    result = client.result("s3")
    assert (result["status"], result["reason"]) == ("refused", "risk_high")
    assert daemon.daemon.schedules.pending() == []


def test_a_sequence_runs_as_a_local_plan(daemon: Running, client: Client) -> None:
    client.publish(ASK, {"id": "p1",
                         "text": "change the lamp colour to red then turn left 18 degrees"})
    result = client.final("p1")
    assert result["status"] == "done" and result["route"] == "local"
    answered = [json.loads(p) for t, p, _ in client.history
                if t == "robots/t/result" and json.loads(p)["id"] == "p1"]
    assert answered[0]["status"] == "running" and answered[0]["plan"] == [
        {"action": "lights_color", "params": {"color": "red"}},
        {"action": "turn", "params": {"direction": "left", "degrees": 18}}]
    steps = [(r["step"], r["action"], r["status"]) for r in answered if "step" in r]
    assert steps == [(1, "lights_color", "done"), (2, "turn", "running"), (2, "turn", "done")]
    assert daemon.pin(5).state == 1  # red


def test_a_sequence_with_an_unclear_part_runs_nothing(daemon: Running, client: Client) -> None:
    client.publish(ASK, {"id": "p2", "text": "change the lamp colour to red then do a barrel roll"})
    result = client.final("p2")
    assert result["decision"] == "refuse" and "step 2 ('do a barrel roll')" in result["detail"]
    assert daemon.pin(5).state == 0


def test_the_estop_ends_a_local_plan(daemon: Running, client: Client) -> None:
    client.publish(ASK, {"id": "p3", "text": "turn left 360 degrees and then change the lamp "
                                             "colour to blue"})
    estop_ends_plan_in_its_first_step(client, daemon, "p3")
