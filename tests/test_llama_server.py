"""End to end against a real OpenAI-compatible server: llama-cpp-python's, serving the bundled
model on loopback. What the small model plans is not up to us; what we do with it is."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.config import load_config
from agent.interpret import resolve
from tests.conftest import ROOT, Broker, Client, free_port, start_daemon
from tests.test_cloud import cloud_config

ALLOWED = {"done", "refused", "none", "failed"}


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    model, _ = resolve(load_config(ROOT / "deploy/examples/rover.toml"))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model),
                             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("llama_cpp.server did not start")
    yield f"http://127.0.0.1:{port}/v1"
    proc.terminate()
    proc.wait(10)


def test_escalation_end_to_end_through_a_real_server(llama_server: str, broker: Broker,
                                                     client: Client, tmp_path: Path) -> None:
    running = start_daemon(cloud_config(broker.port, llama_server, timeout_s=60),
                           tmp_path / "s", client)
    try:
        client.publish("robots/t/plan", {"id": "p", "goal": "turn left a little"})
        result = client.final("p", timeout=90)
        assert result["status"] in ALLOWED and result["route"] == "cloud"
        if result["status"] == "refused":
            assert result["reason"] in ("unknown_action", "invalid_params", "out_of_bounds",
                                        "signature_required", "risk_high", "cloud_error",
                                        "interlock", "stale_sensor")
        client_ = running.daemon.planner.client
        # The server refuses json_schema with a 500: the client fell back to a JSON object.
        assert client_.schema_mode == "json_object"
        assert client_.usage.requests >= 1 and client_.usage.prompt_tokens > 0
        client.publish("robots/t/ask", {"id": "a", "text": "patrol the kitchen and come back"})
        escalated = client.final("a", timeout=90)
        assert escalated["route"] == "cloud" and escalated["status"] in ALLOWED
        assert running.pin(23).state == 0  # the high-risk pump was never offered or run
        assert running.daemon.health_problem() == ""
    finally:
        running.stop()
