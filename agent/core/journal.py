"""Decision records in the journal: structured fields a technician can filter on, a MESSAGE a
human reads in one line, a priority per kind, a MESSAGE_ID per kind explained by the catalogue
in deploy/robot-agent.catalog (`journalctl -x`). Off systemd, the same line goes to stderr."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from agent.core.decisions import log_line

log = logging.getLogger("agent.decisions")

# One MESSAGE_ID per kind of event; deploy/robot-agent.catalog explains each.
MESSAGE_IDS = {
    "execute": "90cff2eb39d843e797a7aa543b71030e",
    "refuse": "dcf1a07c61f643edb5e961682bdd7c17",
    "none": "140334c0f21743c881fa4f9d1a35d5f8",  # asked back, or a duplicate
    "confirm": "59516417de26414da705ac35e0f6cac1",
    "abort": "92c27df9cd104e888409f78ef71d864d",
    "estop": "a951d2a07fc54b08af5803d42077af4f",
    "reset": "096f044feac64affb956637b3be9fd36",
    "fault": "5030cd54042445a9a78a3cc0f3459c42",
    "answer": "94d9e4bf7fe0483dac1c6d195df85dbb",
    "schedule": "67bf5bccd4e84a9cbb83546c68e476f7",  # accepted for later
    "plan": "87b01d1db23645498086ef9a9082f4f7",
    "cancel": "1b81c9620c404113a224f9907ab56794",
}
# The daemon's own story around its decisions, one MESSAGE_ID per kind of line (explained in
# deploy/robot-agent.catalog too): the daemon starting, a link to the broker up or down, the
# robot online, the daemon stopped.
STORY_IDS = {
    "starting": "35bd8c08e7c84fd2ae6373fd894b7a54",
    "link": "3696b6eb7fb948ffbaa557a687dea611",
    "online": "659b1f20ef4440979f0f770193dfbbb5",
    "stopped": "5eb7b56bee0347ff8482000225887f21",
}
# syslog priorities
ERR, WARNING, NOTICE, INFO = 3, 4, 5, 6


def story(kind: str, **facts: object) -> dict[str, str]:
    """The `extra` of a log line of the story: its MESSAGE_ID and its facts as journal fields
    (`journalctl LINK=e-stop`); off the journal the message says the same in words."""
    return {"MESSAGE_ID": STORY_IDS[kind], **{k.upper(): str(v) for k, v in facts.items()}}


def kind_of(record: dict[str, Any]) -> str:
    if record["input_kind"] in ("estop", "reset"):
        return str(record["input_kind"])
    if record["reason"] == "internal_error":
        return "fault"
    return str(record["decision"]) if record["decision"] in MESSAGE_IDS else "none"


PRIORITIES = {"fault": ERR, "estop": WARNING, "abort": WARNING, "refuse": WARNING,
              "reset": NOTICE, "confirm": NOTICE}


def priority(record: dict[str, Any]) -> int:
    return PRIORITIES.get(kind_of(record), INFO)


def fields(record: dict[str, Any]) -> dict[str, str]:
    """The record as journal fields: upper-case names, values as text (JSON for objects)."""
    out = {}
    for key, value in record.items():
        if value is None:
            continue
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":")) if isinstance(
            value, dict | list | bool) else str(value)
        out[key.upper()] = text
    out["MESSAGE"] = log_line(record)
    out["PRIORITY"] = str(priority(record))
    out["MESSAGE_ID"] = MESSAGE_IDS[kind_of(record)]
    out["SYSLOG_IDENTIFIER"] = "robot-agent"
    return out


def journal_sender() -> Callable[..., Any] | None:
    """systemd.journal.send when our output goes to the journal, else None."""
    if not os.environ.get("JOURNAL_STREAM"):
        return None
    try:
        import systemd.journal as sdj
    except ImportError:
        return None
    send: Callable[..., Any] = sdj.send
    return send


class DecisionLog:
    def __init__(self, send: Callable[..., Any] | None = None) -> None:
        self.send = send

    def __call__(self, record: dict[str, Any]) -> None:
        if self.send is not None:
            self.send(**fields(record))
            return
        level = {ERR: logging.ERROR, WARNING: logging.WARNING}.get(priority(record),
                                                                   logging.INFO)
        log.log(level, "%s", log_line(record))


def setup_logging() -> None:
    """Journal handler for the daemon's own messages under systemd, readable stderr elsewhere."""
    handler: logging.Handler
    if os.environ.get("JOURNAL_STREAM"):
        try:
            import systemd.journal as sdj

            handler = sdj.JournalHandler(SYSLOG_IDENTIFIER="robot-agent")
            # The message alone: the journal has the level (PRIORITY) and the logger (LOGGER);
            # basicConfig would prefix "INFO:agent.daemon:" to every line.
            handler.setFormatter(logging.Formatter("%(message)s"))
        except ImportError:
            handler = logging.StreamHandler(sys.stderr)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
