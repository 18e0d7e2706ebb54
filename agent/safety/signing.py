"""Signed messages (CONTRACT section 2): HMAC-SHA256 over the canonical JSON, a time window,
and ids that can be used once."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

from agent.core.protocol import Reason

log = logging.getLogger(__name__)

WINDOW_S = 30.0
# A used id matters for twice the window: a message accepted at t has |ts - t| <= WINDOW_S, and
# a replay of it is refused by its ts alone after t + 2 * WINDOW_S.
REMEMBER_S = 2 * WINDOW_S


def canonical(message: dict[str, Any], ensure_ascii: bool = True) -> bytes:
    body = {k: v for k, v in message.items() if k != "sig"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=ensure_ascii).encode("utf-8")


def sign(message: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, canonical(message), hashlib.sha256).hexdigest()


def used_ids_problem(path: Path) -> tuple[str, float]:
    """('', 0) when the file of used signed ids is absent or readable; else what is wrong and
    until when (epoch seconds) signed messages must be refused: REMEMBER_S after it was last
    written, when no id it could hold can be replayed any more (inf when that is unknown)."""
    try:
        if not path.exists():
            return "", 0.0
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in data.values()):
            raise ValueError("not an object of id: epoch seconds")
        return "", 0.0
    except (OSError, ValueError) as exc:
        try:
            until = path.stat().st_mtime + REMEMBER_S
        except OSError:
            until = math.inf
        return f"{path} is unreadable ({str(exc)[:120]})", until


class Verifier:
    """Checks signatures and remembers the ids of signed messages for REMEMBER_S, on disk too
    (when given a path), so a restart does not reopen the window for a replay.

    A file of used ids that cannot be read fails closed: every signed message is refused
    (`signing_unavailable`) until no id it could have held can be replayed any more.

    The key is the key file's bytes without one trailing newline (agent.core.secrets); a signature
    made with that newline included, as the contract said before, is accepted too."""

    def __init__(self, key: bytes | None, path: Path | None = None,
                 max_ids: int = 10_000) -> None:
        self.keys = (key, key + b"\n") if key is not None else ()
        self.path = path
        self.max_ids = max_ids
        self.unreadable, self.closed_until = (used_ids_problem(path) if path is not None
                                              else ("", 0.0))
        if self.unreadable:
            log.error("used signed ids: %s; signed messages are refused until it is repaired "
                      "or a minute after it was last written", self.unreadable)
        self.seen: OrderedDict[str, float] = OrderedDict(
            [] if self.unreadable else self._load())

    def verify(self, message: dict[str, Any], now: float) -> tuple[Reason | None, str]:
        """('', '') when the signature is good and fresh, else (reason, detail)."""
        if not self.keys:
            return Reason.BAD_SIGNATURE, "no signing key is configured on this robot"
        sig = message.get("sig")
        if not isinstance(sig, str):
            return Reason.BAD_SIGNATURE, "sig must be a hex string"
        # Either JSON spelling of non-ASCII text is accepted: both are canonical, both need the key.
        good = any(
            hmac.compare_digest(sig.lower(), hmac.new(key, canonical(message, a),
                                                      hashlib.sha256).hexdigest())
            for key in self.keys for a in (True, False)
        )
        if not good:
            return Reason.BAD_SIGNATURE, "the signature does not match"
        ts = message.get("ts")
        if isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts):
            return Reason.BAD_SIGNATURE, "a signed message needs ts (epoch seconds)"
        if abs(now - ts) > WINDOW_S:
            return Reason.REPLAYED, f"ts is {now - ts:+.0f} s from now (window {WINDOW_S:g} s)"
        if self.unreadable:
            if now < self.closed_until:
                return Reason.SIGNING_UNAVAILABLE, (
                    f"{self.unreadable}: the robot cannot tell a replay, so signed messages "
                    "are refused until it is repaired (robot-agent doctor)")
            log.warning("used signed ids: %s, but it was last written over %.0f s ago: no id "
                        "it held can be replayed any more; starting a new one", self.unreadable,
                        REMEMBER_S)
            self.unreadable = ""
        msg_id = str(message.get("id"))
        self._forget_before(now - REMEMBER_S)
        if msg_id in self.seen:
            return Reason.REPLAYED, f"id {msg_id} was already used"
        self.seen[msg_id] = now
        while len(self.seen) > self.max_ids:
            self.seen.popitem(last=False)
        self._save()
        return None, ""

    def _load(self) -> list[tuple[str, float]]:
        if self.path is None or not self.path.exists():
            return []
        data = json.loads(self.path.read_text(encoding="utf-8"))  # checked: used_ids_problem
        return sorted(((str(k), float(v)) for k, v in data.items()), key=lambda kv: kv[1])

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(dict(self.seen)), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.error("could not save used signed ids to %s: %s", self.path, exc)

    def _forget_before(self, cutoff: float) -> None:
        while self.seen:
            oldest_id, when = next(iter(self.seen.items()))
            if when >= cutoff:
                return
            del self.seen[oldest_id]
