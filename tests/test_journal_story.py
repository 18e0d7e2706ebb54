"""The journal tells a technician the story of a run: which link is the e-stop's, that the robot
is online and in what state, a move running then done, text, an e-stop naming the outputs it
made safe and what it stopped, a reset with its reason and who sent it, and why the daemon
stopped. Every line reaches journald with its fields (here through systemd-python's own
JournalHandler and the daemon's DecisionLog, with a sender that records instead of sending)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from systemd.journal import JournalHandler

from agent.core.journal import MESSAGE_IDS, STORY_IDS, DecisionLog
from tests.conftest import ROOT, Broker, Client, make_config, start_daemon, wait_until


class Journal:
    """What would have been sent to journald, entry by entry."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def send(self, MESSAGE: str | None = None, **fields: Any) -> None:
        with self.lock:
            self.entries.append({"MESSAGE": MESSAGE, **fields})

    def find(self, **match: str) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.entries if all(str(e.get(k)) == v for k, v in match.items())]

    def one(self, **match: str) -> dict[str, Any]:
        assert wait_until(lambda: self.find(**match)), f"no journal entry with {match}"
        return self.find(**match)[0]


@pytest.fixture
def journal() -> Iterator[Journal]:
    journal = Journal()
    handler = JournalHandler(sender_function=journal.send)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    yield journal
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_run_of_move_text_estop_and_reset_reads_as_a_story(
        broker: Broker, client: Client, tmp_path: Path, journal: Journal) -> None:
    running = start_daemon(make_config(broker.port), tmp_path / "state", client,
                           decision_log=DecisionLog(journal.send))
    starting = journal.one(MESSAGE_ID=STORY_IDS["starting"])
    assert (starting["DEVICE"], starting["PIN_FACTORY"]) == ("t", "MockFactory (MockPWMPin)")
    estop_link = journal.one(MESSAGE_ID=STORY_IDS["link"], LINK="e-stop", STATE="up")
    assert "robots/t/estop in, robots/t/estop/state out" in estop_link["MESSAGE"]
    assert estop_link["CLIENT_ID"] == "robot-agent-t-estop"
    journal.one(MESSAGE_ID=STORY_IDS["link"], LINK="main", CLIENT_ID="robot-agent-t")
    online = journal.one(MESSAGE_ID=STORY_IDS["online"])
    assert (online["ESTOP"], online["CLOUD"], online["ESTOP_LINK"]) == (
        "released", "disabled", "connected"), online
    assert online["MODEL"] == running.daemon.status()["model"]
    assert "robot t online on robots/t: e-stop released" in online["MESSAGE"]

    client.publish("robots/t/sensors/front", "2.0")
    client.publish("robots/t/cmd", {"id": "m1", "action": "move",
                                    "params": {"distance_m": 0.2}})
    journal.one(ID="m1", STATUS="done")
    move = journal.find(ID="m1")
    assert [(e["STATUS"], e["INPUT_KIND"], e["DECISION"]) for e in move] == [
        ("running", "cmd", "execute"), ("done", "cmd", "execute")]
    assert move[1]["DETAIL"] == "move on drive: ran to its end"

    client.publish("robots/t/ask", {"id": "a1", "text": "turn the lights red"})
    assert journal.one(ID="a1")["TEXT"] == "turn the lights red"

    client.publish("robots/t/cmd", {"id": "m2", "action": "move",
                                    "params": {"distance_m": 2.0}})
    client.result("m2", "running")
    client.publish("robots/t/estop", {"id": "e1", "reason": "person in the aisle"})
    engaged = journal.one(MESSAGE_ID=MESSAGE_IDS["estop"])
    assert engaged["SOURCE"] == "mqtt" and engaged["PRIORITY"] == "4"
    assert engaged["DETAIL"] == ("e-stop engaged by mqtt: person in the aisle; outputs made "
                                 "safe: drive, lamp, pump; stopped: lights_color on lamp, "
                                 "move on drive")
    journal.one(ID="m2", STATUS="failed", REASON="estop_engaged", INPUT_KIND="supervision")

    client.publish("robots/t/estop/reset", {"id": "r1", "reason": "aisle clear, Ana",
                                            "source": "cli"})
    reset = journal.one(MESSAGE_ID=MESSAGE_IDS["reset"])
    assert reset["SOURCE"] == "cli" and reset["STATUS"] == "done"
    assert reset["DETAIL"].startswith('e-stop released (reset by cli, reason "aisle clear, '
                                      'Ana"; it was engaged by mqtt: person in the aisle)')

    running.daemon.request_stop("received SIGTERM from systemd")
    running.thread.join(10)
    stopped = journal.one(MESSAGE_ID=STORY_IDS["stopped"])
    assert (stopped["WHY"], stopped["ESTOP"], stopped["OUTPUTS_SAFE"]) == (
        "received SIGTERM from systemd", "released", "drive,lamp,pump")
    assert stopped["MESSAGE"].startswith("robot-agent stopped (received SIGTERM from systemd): "
                                         "every output made safe (drive, lamp, pump)")
    with journal.lock:
        assert all(e.get("MESSAGE_ID") and e.get("PRIORITY") for e in journal.entries
                   if e.get("LOGGER", "").startswith("agent.") or "ID" in e)


def test_the_catalog_explains_the_storys_lines_too() -> None:
    catalog = (ROOT / "deploy/robot-agent.catalog").read_text()
    for message_id in STORY_IDS.values():
        assert f"-- {message_id}" in catalog
