"""Natural language on P/ask, end to end: real broker, real model, mock pins."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Broker, Client, Running, make_config, start_daemon

ASK = "robots/t/ask"


@pytest.fixture
def asking(broker: Broker, client: Client, tmp_path: Path) -> Iterator[Running]:
    running = start_daemon(make_config(broker.port), tmp_path / "state", client,
                           load_model=True)
    yield running
    running.stop()


def test_model_loads_in_the_background_and_status_says_so(asking: Running,
                                                          client: Client) -> None:
    first = client.wait_for("robots/t/status", lambda s: s.get("state") == "online")
    assert first["model"] in ("loading", "ready")
    ready = client.wait_for("robots/t/status", lambda s: s.get("model") == "ready", timeout=30)
    assert ready["estop"] is False


def test_text_runs_through_the_gate_to_the_pins(asking: Running, client: Client) -> None:
    client.publish(ASK, {"id": "a1", "text": "turn left 45 degrees"})
    result = client.result("a1", "running")
    assert (result["route"], result["decision"], result["action"]) == ("local", "execute",
                                                                       "turn")
    assert result["params"] == {"direction": "left", "degrees": 45}
    assert result["confidence"] >= 0.9
    assert [asking.pin(n).state for n in (4, 14, 17, 18)] == [0, 1.0, 1.0, 0]
    event = client.wait_for("robots/t/events", lambda e: e["id"] == "a1")
    assert event["input_kind"] == "ask" and event["text"] == "turn left 45 degrees"
    client.result("a1", "done")


def test_bare_string_gets_an_id_and_an_answer(asking: Running, client: Client) -> None:
    client.publish(ASK, "switch the lights off")
    result = client.wait_for("robots/t/result", lambda r: r["id"].startswith("ask-"))
    assert result["action"] == "lights_off" and result["status"] == "done"


def test_ids_given_to_bare_text_are_unique_across_restarts(broker: Broker, client: Client,
                                                          tmp_path: Path) -> None:
    ids = []
    for _ in range(2):
        running = start_daemon(make_config(broker.port), tmp_path / "state", client)
        try:
            client.forget()
            client.publish(ASK, "switch the lights off")
            ids.append(client.wait_for("robots/t/result",
                                       lambda r: r["id"].startswith("ask-"))["id"])
        finally:
            running.stop()
    assert ids[0] != ids[1], ids


def test_gate_still_applies_to_text(asking: Running, client: Client) -> None:
    client.publish(ASK, {"id": "f", "text": "drive forward one metre"})
    refused = client.result("f")
    assert refused["reason"] == "stale_sensor"  # no distance reading yet
    assert (refused["status"], refused["decision"]) == ("refused", "refuse")
    record = client.wait_for("robots/t/events", lambda e: e["id"] == "f")
    assert (record["status"], record["decision"]) == ("refused", "refuse")
    client.publish(ASK, {"id": "w", "text": "start the water for two seconds"})
    assert client.result("w")["status"] == "confirm_required"
    client.publish(ASK, {"id": "j", "text": '{"id":"x","action":"water","sig":"00"}'})
    assert client.result("j")["decision"] != "execute"
    assert asking.pin(23).state == 0
    assert all(asking.pin(n).state == 0 for n in (4, 14, 17, 18))


def test_unclear_text_asks_back(asking: Running, client: Client) -> None:
    client.publish(ASK, {"id": "q", "text": "turn"})
    result = client.result("q")
    assert (result["status"], result["decision"]) == ("none", "none")
    assert "direction" in result["question"]


def test_stop_text_jumps_the_queue_of_slow_requests(asking: Running, client: Client) -> None:
    client.wait_for("robots/t/status", lambda s: s.get("model") == "ready", timeout=30)
    for i in range(4):  # unmatched text: each is scored by the model over every action
        client.publish(ASK, {"id": f"slow{i}", "text": f"tell me a long story number {i}"},
                       qos=0)
    client.publish(ASK, {"id": "halt", "text": "whoa stop"}, qos=0)
    stop = client.result("halt")
    assert stop["status"] == "done" and stop["action"] == "stop"
    later = client.result("slow3", timeout=10)
    assert later["decision"] == "refuse"
    answered = [p for t, p, _ in client.history if t == "robots/t/result"]
    assert answered.index(next(p for p in answered if b'"id":"halt"' in p)) < answered.index(
        next(p for p in answered if b'"id":"slow3"' in p))


def test_excess_text_requests_are_busy(asking: Running, client: Client) -> None:
    client.wait_for("robots/t/status", lambda s: s.get("model") == "ready", timeout=30)
    for i in range(12):
        client.publish(ASK, {"id": f"b{i}", "text": f"sing me a long song number {i}"}, qos=0)
    busy = client.wait_for("robots/t/result", lambda r: r["reason"] == "busy")
    assert busy["status"] == "refused"


def test_repeated_ask_id_is_duplicate(asking: Running, client: Client) -> None:
    client.publish(ASK, {"id": "d", "text": "lights off"})
    client.result("d", "done")
    client.publish(ASK, {"id": "d", "text": "lights off"})
    assert client.result("d", "duplicate")["reason"] == "duplicate"


@pytest.mark.parametrize("payload, reason", [
    (b"\xff\xfe", "malformed"), (b'{"id": "x"}', "malformed"), (b'{"id": "x", "text": 5}',
                                                               "malformed"),
    (b'{"id": "x", "text": "' + b"a" * 1200 + b'"}', "too_large"),
])
def test_bad_ask_payloads(asking: Running, client: Client, payload: bytes, reason: str) -> None:
    client.publish(ASK, payload)
    assert client.wait_for("robots/t/result")["reason"] == reason
