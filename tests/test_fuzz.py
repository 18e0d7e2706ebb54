"""Hostile input, generated: random bytes, random JSON, and commands that look valid but carry
hostile values, on every inbound topic of a running daemon on a real broker. Invariants: the
daemon stays up, every command with an id gets exactly one answer (plus one final for a timed
action), and nothing outside the allowlist and bounds ever reaches an output."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.core.protocol import Reason
from agent.safety.gate import Gate
from tests.conftest import Broker, Client, Running, connect_client, make_config, start_daemon

FINAL = {"done", "refused", "failed", "duplicate", "none", "confirm_required"}
TOPICS = ["robots/t/cmd", "robots/t/ask", "robots/t/plan", "robots/t/estop/reset",
          "robots/t/sensors/front"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)
hostile_numbers = st.one_of(st.integers(-10**30, 10**30), st.floats(allow_nan=False),
                            st.sampled_from([0, -0.0, 1e308, -1e308, 5e-324, 2**63, 0.04999,
                                             2.50001, 360.0001]))
actions = st.sampled_from(["move", "turn", "stop", "lights_color", "lights_off", "water",
                           "fly", "", "MOVE", "move ", "__class__", "stop;water"])
params = st.dictionaries(
    st.sampled_from(["distance_m", "direction", "degrees", "color", "duration_s", "speed",
                     "x", ""]),
    st.one_of(hostile_numbers, st.sampled_from(["forward", "backward", "left", "right", "red",
                                                "green", "blue", "up", "#ffffff", ""]),
              json_values), max_size=4)


@st.composite
def commands(draw: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"id": f"f-{uuid.uuid4().hex[:10]}", "action": draw(actions),
                               "params": draw(params)}
    if draw(st.booleans()):
        message["sig"] = draw(st.text(max_size=64))
        message["ts"] = draw(st.one_of(hostile_numbers, st.just(time.time())))
    return message


payloads = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    commands().map(lambda c: json.dumps(c).encode()),
)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, Client, Gate]]:

    tmp = tmp_path_factory.mktemp("fuzz")
    broker = Broker.local(tmp)
    port = broker.port
    client = connect_client(port)
    config = make_config(port)
    running = start_daemon(config, Path(tmp / "state"), client)
    gate = Gate.static(config)
    yield running, client, gate
    running.stop()
    client.client.loop_stop()
    broker.stop()


def check_outputs_within_policy(running: Running, client: Client, gate: Gate) -> None:
    assert running.pin(23).state == 0, "the high-risk pump ran without a signature"
    for topic, payload, _ in client.history:
        if topic == "robots/t/result":
            reason = json.loads(payload)["reason"]
            assert reason is None or reason in set(Reason), f"{reason} is not a stable code"
        if topic == "robots/t/state/drive":
            state = json.loads(payload)
            assert state["left"] in (-1.0, 0.0, 1.0) and state["right"] in (-1.0, 0.0, 1.0)
        elif topic == "robots/t/events":
            event = json.loads(payload)
            if event["decision"] == "execute" and event["input_kind"] in ("cmd", "ask"):
                assert gate.check_static(event["action"], event["params"]).allowed, event


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(topic=st.sampled_from(TOPICS), payload=payloads)
def test_hostile_payloads_on_every_topic(rig: tuple[Running, Client, Gate], topic: str,
                                         payload: bytes) -> None:
    running, client, gate = rig
    client.publish("robots/t/sensors/front", "2.0")
    client.forget()
    client.publish(topic, payload)
    rid = None
    try:  # as strictly as the contract reads it: NaN and Infinity are not JSON
        data = json.loads(payload, parse_constant=_not_json)
        if isinstance(data, dict) and isinstance(data.get("id"), str) and data["id"]:
            rid = data["id"]
    except ValueError:
        pass
    if topic == "robots/t/cmd" and rid is not None:
        first = client.wait_for("robots/t/result", lambda r: r["id"] == rid, timeout=5)
        if first["status"] == "running":
            client.wait_for("robots/t/result", lambda r: r["id"] == rid and
                            r["status"] in FINAL | {"failed"}, timeout=10)
        time.sleep(0.05)
        answers = [json.loads(p) for t, p, _ in client.history
                   if t == "robots/t/result" and json.loads(p)["id"] == rid]
        assert len([a for a in answers if a["status"] != "running"]) == 1, answers
    else:
        time.sleep(0.01)
    assert running.daemon.health_problem() == ""
    check_outputs_within_policy(running, client, gate)
    if running.daemon.latch.engaged:
        client.publish("robots/t/estop/reset", {"id": f"r-{uuid.uuid4().hex[:8]}",
                                                "reason": "fuzz"})


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(payload=st.binary(max_size=2000))
def test_anything_on_the_estop_topic_engages(rig: tuple[Running, Client, Gate],
                                            payload: bytes) -> None:
    running, client, _ = rig
    client.forget()
    client.publish("robots/t/estop", payload)
    assert client.wait_for("robots/t/estop/state", lambda s: s["engaged"])
    assert all(running.pin(n).state == 0 for n in (4, 14, 17, 18, 5, 6, 13, 23))
    client.publish("robots/t/estop/reset", {"id": f"r-{uuid.uuid4().hex[:8]}", "reason": "f"})
    client.wait_for("robots/t/estop/state", lambda s: not s["engaged"])
