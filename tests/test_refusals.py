"""A refusal is always `refused`/`refuse`, whoever asked: its result, its record on P/events and
its journal line (at WARNING, so `journalctl DECISION=refuse` finds it), for every input kind
and each live refusal of the gate: the e-stop, an interlock, a stale sensor.

To cover a new input kind, add a Sender to SENDERS: how to make the daemon try `move forward
0.3 m` through that kind, under which id it answers, and which of its results is the refusal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent.core.journal import DecisionLog
from tests.cloudstub import CloudStub
from tests.conftest import Broker, Client, Running, make_config, start_daemon, wait_until

MOVE = {"direction": "forward", "distance_m": 0.3}


REACTION = """
[sensors.button]
topic = "robots/t/sensors/button"
kind = "bool"
max_age_s = 5
[reactions.button_drives]
when = { sensor = "button", equals = true }
do = { action = "move", params = { direction = "forward", distance_m = 0.3 } }
"""


@dataclass(frozen=True)
class Sender:
    # Makes the daemon try the move; returns the id its results and records carry.
    send: Callable[[Client, CloudStub, str], str]
    # The result that carries the refusal of the move itself.
    is_refusal: Callable[[dict[str, Any]], bool] = lambda r: True


def command(client: Client, stub: CloudStub, rid: str) -> str:
    client.publish("robots/t/cmd", {"id": rid, "action": "move", "params": MOVE})
    return rid


def ask(client: Client, stub: CloudStub, rid: str) -> str:
    client.publish("robots/t/ask", {"id": rid, "text": "drive forward 30 centimetres"})
    return rid


def plan_step(client: Client, stub: CloudStub, rid: str) -> str:
    stub.script.append(("plan", [{"action": "move", "params": MOVE}]))
    client.publish("robots/t/plan", {"id": rid, "goal": "go forward a bit"})
    return rid


def later(client: Client, stub: CloudStub, rid: str) -> str:
    """Scheduled a second ahead: the gate's live checks run when it fires."""
    client.publish("robots/t/ask", {"id": rid,
                                    "text": "drive forward 30 centimetres in 1 second"})
    return rid


def reaction(client: Client, stub: CloudStub, rid: str) -> str:
    client.publish("robots/t/sensors/button", "true")
    return "reaction:button_drives:1"


SENDERS: dict[str, Sender] = {
    "cmd": Sender(command),
    "ask": Sender(ask),
    "plan": Sender(plan_step, lambda r: r.get("step") == 1),
    "schedule": Sender(later, lambda r: r["status"] != "scheduled"),
    "reaction": Sender(reaction),
}


def engaged(client: Client, running: Running) -> None:
    client.publish("robots/t/estop", "")
    client.wait_for("robots/t/estop/state", lambda s: s["engaged"])


def obstacle(client: Client, running: Running) -> None:
    client.publish("robots/t/sensors/front", "0.1")


def stale(client: Client, running: Running) -> None:
    pass  # no reading of the front sensor has ever arrived


CAUSES: dict[str, tuple[Callable[[Client, Running], None], str]] = {
    "estop": (engaged, "estop_engaged"),
    "interlock": (obstacle, "interlock"),
    "stale_sensor": (stale, "stale_sensor"),
}


@pytest.fixture
def journal() -> list[dict[str, str]]:
    return []


@pytest.fixture
def running(broker: Broker, client: Client, stub: CloudStub, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch, journal: list[dict[str, str]]
            ) -> Iterator[Running]:
    monkeypatch.setenv("ROBOT_AGENT_CLOUD_API_KEY", "sk-test")
    config = make_config(broker.port, f'\n[cloud]\nenabled = true\nbase_url = '
                                      f'"{stub.base_url}"\nmodel = "stub"\n' + REACTION)
    daemon = start_daemon(config, tmp_path / "state", client)
    # The journal as journald gets it: the fields of each record.
    daemon.daemon.publisher.decision_log = DecisionLog(lambda **fields: journal.append(fields))
    yield daemon
    daemon.stop()


@pytest.mark.parametrize("cause", sorted(CAUSES))
@pytest.mark.parametrize("kind", sorted(SENDERS))
def test_every_refusal_is_refused_for_every_input_kind(
        running: Running, client: Client, stub: CloudStub, journal: list[dict[str, str]],
        kind: str, cause: str) -> None:
    make_it_so, reason = CAUSES[cause]
    make_it_so(client, running)
    sender = SENDERS[kind]
    with fresh_obstacle(client, running, cause == "interlock"):
        rid = sender.send(client, stub, "r1")
        # A plan that arrives while the e-stop is engaged is refused whole, before any step runs
        # (agent.requests.plans): its own result is the refusal, and it names no action.
        action = None if (kind, cause) == ("plan", "estop") else "move"
        is_refusal = (lambda r: "step" not in r) if action is None else sender.is_refusal
        result = client.wait_for("robots/t/result", lambda r: r["id"] == rid and
                                 r["action"] == action and is_refusal(r))
    assert (result["status"], result["decision"], result["reason"]) == (
        "refused", "refuse", reason), result
    record = client.wait_for("robots/t/events", lambda e: e["id"] == rid and
                             e["action"] == action and e["status"] == "refused")
    assert (record["status"], record["decision"], record["reason"]) == (
        "refused", "refuse", reason), record
    # (A schedule's acceptance has a line of its own, before its time: not the refusal.)
    def refusal_lines() -> list[dict[str, str]]:
        return [f for f in journal if f["ID"] == rid and f.get("ACTION") == action
                and f["DECISION"] != "schedule" and (action or f["DECISION"] == "refuse")]

    wait_until(refusal_lines)  # the journal's line may follow the MQTT record by a moment
    lines = refusal_lines()
    assert [(f["DECISION"], f["REASON"], f["PRIORITY"]) for f in lines] == [
        ("refuse", reason, "4")], lines  # 4: warning
    assert all(running.pin(n).state == 0 for n in (4, 14, 17, 18))


@contextmanager
def fresh_obstacle(client: Client, running: Running, keep: bool) -> Iterator[None]:
    """Keeps the obstacle's reading fresh (max_age_s 0.5) while a request is answered: a
    scheduled move meets the interlock when it fires, a second later, not a stale sensor."""
    done = threading.Event()

    def renew() -> None:
        while not done.wait(0.2):
            obstacle(client, running)

    if keep:
        threading.Thread(target=renew, daemon=True).start()
    try:
        yield
    finally:
        done.set()
