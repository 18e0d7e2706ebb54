"""Faults: the broker going away, signals, a full queue, a stuck supervisor, a dead thread."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gpiozero.pins.mock import MockFactory, MockPWMPin

from agent.core.clock import SystemClock
from agent.devices import build_outputs
from agent.devices.sim_pins import sim_factory
from agent.mqtt.connection import Connection
from agent.safety.executor import Executor
from agent.safety.latch import Latch
from tests.conftest import (
    BASE_CONFIG,
    NO_MODEL,
    ROOT,
    Broker,
    Client,
    Running,
    connect_client,
    make_config,
    wait_until,
)


def test_broker_restart_reconnects_resubscribes_and_never_runs_twice(
        daemon: Running, broker: Broker, client: Client) -> None:
    client.publish("robots/t/cmd", {"id": "before", "action": "lights_color",
                                    "params": {"color": "red"}})
    assert client.result("before")["status"] == "done"
    broker.stop()
    broker.start()
    assert wait_until(lambda: daemon.daemon.connection.connected.is_set() and
                      daemon.daemon.estop.connection.connected.is_set(), 15), "did not reconnect"
    from tests.conftest import connect_client

    fresh = connect_client(broker.port)
    try:
        assert fresh.wait_for("robots/t/status", lambda s: s.get("state") == "online")
        # The control stack re-sends what it never saw acknowledged, with the same id.
        fresh.publish("robots/t/cmd", {"id": "before", "action": "lights_color",
                                       "params": {"color": "red"}})
        assert fresh.result("before")["status"] == "duplicate"
        fresh.publish("robots/t/cmd", {"id": "after", "action": "lights_off"})
        assert fresh.result("after")["status"] == "done"
        fresh.publish("robots/t/estop", "")
        assert fresh.wait_for("robots/t/estop/state", lambda s: s["engaged"])
    finally:
        fresh.client.loop_stop()
    assert daemon.daemon.health_problem() == ""


def test_daemon_waits_for_a_broker_that_is_down_at_start(tmp_path: Path) -> None:
    from agent.daemon import Daemon
    from tests.conftest import free_port

    port = free_port()
    conf = tmp_path / "m.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n")
    config = make_config(port)
    config = config.model_copy(update={"safety": config.safety.model_copy(
        update={"estop_button_pin": 26})})
    factory = sim_factory(closed=(26,))  # a normally closed button, not pressed
    daemon = Daemon(config, pin_factory=factory, state_dir=tmp_path / "state", model=NO_MODEL)
    daemon.start()
    late = Broker(port, conf)
    try:
        time.sleep(1.5)
        assert not daemon.connection.connected.is_set() and daemon.health_problem() == ""
        assert not daemon.latch.engaged
        factory.pin(26).drive_high()  # the e-stop button, pressed while there is no broker
        assert daemon.latch.engaged and daemon.latch.state.source == "button"
        assert all(factory.pin(n).state == 0 for n in (4, 14, 17, 18))
        late.start()
        observer = connect_client(port)
        state = observer.wait_for("robots/t/estop/state", lambda s: s["engaged"], timeout=30)
        assert state["source"] == "button"  # once connected, the world is told
        assert daemon.health_problem() == ""
    finally:
        daemon.stopping.set()
        daemon.shutdown("shutdown", "test over")
        late.stop()


def test_sigterm_leaves_every_output_safe_and_exits_0(broker: Broker, client: Client,
                                                      tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(BASE_CONFIG.format(port=broker.port))
    env = {**os.environ, "ROBOT_AGENT_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "--config", str(config),
                             "--sim"], cwd=ROOT, env=env, stderr=subprocess.PIPE)
    try:
        client.wait_for("robots/t/status", lambda s: s.get("state") == "online", timeout=15)
        client.publish("robots/t/sensors/front", "2.0")
        client.publish("robots/t/cmd", {"id": "m", "action": "move", "params": {"distance_m": 2}})
        client.publish("robots/t/cmd", {"id": "c", "action": "lights_color",
                                        "params": {"color": "blue"}})
        assert client.result("m")["status"] == "running"  # commands run in order: m, then c
        client.result("c", "done")
        assert client.wait_for("robots/t/state/lamp", lambda s: s["on"])["color"] == [0, 0, 1]
        client.forget()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        proc.kill()
    assert client.result("m", "failed")["reason"] == "shutdown"
    assert client.wait_for("robots/t/state/drive", lambda s: s["left"] == 0 and s["right"] == 0)
    assert client.wait_for("robots/t/state/lamp", lambda s: not s["on"])
    assert client.wait_for("robots/t/status", lambda s: s == {"state": "offline"})


def test_full_command_queue_answers_busy(daemon: Running, client: Client) -> None:
    with daemon.daemon.executor.lock:  # the worker blocks on its first output change
        for i in range(80):
            client.publish("robots/t/cmd", {"id": f"b{i}", "action": "lights_off"}, qos=0)
        busy = client.wait_for("robots/t/result", lambda r: r["reason"] == "busy")
    assert busy["status"] == "refused" and busy["id"].startswith("b")
    assert client.result("b0")["status"] == "done"
    for i in range(80):  # every one answered, before the daemon stops under a running queue
        assert client.result(f"b{i}")["status"] in ("done", "refused")


def test_deadman_makes_the_device_safe_when_the_supervisor_is_stuck() -> None:
    config = make_config(1883)
    factory = MockFactory(pin_class=MockPWMPin)
    outputs = build_outputs(config.devices, factory, lambda t, p: None)
    ended: list[tuple[str, Any]] = []
    executor = Executor(outputs, clock=SystemClock(), watch=lambda a, p: None,
                        on_state=lambda o: None)
    # The supervisor thread is never started: only the deadman timer can stop this.
    action = config.actions["move"].model_copy(update={"max_duration_s": 0.3})
    started = time.monotonic()
    executor.start("move", action, {"direction": "forward", "distance_m": 100.0}, duration=100.0,
                   safe=False, on_end=lambda s, r, d: ended.append((s, r)))
    assert factory.pin(4).state == 1.0
    assert wait_until(lambda: bool(ended), 3)
    assert time.monotonic() - started < 1.0
    assert ended == [("failed", "deadman")]
    assert factory.pin(4).state == 0


def test_a_dead_network_thread_is_a_fault_not_ignored(daemon: Running, client: Client) -> None:
    client.publish("robots/t/cmd", {"id": "c", "action": "lights_color",
                                    "params": {"color": "green"}})
    client.result("c", "done")
    assert daemon.pin(6).state == 1
    daemon.daemon.connection.stopping.set()  # the loop thread ends as if it had died
    daemon.thread.join(10)
    assert daemon.exit_code == [1]
    assert daemon.pin(6).state == 0
    # A fault latches: the daemon comes back engaged, by the watchdog, until someone looks.
    latch = Latch(daemon.state_dir)
    assert latch.engaged and latch.state.source == "watchdog"
    assert "the MQTT network thread" in latch.state.reason


def test_broker_killed_under_load_no_double_execution_no_lost_estop(
        daemon: Running, broker: Broker, client: Client) -> None:
    import signal as sig

    from tests.conftest import connect_client

    sent = [{"id": f"load{i}", "action": "lights_color",
             "params": {"color": ("red", "green", "blue")[i % 3]}} for i in range(300)]
    for message in sent[:150]:
        client.publish("robots/t/cmd", message, qos=1)
    assert broker.proc is not None
    broker.proc.send_signal(sig.SIGKILL)  # no clean shutdown, no persistence
    broker.proc.wait(5)
    broker.proc = None
    broker.start()
    assert wait_until(lambda: daemon.daemon.connection.connected.is_set() and
                 daemon.daemon.estop.connection.connected.is_set(), 15)
    again = connect_client(broker.port)
    try:
        again.publish("robots/t/estop", "")  # right after the restart: must not be lost
        assert again.wait_for("robots/t/estop/state", lambda s: s["engaged"])
        again.publish("robots/t/estop/reset", {"id": "r-load", "reason": "load test"})
        again.result("r-load", "done")
        for message in sent:  # the stack re-sends everything it has no answer for
            again.publish("robots/t/cmd", message, qos=1)
        last = again.wait_for("robots/t/result", lambda r: r["id"] == "load299", timeout=10)
        assert last["status"] in ("done", "duplicate")
        executed = [json.loads(p)["id"] for t, p, _ in client.history + again.history
                    if t == "robots/t/events" and json.loads(p)["decision"] == "execute"
                    and json.loads(p)["id"].startswith("load")]
        assert len(executed) == len(set(executed)), "a command ran twice"
        assert again.wait_for("robots/t/status", lambda s: s["state"] == "online" and
                              s["estop"] is False)
        assert daemon.daemon.health_problem() == ""
    finally:
        again.client.loop_stop()


def test_online_is_announced_only_once_commands_can_arrive(broker: Broker,
                                                           client: Client) -> None:
    """A control stack sends its first command when it sees the daemon online: by then the
    broker must already hold the subscription that delivers it, or the command is lost."""

    received: list[bytes] = []

    def announce() -> None:  # as the daemon publishes its status: a peer answers at once
        client.publish("robots/t/cmd", "first", qos=1)

    link = Connection(make_config(broker.port).mqtt, client_id="announce-test",
                      clock=SystemClock(), on_message=lambda msg: received.append(msg.payload),
                      on_connect=announce)
    link.start([("robots/t/cmd", 1)])
    try:
        assert wait_until(lambda: received == [b"first"], timeout=5)
    finally:
        link.stop()


def test_a_message_that_cannot_be_queued_is_counted_as_dropped(tmp_path: Path) -> None:
    """While the broker is away, QoS 1 messages wait in memory up to a bound (else a long
    outage would grow it forever); past that each is refused, counted and logged."""
    from tests.conftest import free_port

    link = Connection(make_config(free_port()).mqtt, client_id="drops", clock=SystemClock(),
                      on_message=lambda msg: None)
    link.client.max_queued_messages_set(3)
    for i in range(5):
        link.publish("robots/t/events", f"record {i}")
    assert link.dropped == 2
