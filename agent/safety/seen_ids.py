"""The ids of requests already received: a repeat is a duplicate and never runs twice, also
after a restart. The newest `keep` ids are kept in memory and appended to a file, one JSON
string a line; the file is rewritten with the ids still kept when it has grown to twice that.

Appending is one write per new id, without fsync: the ids survive a crash of the process, and a
power cut may lose the last few. A line that does not parse (a torn last line) is skipped:
these ids stop duplicates, not attacks (signed messages have their own guard, agent.safety.signing).
Not thread-safe: the gate calls it under its lock.
"""

from __future__ import annotations

import json
import logging
import os
from collections import OrderedDict
from pathlib import Path

log = logging.getLogger(__name__)


class SeenIds:
    def __init__(self, path: Path | None, keep: int = 10_000) -> None:
        self.path = path
        self.keep = keep
        self.ids: OrderedDict[str, None] = OrderedDict()
        self.fd: int | None = None
        self.lines = 0  # in the file now
        self.failing = False  # the last write failed (logged once until one succeeds)
        if path is not None:
            self._load(path)
            self._rewrite()

    def claim(self, request_id: str) -> bool:
        """True the first time an id is seen."""
        if request_id in self.ids:
            return False
        self.ids[request_id] = None
        if len(self.ids) > self.keep:
            self.ids.popitem(last=False)
        if self.fd is not None:
            self._append(request_id)
        return True

    def _load(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        except OSError as exc:
            log.error("cannot read the ids already received from %s: %s", path, exc)
            return
        skipped = 0
        for line in text.splitlines():
            try:
                rid = json.loads(line)
            except ValueError:
                rid = None
            if isinstance(rid, str):
                self.ids[rid] = None
                self.ids.move_to_end(rid)
            else:
                skipped += 1
        while len(self.ids) > self.keep:
            self.ids.popitem(last=False)
        if skipped:
            log.warning("%s: skipped %d unreadable lines", path, skipped)

    def _append(self, request_id: str) -> None:
        assert self.fd is not None
        try:
            os.write(self.fd, (json.dumps(request_id) + "\n").encode())
            self.lines += 1
            self.failing = False
        except OSError as exc:
            if not self.failing:
                log.error("cannot save received ids to %s: %s (they are kept in memory)",
                          self.path, exc)
            self.failing = True
        if self.lines >= 2 * self.keep:
            self._rewrite()

    def _rewrite(self) -> None:
        """The file holds exactly the ids kept, opened for appending."""
        assert self.path is not None
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(rid) + "\n" for rid in self.ids),
                           encoding="utf-8")
            os.replace(tmp, self.path)
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            self.lines = len(self.ids)
        except OSError as exc:
            log.error("cannot keep received ids in %s: %s (a restart forgets them)",
                      self.path, exc)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
