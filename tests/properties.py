"""The daemon's safety invariants as a hypothesis state machine: random interleavings of
commands, text, cloud plans, e-stops, resets, sensors going stale, broker restarts, SIGTERM and
waiting, against an in-process daemon on mock pins, a real mosquitto and a scripted cloud.

Checked after every step:
- while the e-stop is latched, every output is in its safe state;
- every request gets exactly one final result (never two, never `internal_error`; all of them
  by the end, and before every broker restart, when what is in flight has settled);
- nothing sent before an e-stop sets an output after the reset that follows it: every output
  that goes on after a reset was asked for after the e-stop;
- no output stays on past its action's max_duration_s, plus SLACK_S (one supervisor period,
  and the scheduling jitter of a loaded 2-core machine; the soak prints the worst seen).

Every input kind is driven: structured commands, text, cloud plans, text scheduled a second or
two ahead (which may fire after an e-stop and a reset: it must not), and a reaction to a button.
Used by tests/test_properties.py (a few examples, in CI) and scripts/soak_properties.py (long).
To drive another input kind, add a @rule that sends it through `self.request(...)` (or records
what it may switch on in `self.asked`, as `button` does).
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from agent.devices import Output, kind_of
from tests.cloudstub import CloudStub
from tests.conftest import (
    Broker,
    Client,
    Running,
    connect_client,
    free_port,
    make_config,
    start_daemon,
    wait_until,
)

SLACK_S = 0.5
RESTARTS = 2  # broker restarts and SIGTERMs, each, per interleaving: they are slow, and rare
SETTLE_S = 8.0  # how long a request may take to reach its final result (the longest hold, 3 s)
FINAL = {"done", "failed", "refused", "duplicate", "none", "confirm_required"}
ANY_DEVICE = "*"

EXTRA = """
[actions.pump_on]
device = "pump"
op = "on"
max_duration_s = 0.8
[[actions.pump_on.interlocks]]
sensor = "front"
min = 0.3
[actions.pump_off]
device = "pump"
op = "off"
[devices.arm]
kind = "mqtt"
topic = "arm/cmd"
heartbeat_s = 0.2
[actions.arm_reach]
device = "arm"
op = "reach"
max_duration_s = 0.6
[actions.arm_stop]
device = "arm"
op = "stop"
[sensors.button]
topic = "robots/t/sensors/button"
kind = "bool"
max_age_s = 5
[reactions.button_lights]
when = {{ sensor = "button", equals = true }}
do = {{ action = "lights_color", params = {{ color = "green" }} }}
[cloud]
enabled = true
base_url = "{base_url}"
model = "stub"
timeout_s = 2
"""

COMMANDS: dict[str, tuple[str, dict[str, Any]]] = {  # action: (device, params)
    "move": ("drive", {"distance_m": 0.3}),
    "turn": ("drive", {"direction": "left", "degrees": 30}),
    "stop": ("drive", {}),
    "lights_color": ("lamp", {"color": "red"}),
    "lights_off": ("lamp", {}),
    "pump_on": ("pump", {}),
    "pump_off": ("pump", {}),
    "arm_reach": ("arm", {}),
    "arm_stop": ("arm", {}),
}
TEXTS = ["turn left 30 degrees", "drive forward 20 centimetres", "lights off", "stop",
         "make the lights green", "do a little dance"]
LATER = ["make the lights red in 1 second", "turn left 30 degrees in 2 seconds",
         "lights off in 1 second"]
PLAN_STEPS = st.lists(st.sampled_from([
    {"action": "lights_color", "params": {"color": "blue"}},
    {"action": "turn", "params": {"direction": "right", "degrees": 20}},
    {"action": "pump_on", "params": {}},
    {"action": "arm_reach", "params": {}},
    {"action": "lights_off", "params": {}}]), min_size=1, max_size=3)


@dataclass
class Stats:
    """What the runs did, for the soak's report."""
    examples: int = 0
    steps: Counter[str] = field(default_factory=Counter)
    finals: Counter[str] = field(default_factory=Counter)
    # how far past its bound an output was still on when it went safe, at worst (an output
    # switched off early counts negative)
    worst_overrun_s: float = -math.inf
    started: float = field(default_factory=time.monotonic)


STATS = Stats()


@dataclass
class Tracker:
    """Watches every output of a daemon: when each went on, for how long it may stay on, and
    every time one went on (with the action whose bound applies)."""
    bounds: dict[str, list[float]]  # device:op: each action's max_duration_s (inf: stays_on)
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_since: dict[str, tuple[float, float]] = field(default_factory=dict)  # device: (t, bound)
    switched_on: list[tuple[float, str]] = field(default_factory=list)  # (t, device)

    def watch(self, name: str, output: Output) -> None:
        apply, safe = output.apply, output.safe

        def applied(op: str, params: dict[str, Any]) -> None:
            apply(op, params)
            with self.lock:
                if kind_of(output.config.kind).is_safe_op(op):
                    self.went_safe(name)
                else:
                    now = time.monotonic()
                    self.on_since[name] = (now, self.bound_of(name, op))
                    self.switched_on.append((now, name))

        def made_safe() -> None:
            safe()
            with self.lock:
                self.went_safe(name)

        output.apply = applied  # type: ignore[method-assign]
        output.safe = made_safe  # type: ignore[method-assign]

    def went_safe(self, device: str) -> None:
        """(Under the lock.) How long past its bound it was on, for the soak's report."""
        since, bound = self.on_since.pop(device, (0.0, math.inf))
        if math.isfinite(bound):
            over = time.monotonic() - since - bound
            STATS.worst_overrun_s = max(STATS.worst_overrun_s, over)

    def bound_of(self, device: str, op: str) -> float:
        return max(self.bounds.get(f"{device}:{op}", [math.inf]))


class DaemonMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="robot-agent-props-"))
        self.stub = CloudStub()
        port = free_port()
        # Read first: a config that does not parse must not leave a broker running.
        self.config = make_config(port, EXTRA.format(base_url=self.stub.base_url))
        conf = self.tmp / "mosquitto.conf"
        conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                        "persistence false\nset_tcp_nodelay true\n")
        self.broker = Broker(port, conf)
        self.broker.start()
        self.client: Client = connect_client(port)
        self.bounds: dict[str, list[float]] = {}
        for action in self.config.actions.values():
            bound = math.inf if action.stays_on else action.max_duration_s
            self.bounds.setdefault(f"{action.device}:{action.op}", []).append(bound)
        self.ids = itertools.count(1)
        self.sent: dict[str, float] = {}  # id: when it was sent
        self.asked: list[tuple[float, str]] = []  # (when, device it may switch on)
        self.engaged_at: list[float] = []
        self.released_at: list[float] = []
        self.restarts: Counter[str] = Counter()
        self.running: Running | None = None
        self.tracker: Tracker | None = None
        STATS.examples += 1

    # ---- the daemon's life ----------------------------------------------------------------

    @initialize()
    def start(self) -> None:
        import os

        os.environ["ROBOT_AGENT_CLOUD_API_KEY"] = "sk-properties"
        self.running = start_daemon(self.config, self.tmp / "state", self.client)
        self.tracker = Tracker(self.bounds)
        for name, output in self.running.daemon.outputs.items():
            self.tracker.watch(name, output)
        daemon = self.running.daemon
        engage, release = daemon.estop.engage, daemon.estop._release

        def engaged(source: str, reason: str, request_id: str | None = None) -> None:
            self.engaged_at.append(time.monotonic())
            engage(source, reason, request_id)

        def released(request: Any) -> Any:
            outcome = release(request)
            self.released_at.append(time.monotonic())
            return outcome

        daemon.estop.engage = engaged  # type: ignore[method-assign]
        daemon.estop._release = released  # type: ignore[method-assign]

    def teardown(self) -> None:
        try:
            if self.running is not None:
                self.settle()
                self.check_one_final_each(complete=True)
                self.running.stop()
        finally:
            self.client.client.loop_stop()
            self.client.client.disconnect()
            self.broker.stop()
            self.stub.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- requests -------------------------------------------------------------------------

    def request(self, topic: str, message: dict[str, Any], devices: tuple[str, ...]) -> str:
        rid = f"p{next(self.ids)}"
        message = {**message, "id": rid}
        now = time.monotonic()
        self.sent[rid] = now
        self.asked.extend((now, device) for device in devices)
        self.client.publish(topic, message)
        return rid

    @rule(action=st.sampled_from(sorted(COMMANDS)))
    def command(self, action: str) -> None:
        STATS.steps["command"] += 1
        device, params = COMMANDS[action]
        self.request("robots/t/cmd", {"action": action, "params": params}, (device,))

    @rule(text=st.sampled_from(TEXTS))
    def ask(self, text: str) -> None:
        STATS.steps["ask"] += 1
        self.request("robots/t/ask", {"text": text}, (ANY_DEVICE,))

    @rule(text=st.sampled_from(LATER))
    def schedule(self, text: str) -> None:
        """Scheduled for later: its one final result comes when it fires (or is cancelled)."""
        STATS.steps["schedule"] += 1
        self.request("robots/t/ask", {"text": text}, (ANY_DEVICE,))

    @rule(pressed=st.booleans())
    def button(self, pressed: bool) -> None:
        """The reaction to a pressed button sets the lamp (it re-arms when released)."""
        STATS.steps["button"] += 1
        if pressed:
            self.asked.append((time.monotonic(), "lamp"))
        self.client.publish("robots/t/sensors/button", "true" if pressed else "false")

    @rule(steps=PLAN_STEPS)
    def plan(self, steps: list[dict[str, Any]]) -> None:
        STATS.steps["plan"] += 1
        self.stub.script.append(("plan", steps))
        self.request("robots/t/plan", {"goal": "random plan"}, (ANY_DEVICE,))

    @rule(value=st.sampled_from(["2.0", "0.1"]))
    def sensor(self, value: str) -> None:
        STATS.steps["sensor"] += 1
        self.client.publish("robots/t/sensors/front", value)

    @rule(seconds=st.sampled_from([0.05, 0.3, 0.7]))
    def wait(self, seconds: float) -> None:
        """Time passes: holds reach their bound, the front sensor goes stale (0.5 s)."""
        STATS.steps["wait"] += 1
        time.sleep(seconds)

    @rule()
    def estop(self) -> None:
        STATS.steps["estop"] += 1
        self.client.forget()
        self.client.publish("robots/t/estop", "")
        _, payload, _ = self.client.wait_raw("robots/t/estop/state",
                                             lambda s: s["engaged"], timeout=10)
        # The arm (an mqtt device) was told safe before anyone heard "engaged".
        told = [json.loads(p) for t, p, _ in self.client.history
                if t == "arm/cmd" or (t == "robots/t/estop/state" and p == payload)]
        arm_before = [m for m in told[:told.index(json.loads(payload))] if "op" in m]
        assert not arm_before or arm_before[-1] == {"op": "safe"}, arm_before[-3:]

    @rule()
    def reset(self) -> None:
        STATS.steps["reset"] += 1
        rid = f"reset{next(self.ids)}"
        self.client.publish("robots/t/estop/reset", {"id": rid, "reason": "properties"})
        self.client.result(rid, timeout=10)

    @precondition(lambda self: self.restarts["broker"] < RESTARTS)
    @rule()
    def broker_restart(self) -> None:
        """What is in flight settles first: a result published while this test's client is
        away is not lost to the daemon, but this client would not see it."""
        STATS.steps["broker_restart"] += 1
        self.restarts["broker"] += 1
        self.settle()
        assert self.running is not None
        daemon = self.running.daemon
        self.broker.stop()
        self.broker.start()
        assert wait_until(lambda: daemon.connection.connected.is_set() and
                          daemon.estop.connection.connected.is_set(), 30), "no reconnect"
        assert wait_until(lambda: self.client.client.is_connected(), 10)
        time.sleep(0.3)  # the test client's own subscription

    @precondition(lambda self: self.restarts["sigterm"] < RESTARTS)
    @rule()
    def sigterm(self) -> None:
        STATS.steps["sigterm"] += 1
        self.restarts["sigterm"] += 1
        assert self.running is not None
        assert self.running.stop() == 0
        assert all(output.last_op == "safe" for output in self.running.daemon.outputs.values())
        assert all(self.running.pin(n).state == 0 for n in (4, 14, 17, 18, 5, 6, 13, 23))
        self.start()

    # ---- the invariants -------------------------------------------------------------------

    @invariant()
    def latched_means_safe(self) -> None:
        if self.running is None:
            return
        daemon = self.running.daemon
        if daemon.latch.engaged:
            unsafe = {name: out.state() for name, out in daemon.outputs.items()
                      if out.last_op != "safe" and not out.is_safe_op(out.last_op)}
            pins = {n: self.running.pin(n).state for n in (4, 14, 17, 18, 5, 6, 13, 23)
                    if self.running.pin(n).state != 0}
            assert not unsafe and not pins, (unsafe, pins)

    @invariant()
    def nothing_from_before_an_estop_after_its_reset(self) -> None:
        if self.tracker is None:
            return
        with self.tracker.lock:
            switched = list(self.tracker.switched_on)
        for when, device in switched:
            resets = [r for r in self.released_at if r <= when]
            if not resets:
                continue
            engage = max((e for e in self.engaged_at if e <= resets[-1]), default=-math.inf)
            asked_after = [t for t, d in self.asked if engage < t < when and
                           d in (device, ANY_DEVICE)]
            assert asked_after, f"{device} went on at {when} with nothing asked since the " \
                                f"e-stop at {engage}"

    @invariant()
    def bounded(self) -> None:
        if self.tracker is None:
            return
        now = time.monotonic()
        with self.tracker.lock:
            holding = dict(self.tracker.on_since)
        for device, (since, bound) in holding.items():
            assert now - since - bound <= SLACK_S, \
                f"{device} on for {now - since:.2f} s, bound {bound} s"

    @invariant()
    def never_two_finals(self) -> None:
        self.check_one_final_each(complete=False)

    # ---- helpers --------------------------------------------------------------------------

    def finals(self) -> dict[str, list[dict[str, Any]]]:
        while not self.client.messages.empty():
            self.client.history.append(self.client.messages.get_nowait())
        out: dict[str, list[dict[str, Any]]] = {}
        for topic, payload, _ in self.client.history:
            if topic != "robots/t/result":
                continue
            result = json.loads(payload)
            if result["id"] in self.sent and result["status"] in FINAL and "step" not in result:
                out.setdefault(result["id"], []).append(result)
        return out

    def settle(self) -> None:
        """Wait for every final result, checking the bounds meanwhile: what is still on when
        nothing more is asked must still go safe in time."""
        def settled() -> bool:
            self.bounded()
            self.latched_means_safe()
            return len(self.finals()) == len(self.sent)

        wait_until(settled, SETTLE_S)

    def check_one_final_each(self, complete: bool) -> None:
        finals = self.finals()
        twice = {rid: r for rid, r in finals.items() if len(r) > 1}
        assert not twice, twice
        broken = {rid: r for rid, r in finals.items() if r[0]["reason"] == "internal_error"}
        assert not broken, broken
        if complete:
            missing = sorted(set(self.sent) - set(finals))
            assert not missing, f"no final result for {missing}"
            STATS.finals.update(r[0]["status"] for r in finals.values())
