"""The pending scheduled actions (agent.requests.schedules) on disk: one JSON file in the state
directory, replaced atomically (a temporary file, fsync, rename, fsync of the directory), so a
crash or a power cut leaves the old list or the new one, never half of one.

A file that cannot be read is set aside as `schedules.json.corrupt` for a technician to look at
and reported (the journal, `status.schedules.store`); nothing in it runs, since nobody can say
what it held. A file that cannot be written is reported the same way.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.core.files import replace_atomically, sync

log = logging.getLogger(__name__)

FILE_NAME = "schedules.json"
VERSION = 1


@dataclass(frozen=True)
class Entry:
    """A pending scheduled action, as P/schedule lists it."""

    schedule_id: str
    request_id: str
    action: str
    params: dict[str, Any]
    at: datetime  # aware
    text: str | None
    recurring: str | None  # None, or "daily"

    def listed(self) -> dict[str, Any]:
        return {"schedule_id": self.schedule_id, "id": self.request_id, "action": self.action,
                "params": self.params, "at": shown(self.at), "text": self.text,
                "recurring": self.recurring}


def shown(at: datetime) -> str:
    """ISO 8601 local time with its offset; to the second unless it has a fraction."""
    return at.astimezone().isoformat(timespec="milliseconds" if at.microsecond else "seconds")


@dataclass(frozen=True)
class Stored:
    """An entry with what it needs to answer its sender after a restart."""

    entry: Entry
    input_kind: str
    confidence: float | None
    reply_topic: str | None
    correlation: bytes | None


class ScheduleFile:
    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE_NAME
        self.load_problem = ""
        self.save_problem = ""

    @property
    def state(self) -> str:
        """'ok', or what went wrong, for the status."""
        return self.save_problem or self.load_problem or "ok"

    def load(self) -> list[Stored]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            self.load_problem = f"unreadable: {exc.strerror or exc}; nothing in it runs"
            log.error("schedule file %s is %s", self.path, self.load_problem)
            return []
        try:
            data = json.loads(raw.decode("utf-8"))
            if data.get("version") != VERSION:
                raise ValueError(f"version {data.get('version')!r}, not {VERSION}")
            return [_decode(item) for item in data["entries"]]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            aside = self.path.with_name(FILE_NAME + ".corrupt")
            with contextlib.suppress(OSError):
                os.replace(self.path, aside)
            self.load_problem = f"corrupt, set aside as {aside.name}; nothing in it runs"
            log.error("schedule file %s is corrupt (%s): set aside as %s; the schedules it held "
                      "will not run", self.path, str(exc)[:200], aside)
            return []

    def save(self, entries: list[Stored], durable: bool = True) -> str:
        """Replace the file with these entries; '' or what went wrong (also logged).

        Not durable: renamed into place without waiting for the disk, which a crash of this
        process survives but a power cut may not, until sync(). The timer uses it so that an
        entry is off the list before it fires, without the fsyncs (~10 ms here, more on an SD
        card) in the way; it syncs right after."""
        data = json.dumps({"version": VERSION, "entries": [_encode(s) for s in entries]},
                          ensure_ascii=False, indent=1).encode("utf-8")
        try:
            replace_atomically(self.path, data, durable=durable)
        except OSError as exc:
            return self._failed(exc)
        self.save_problem = ""
        return ""

    def sync(self) -> None:
        """Make the last save durable."""
        try:
            sync(self.path)
        except FileNotFoundError:
            return
        except OSError as exc:
            self._failed(exc)

    def _failed(self, exc: OSError) -> str:
        self.save_problem = f"unwritable: {exc.strerror or exc}"
        log.error("could not save the schedules to %s: %s", self.path, exc)
        return self.save_problem


def _encode(stored: Stored) -> dict[str, Any]:
    e = stored.entry
    return {"schedule_id": e.schedule_id, "id": e.request_id, "action": e.action,
            "params": e.params, "at": e.at.isoformat(), "text": e.text,
            "recurring": e.recurring, "input_kind": stored.input_kind,
            "confidence": stored.confidence, "reply_to": stored.reply_topic,
            "correlation": stored.correlation.hex() if stored.correlation is not None else None}


def _field(item: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = item[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise TypeError(f"{key} is a {type(value).__name__}")
    return value


def _decode(item: dict[str, Any]) -> Stored:
    at = datetime.fromisoformat(_field(item, "at", str))
    if at.tzinfo is None:
        raise ValueError("a time without its offset")
    optional_text = (str, type(None))
    correlation = _field(item, "correlation", optional_text)
    entry = Entry(_field(item, "schedule_id", str), _field(item, "id", str),
                  _field(item, "action", str), _field(item, "params", dict), at,
                  _field(item, "text", optional_text), _field(item, "recurring", optional_text))
    return Stored(entry, _field(item, "input_kind", str),
                  _field(item, "confidence", (int, float, type(None))),
                  _field(item, "reply_to", optional_text),
                  bytes.fromhex(correlation) if correlation is not None else None)
