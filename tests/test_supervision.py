"""Every output bounded and watched, whatever its kind: holds end at max_duration_s, interlocks
hold for as long as the output is not safe, mqtt devices are first-class (safe stop, an
acknowledged safe message before the e-stop is announced, a heartbeat), and the e-stop's
follow-up is never dropped."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.config import ConfigError, parse_config
from agent.mqtt.inbound import Inbound
from tests.conftest import (
    BASE_CONFIG,
    Broker,
    Client,
    Running,
    make_config,
    start_daemon,
    wait_until,
)

CMD = "robots/t/cmd"
ESTOP = "robots/t/estop"
STATE = "robots/t/estop/state"
FRONT = "robots/t/sensors/front"

# Every kind of untimed operation that leaves its output on, each bounded at 0.6 s.
HOLDS = """
[devices.led]
kind = "led"
pin = 20
[devices.horn]
kind = "buzzer"
pin = 21
[devices.dimmer]
kind = "pwm_led"
pin = 22
[devices.flap]
kind = "servo"
pin = 24
[devices.arm]
kind = "mqtt"
topic = "arm/cmd"
heartbeat_s = 0.1
[actions.pump_on]
device = "pump"
op = "on"
max_duration_s = 0.6
[[actions.pump_on.interlocks]]
sensor = "front"
min = 0.3
[actions.pump_off]
device = "pump"
op = "off"
[actions.led_on]
device = "led"
op = "on"
max_duration_s = 0.6
[actions.horn_on]
device = "horn"
op = "on"
max_duration_s = 0.6
[actions.dim]
device = "dimmer"
op = "brightness"
max_duration_s = 0.6
params.level = { type = "number", minimum = 0, maximum = 1, default = 0.5 }
[actions.flap_open]
device = "flap"
op = "angle"
max_duration_s = 0.6
params.degrees = { type = "number", minimum = -90, maximum = 90, default = 45 }
[actions.arm_reach]
device = "arm"
op = "reach"
max_duration_s = 0.6
[actions.arm_hold]
device = "arm"
op = "hold"
stays_on = true
[actions.arm_stop]
device = "arm"
op = "stop"
rate_per_min = 1
[actions.porch_light]
device = "led"
op = "on"
stays_on = true
[[actions.porch_light.interlocks]]
sensor = "front"
min = 0.3
"""


@pytest.fixture
def rig(broker: Broker, client: Client, tmp_path: Path) -> Iterator[Running]:
    running = start_daemon(make_config(broker.port, HOLDS), tmp_path / "state", client)
    yield running
    running.stop()


def arm_messages(client: Client) -> list[Any]:
    while not client.messages.empty():  # pull in what arrived
        client.history.append(client.messages.get_nowait())
    return [json.loads(m[1]) for m in client.history if m[0] == "arm/cmd"]


def last_arm(client: Client) -> Any:
    messages = arm_messages(client)
    return messages[-1] if messages else None


@pytest.mark.parametrize("action, safe", [
    ("pump_on", lambda d, c: d.pin(23).state == 0),
    ("led_on", lambda d, c: d.pin(20).state == 0),
    ("horn_on", lambda d, c: d.pin(21).state == 0),
    ("dim", lambda d, c: d.pin(22).state == 0),
    ("flap_open", lambda d, c: d.daemon.outputs["flap"].hw.value is None),
    ("arm_reach", lambda d, c: last_arm(c) == {"op": "safe"}),
])
def test_every_kind_of_hold_ends_at_its_max_duration(rig: Running, client: Client, action: str,
                                                     safe: Any) -> None:
    client.publish(FRONT, "2.0")
    client.publish(CMD, {"id": "h", "action": action})
    running = client.result("h", "running")
    assert "at most 0.6 s" in running["detail"]
    assert not safe(rig, client)
    for _ in range(4):  # keep the interlock's sensor fresh: only the bound may end it
        time.sleep(0.15)
        client.publish(FRONT, "2.0")
    final = client.result("h", "failed", timeout=3)
    assert final["reason"] == "deadman" and final["decision"] == "abort"
    assert wait_until(lambda: safe(rig, client), 2)
    assert client.wait_for("robots/t/events", lambda e: e["id"] == "h" and
                           e["reason"] == "deadman")


def test_a_hold_switched_off_ends_done_and_stays_on_stays_on(rig: Running,
                                                              client: Client) -> None:
    client.publish(FRONT, "2.0")
    client.publish(CMD, {"id": "on", "action": "pump_on"})
    client.result("on", "running")
    client.publish(CMD, {"id": "off", "action": "pump_off"})
    assert client.result("off")["status"] == "done"
    ended = client.result("on", "done")
    assert ended["reason"] is None and "ended by off" in ended["detail"]
    assert rig.pin(23).state == 0
    client.publish(CMD, {"id": "arm", "action": "arm_hold"})
    assert client.result("arm")["status"] == "done"  # stays_on: its one result at once
    time.sleep(0.25)
    assert len([m for m in arm_messages(client) if m["op"] == "hold"]) >= 2  # heartbeats
    time.sleep(0.6)  # past any max_duration_s of this config
    assert last_arm(client)["op"] == "hold"
    assert [r for t, p, _ in client.history if t == "robots/t/result"
            for r in [json.loads(p)] if r["id"] == "arm"] == [client.result("arm")]


def test_an_interlock_holds_for_as_long_as_the_output_is_not_safe(rig: Running,
                                                                  client: Client) -> None:
    client.publish(FRONT, "2.0")
    client.publish(CMD, {"id": "pump", "action": "pump_on"})
    client.result("pump", "running")
    assert rig.pin(23).state == 1
    client.publish(FRONT, "0.1")  # something came too close: the pump goes off
    final = client.result("pump", "failed")
    assert final["reason"] == "interlock" and "front is 0.1" in final["detail"]
    assert rig.pin(23).state == 0
    # Also for an output that may stay on: a stale sensor ends it, and says so in a record.
    client.publish(FRONT, "2.0")
    client.publish(CMD, {"id": "porch", "action": "porch_light"})
    assert client.result("porch")["status"] == "done"
    assert rig.pin(20).state == 1
    record = client.wait_for("robots/t/events", lambda e: e["id"] == "porch" and
                             e["decision"] == "abort", timeout=3)
    assert record["reason"] == "stale_sensor" and record["input_kind"] == "supervision"
    assert rig.pin(20).state == 0


def test_an_mqtt_device_stop_is_safe_and_beats_stop_with_the_estop(rig: Running,
                                                                     client: Client) -> None:
    client.publish(CMD, {"id": "r", "action": "arm_reach"})
    client.result("r", "running")
    time.sleep(0.35)
    assert len([m for m in arm_messages(client) if m["op"] == "reach"]) >= 3  # heartbeats
    client.publish(ESTOP, "")
    client.wait_for(STATE, lambda s: s["engaged"])
    assert last_arm(client) == {"op": "safe"}  # before the state said so
    assert client.result("r", "failed")["reason"] == "estop_engaged"
    for i in range(3):  # stop-like: accepted while engaged, never rate limited (1 a minute)
        client.publish(CMD, {"id": f"s{i}", "action": "arm_stop"})
        assert client.result(f"s{i}")["status"] == "done"
    time.sleep(0.3)
    assert [m["op"] for m in arm_messages(client)][-4:] == ["safe", "stop", "stop", "stop"]


def test_the_estop_waits_for_the_broker_to_take_the_safe_message(rig: Running,
                                                                  client: Client) -> None:
    """The safe message of an mqtt device goes out on the main connection, the e-stop state on
    the e-stop's own: the state is published only once the broker has acknowledged the safe
    message, so no subscriber hears "engaged" before the device has been told."""
    arm = rig.daemon.outputs["arm"]
    publish = arm.publish  # type: ignore[attr-defined]

    class Late:  # the main connection slowed down: the message leaves 0.2 s late
        def __init__(self, topic: str, payload: str) -> None:
            self.info: Any = None
            self.sent = threading.Event()
            threading.Timer(0.2, self.send, (topic, payload)).start()

        def send(self, topic: str, payload: str) -> None:
            self.info = publish(topic, payload)
            self.sent.set()

        def wait_for_publish(self, timeout: float | None = None) -> None:
            started = time.monotonic()
            self.sent.wait(timeout)
            if self.info is not None:
                self.info.wait_for_publish(max(0.0, (timeout or 0) - time.monotonic()
                                               + started))

        def is_published(self) -> bool:
            return self.info is not None and self.info.is_published()

    arm.publish = Late  # type: ignore[attr-defined]
    client.publish(CMD, {"id": "r", "action": "arm_reach"})
    client.result("r", "running")
    client.publish(ESTOP, "")
    state = client.wait_for(STATE, lambda s: s["engaged"])
    assert last_arm(client) == {"op": "safe"}
    assert state["unconfirmed"] == []


def test_with_the_broker_down_the_estop_says_which_devices_are_unconfirmed(
        rig: Running, broker: Broker, client: Client) -> None:
    client.publish(CMD, {"id": "r", "action": "arm_reach"})
    client.result("r", "running")
    broker.stop()
    assert wait_until(lambda: not rig.daemon.connection.connected.is_set(), 5)
    rig.daemon.estop.engage("cli", "broker down")  # e.g. the button: no broker needed
    assert rig.daemon.latch.engaged and rig.daemon.estop.unconfirmed == ["arm"]
    broker.start()
    observer_sees = lambda s: s["engaged"] and s["unconfirmed"] == []  # noqa: E731
    from tests.conftest import connect_client

    observer = connect_client(broker.port)
    try:
        # Once back, the queued safe message goes out first and the state is announced again.
        assert observer.wait_for(STATE, observer_sees, timeout=20)
        assert rig.daemon.outputs["arm"].safe_confirmed(0.0)
    finally:
        observer.client.loop_stop()


def test_the_estop_follow_up_is_never_dropped(rig: Running, client: Client) -> None:
    """70 e-stops queued behind a blocked follow-up (its queue held 64): every cancelled
    action still gets its final result, and engaging never waited."""
    estop = rig.daemon.estop
    gate = threading.Event()
    original = estop.follow_ups.handle
    estop.follow_ups.handle = lambda item: (gate.wait(30), original(item))  # type: ignore
    rounds = 70
    for i in range(rounds):
        client.publish(CMD, {"id": f"h{i}", "action": "horn_on"})
        client.result(f"h{i}", "running")
        estop.engage("cli", f"round {i}")
        estop.reset(Inbound("robots/t/estop/reset",
                            json.dumps({"id": f"r{i}", "reason": "test"}).encode()))
    gate.set()  # engaging never waited for the follow-up: all 70 engaged while it was held
    for i in range(rounds):
        assert client.result(f"h{i}", "failed", timeout=10)["reason"] == "estop_engaged"


def test_repeated_estops_while_engaged_are_counted_not_queued(rig: Running,
                                                              client: Client) -> None:
    estop = rig.daemon.estop
    gate = threading.Event()
    original = estop.follow_ups.handle
    estop.follow_ups.handle = lambda item: (gate.wait(30), original(item))  # type: ignore
    for i in range(1000):
        estop.engage("mqtt", f"flood {i}")
    assert estop.follow_ups.items.qsize() <= 2  # the first, and one record of the repeats
    gate.set()
    record = client.wait_for("robots/t/events", lambda e: e["input_kind"] == "estop" and
                             "999 such e-stops" in e["detail"])
    assert record["decision"] == "execute"


@pytest.mark.parametrize("extra, problem", [
    ('[actions.drive_on]\ndevice = "drive"\nop = "move"\nstays_on = true\n'
     'params.distance_m = { type = "number", default = 0.3 }\n', "never stays on"),
    ('[actions.p]\ndevice = "pump"\nop = "pulse"\nstays_on = true\n', "ends by itself"),
    ('[actions.p]\ndevice = "pump"\nop = "off"\nstays_on = true\n', "only makes the device"),
    ('[actions.p]\ndevice = "pump"\nop = "on"\nrisk = "high"\nstays_on = true\n',
     "high-risk"),
    ('[devices.l]\nkind = "led"\npin = 2\nheartbeat_s = 1\n', "only an mqtt device"),
])
def test_config_says_which_outputs_may_stay_on(extra: str, problem: str) -> None:
    import tomllib

    with pytest.raises(ConfigError) as err:
        parse_config(tomllib.loads(BASE_CONFIG.format(port=1883) + extra))
    assert problem in str(err.value)


def test_check_config_lists_what_may_stay_on_indefinitely(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    path = tmp_path / "c.toml"
    path.write_text(BASE_CONFIG.format(port=1883) + HOLDS)
    done = subprocess.run([sys.executable, "-m", "agent.cli", "check-config", "--config",
                           str(path)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert ("may stay on indefinitely (stays_on): lights_color (lamp), arm_hold (arm), "
            "porch_light (led)") in done.stdout


def test_an_estop_from_the_main_connections_thread_does_not_wait_on_itself(
        rig: Running, client: Client) -> None:
    """A reaction to a sensor engages the e-stop on the main connection's thread, the very
    thread that would receive the broker's acknowledgement: it must not wait for it."""
    daemon = rig.daemon
    on_sensor = daemon.handlers[FRONT]
    daemon.handlers[FRONT] = lambda msg: (on_sensor(msg), daemon.estop.engage(
        "mqtt", "a reaction: something too close"))
    client.publish(CMD, {"id": "r", "action": "arm_reach"})
    client.result("r", "running")
    client.publish(FRONT, "0.1")
    state = client.wait_for(STATE, lambda s: s["engaged"])
    assert state["unconfirmed"] in ([], ["arm"])  # announced at once, then again once confirmed
    assert client.wait_for(STATE, lambda s: s["engaged"] and s["unconfirmed"] == [])
    assert last_arm(client) == {"op": "safe"}
