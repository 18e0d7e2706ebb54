"""What a control stack written from docs/CONTRACT.md alone relies on: `final` says which
result is a request's last; a client confirms its own e-stop by the id it sent; `since` is a
real time from the first start on; a reset's results and where they go."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest

from agent.core.decisions import Decision
from tests.conftest import ROOT, Client, Running

CONTRACT = (ROOT / "docs" / "CONTRACT.md").read_text()

RESULT = "robots/t/result"


def results(client: Client, rid: str) -> list[Any]:
    """Every result received so far for rid, in order."""
    client.forget()  # pull in what arrived; history keeps it
    return [json.loads(p) for t, p, _ in client.history if t == RESULT and
            json.loads(p).get("id") == rid]


def test_a_move_is_running_then_final_and_a_stop_is_final_at_once(daemon: Running,
                                                                   client: Client) -> None:
    client.publish("robots/t/sensors/front", "2.0")
    client.publish("robots/t/cmd", {"id": "m1", "action": "move",
                                    "params": {"distance_m": 0.2}})
    assert client.result("m1", "running")["final"] is False
    done = client.result("m1", "done")
    assert done["final"] is True and done["detail"] == "move on drive: ran to its end"
    client.publish("robots/t/cmd", {"id": "s1", "action": "stop"})
    assert client.result("s1")["final"] is True
    client.publish("robots/t/cmd", {"id": "s1", "action": "stop"})
    time.sleep(0.3)
    assert [(r["status"], r["final"]) for r in results(client, "s1")] == [
        ("done", True), ("duplicate", True)]
    assert [(r["status"], r["final"]) for r in results(client, "m1")] == [
        ("running", False), ("done", True)]


def test_a_plans_steps_are_never_final_and_its_own_end_is(daemon: Running,
                                                          client: Client) -> None:
    d = daemon.daemon
    plan = Decision.executed("lp", "ask", route="local", text="lights red then off")
    d.plans.run(plan, [{"action": "lights_color", "params": {"color": "red"}},
                       {"action": "turn", "params": {"direction": "left", "degrees": 18}}],
                d.pipeline.job("ask"), None, max_s=30)
    end = client.final("lp")
    assert end["status"] == "done" and "step" not in end
    time.sleep(0.3)
    seen = [(r.get("step"), r["status"], r["final"]) for r in results(client, "lp")]
    assert seen == [(None, "running", False), (1, "done", False), (2, "running", False),
                    (2, "done", False), (None, "done", True)]


def test_a_request_for_later_is_accepted_not_final(daemon: Running, client: Client) -> None:
    client.publish("robots/t/ask", {"id": "later", "text": "turn the lights red in 10 minutes"})
    accepted = client.result("later", "scheduled")
    assert accepted["final"] is False and accepted["schedule_id"]
    client.publish("robots/t/schedule/cancel", {"schedule_id": accepted["schedule_id"]})
    cancelled = client.final("later")
    assert (cancelled["status"], cancelled["reason"]) == ("refused", "cancelled")


def test_a_fresh_start_is_released_since_that_start(daemon: Running, client: Client) -> None:
    state = client.wait_for("robots/t/estop/state")
    assert state["engaged"] is False and state["source"] == "startup"
    assert abs(state["since"] - time.time()) < 60 and state["request_id"] is None


def test_a_client_confirms_its_own_estop_even_when_one_was_engaged(daemon: Running,
                                                                   client: Client) -> None:
    client.publish("robots/t/estop", {"id": "e-1", "reason": "first"})
    first = client.wait_for("robots/t/estop/state", lambda s: s["request_id"] == "e-1")
    assert first["engaged"] and (first["source"], first["reason"]) == ("mqtt", "first")
    client.publish("robots/t/estop", {"id": "e-2", "reason": "mine too"})
    second = client.wait_for("robots/t/estop/state", lambda s: s["request_id"] == "e-2")
    # the latch keeps who engaged it first and since when; the id says mine arrived
    assert (second["source"], second["reason"], second["since"]) == (
        "mqtt", "first", first["since"])
    client.publish("robots/t/estop", "not json at all")  # still engages; nothing to echo
    client.wait_for("robots/t/estop/state", lambda s: s["request_id"] is None)
    client.publish("robots/t/estop/reset", {"id": "r-1", "reason": "area checked, Ana"})
    released = client.wait_for("robots/t/estop/state", lambda s: s["request_id"] == "r-1")
    assert released["engaged"] is False and released["since"] >= first["since"]
    result = client.result("r-1")
    assert (result["status"], result["final"], result["action"]) == ("done", True,
                                                                     "estop_reset")
    assert result["source"] == "mqtt" and '"area checked, Ana"' in result["detail"]


def test_a_reset_when_nothing_is_engaged_is_done_and_says_so(daemon: Running,
                                                             client: Client) -> None:
    client.publish("robots/t/estop/reset", {"id": "r-0", "reason": "just checking",
                                            "reply_to": "app/replies"})
    result = client.result("r-0", topic="app/replies")
    assert (result["status"], result["reason"], result["final"]) == ("done", None, True)
    assert result["detail"].startswith("the e-stop was not engaged")


def test_the_contracts_estop_client_confirms_its_own_estop_without_nagle(
        daemon: Running, client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    """The paho recipe of docs/CONTRACT.md, as written, against the daemon."""
    section = CONTRACT.split("### Confirming your own e-stop", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    target = 'HOST, PORT, P = "127.0.0.1", 1883, "robots/rover-1"'
    assert target in code
    client.publish("robots/t/estop", {"id": "someone-else", "reason": "earlier"})
    client.wait_for("robots/t/estop/state", lambda s: s["request_id"] == "someone-else")
    namespace: dict[str, Any] = {}
    exec(code.replace(target, f'HOST, PORT, P = "127.0.0.1", {daemon.daemon.config.mqtt.port}, '
                              '"robots/t"'), namespace)
    recipe = namespace["client"]
    try:
        assert capsys.readouterr().out.strip() == "confirmed"
        sock = recipe.socket()
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        recipe.loop_stop()
        recipe.disconnect()
    state = client.wait_for("robots/t/estop/state",
                            lambda s: s["request_id"] == namespace["my_id"])
    assert (state["source"], state["reason"]) == ("mqtt", "earlier")  # the latch's first
