"""The local model runs in a worker process at idle priority, and nothing that happens to it
reaches the control path: a worker that dies or hangs is stopped and replaced, every request
still gets its answer, and the e-stop works throughout."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.config import Config
from agent.interpret import ModelError, ModelProcess, describe_actions, resolve
from tests.conftest import Broker, Client, Running, make_config, start_daemon, wait_until

ASK = "robots/t/ask"
UNMATCHED = "tell me a long story"  # no action shares a word: only the model can score it


def model_state(client: Client, state: str, timeout: float = 60) -> Any:
    return client.wait_for("robots/t/status", lambda s: s.get("model") == state, timeout)


@pytest.fixture
def running(broker: Broker, client: Client, tmp_path: Path) -> Iterator[Running]:
    running = start_daemon(make_config(broker.port), tmp_path / "state", client,
                           load_model=True, restart_after_s=0.5, score_timeout_s=2.0)
    model_state(client, "ready")
    yield running
    running.stop()


def test_the_model_runs_in_its_own_process_at_idle_priority(running: Running) -> None:
    model = running.daemon.text.model
    assert model.pid != os.getpid()
    assert os.sched_getscheduler(model.pid) == os.SCHED_IDLE
    assert "libllama" in Path(f"/proc/{model.pid}/maps").read_text()


def test_the_worker_is_stopped_with_the_daemon(running: Running) -> None:
    model = running.daemon.text.model
    assert running.stop() == 0
    assert not model.alive()


def test_a_killed_worker_is_replaced_and_requests_are_still_answered(
        running: Running, client: Client) -> None:
    first = running.daemon.text.model
    client.publish(ASK, {"id": "warm", "text": UNMATCHED})
    assert "model" in client.result("warm", timeout=10)["detail"]
    os.kill(first.pid, signal.SIGKILL)
    client.forget()
    client.publish(ASK, {"id": "k1", "text": UNMATCHED})
    alone = client.result("k1", timeout=10)
    assert alone["decision"] != "execute" and "model" not in alone["detail"]
    model_state(client, "failed", timeout=10)
    client.publish("robots/t/estop", "")
    assert client.wait_for("robots/t/estop/state", lambda s: s["engaged"])["source"] == "mqtt"
    model_state(client, "ready")
    assert running.daemon.text.model.pid != first.pid
    client.publish(ASK, {"id": "k2", "text": UNMATCHED})
    assert "model" in client.result("k2", timeout=10)["detail"]


def test_a_hung_worker_is_stopped_and_the_request_still_answered(
        running: Running, client: Client) -> None:
    first = running.daemon.text.model
    client.forget()
    os.kill(first.pid, signal.SIGSTOP)
    started = time.monotonic()
    client.publish(ASK, {"id": "h1", "text": UNMATCHED})
    result = client.result("h1", timeout=10)
    assert time.monotonic() - started >= 2.0  # it waited for the worker, as long as allowed
    assert result["decision"] != "execute"
    assert first.proc.wait(5) == -signal.SIGKILL
    model_state(client, "ready")
    assert running.daemon.text.model.pid != first.pid


def test_a_model_that_cannot_load_says_why(tmp_path: Path, broker: Broker) -> None:
    config: Config = make_config(broker.port)
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ModelError, match="could not be loaded"):
        ModelProcess(broken, "broken", 1, describe_actions(config))


def test_a_worker_answers_only_for_the_candidates_asked(broker: Broker) -> None:
    config = make_config(broker.port)
    path, name = resolve(config)
    model = ModelProcess(path, name, 1, describe_actions(config))
    try:
        probs = model.score("switch the headlight on", ["headlight_on", "honk", "none"])
        assert sorted(probs) == ["headlight_on", "honk", "none"]
        assert abs(sum(probs.values()) - 1.0) < 1e-6
    finally:
        model.close()
    with pytest.raises(ModelError, match="exited"):
        model.score("honk", ["honk"])


def test_closing_the_worker_ends_a_request_in_flight_at_once(
        broker: Broker, client: Client, tmp_path: Path) -> None:
    running = start_daemon(make_config(broker.port), tmp_path / "state", client,
                           load_model=True, restart_after_s=60.0, score_timeout_s=60.0)
    try:
        model_state(client, "ready")
        model = running.daemon.text.model
        os.kill(model.pid, signal.SIGSTOP)
        client.publish(ASK, {"id": "f1", "text": UNMATCHED})
        assert wait_until(lambda: running.daemon.text.queue.busy_since, timeout=5)
        closing = threading.Thread(target=model.close)  # as the daemon's shutdown does
        closing.start()
        assert client.result("f1", timeout=5)["decision"] != "execute"  # not after 60 s
        closing.join(5)
        assert not closing.is_alive() and not model.alive()
    finally:
        running.stop()
