"""Benchmark cloud escalation: the latency it adds over the local path, and the prompt tokens
per plan with the compact state summary against the raw state.

    .venv/bin/python scripts/bench_cloud.py [--rounds 50] [--llama-server]

Starts its own mosquitto and an in-process daemon on simulated pins. The cloud is a scripted
OpenAI-compatible server answering at once (so the figure is robot-agent's own overhead), and
with --llama-server also llama-cpp-python's server with the bundled model (a slow real cloud).
Prompt tokens are counted with the bundled model's tokenizer.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.cloud.planner import messages  # noqa: E402
from scripts.bench_core import summary  # noqa: E402
from tests.cloudstub import CloudStub  # noqa: E402
from tests.conftest import Broker, connect_client, free_port, make_config, start_daemon  # noqa: E402


def round_trips(client: Any, topic: str, payloads: list[dict[str, Any]]) -> list[float]:
    """The daemon's own latency_ms of each final result: from receipt of the request to the
    final result, cloud call included, without the test client's polling in it."""
    ms = []
    for payload in payloads:
        client.forget()
        client.publish(topic, payload)
        result = client.wait_for("robots/t/result", lambda r, rid=payload["id"]: r["id"] == rid
                                 and r["status"] in ("done", "refused", "none", "failed") and
                                 "step" not in r, timeout=120)
        ms.append(float(result["latency_ms"]))
    return ms


def token_counts(daemon: Any) -> tuple[int, int]:
    from llama_cpp import Llama

    from agent.interpret import resolve

    path, _ = resolve(daemon.config)
    vocab = Llama(str(path), vocab_only=True, verbose=False)
    goal = "patrol the kitchen and come back"

    def count(state: str) -> int:
        text = "\n".join(m["content"] for m in messages(daemon.config, goal, state))
        return len(vocab.tokenize(text.encode(), add_bos=False))

    return count(daemon.planner.state_summary()), count(daemon.planner.raw_state())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--llama-server", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-cloud-"))
    broker = Broker.local(tmp)
    port = broker.port
    stub = CloudStub()
    client = connect_client(port)
    config = make_config(port, f'\n[cloud]\nenabled = true\nbase_url = "{stub.base_url}"\n'
                               'timeout_s = 120\n')
    running = start_daemon(config, tmp / "state", client)
    try:
        client.publish("robots/t/sensors/front", "2.0")
        local = round_trips(client, "robots/t/ask", [
            {"id": f"l{i}", "text": "switch the lights off"} for i in range(args.rounds)])
        for _ in range(args.rounds):
            stub.script.append(("plan", [{"action": "lights_off", "params": {}}]))
        cloud = round_trips(client, "robots/t/ask", [
            {"id": f"c{i}", "text": "make it cosy in here"} for i in range(args.rounds)])
        print(summary("ask -> result, local path (lights off)", local))
        print(summary("ask -> result, escalated to an instant scripted cloud", cloud))
        added = sorted(cloud)[len(cloud) // 2] - sorted(local)[len(local) // 2]
        print(f"added by escalation (p50): {added:.2f} ms")
        # Some history for the raw state to carry, as a working robot would have.
        for i in range(20):
            client.publish("robots/t/cmd", {"id": f"h{i}", "action": "lights_color",
                                            "params": {"color": "red"}})
        time.sleep(0.5)
        with_summary, with_raw = token_counts(running.daemon)
        print(f"prompt tokens per plan: {with_summary} with the state summary, {with_raw} "
              f"with the raw state ({100 * (1 - with_summary / with_raw):.0f}% saved)")
        if args.llama_server:
            from agent.interpret import resolve

            model, _ = resolve(config)
            lport = free_port()
            server = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model",
                                       str(model), "--host", "127.0.0.1", "--port", str(lport),
                                       "--n_ctx", "2048"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            try:
                for _ in range(100):
                    try:
                        socket.create_connection(("127.0.0.1", lport), 0.2).close()
                        break
                    except OSError:
                        time.sleep(0.1)
                planner = running.daemon.planner
                assert planner is not None  # the cloud is enabled in this config
                planner.client.http.base_url = f"http://127.0.0.1:{lport}/v1/"
                real = round_trips(client, "robots/t/plan", [
                    {"id": f"r{i}", "goal": "turn left a little"} for i in range(5)])
                usage = planner.client.usage
                print(summary("plan -> final result, llama_cpp.server with the bundled model",
                              real))
                print(f"cloud usage so far: {usage.requests} requests, {usage.prompt_tokens} "
                      f"prompt and {usage.completion_tokens} completion tokens")
            finally:
                server.terminate()
        print(f"machine: {os.uname().machine}, {os.cpu_count()} cores")
        return 0
    finally:
        running.stop()
        stub.stop()
        client.client.loop_stop()
        broker.stop()


if __name__ == "__main__":
    sys.exit(main())
