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

log = logging.getLogger(__name__)

WINDOW_S = 30.0


def canonical(message: dict[str, Any], ensure_ascii: bool = True) -> bytes:
    body = {k: v for k, v in message.items() if k != "sig"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=ensure_ascii).encode("utf-8")


def sign(message: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, canonical(message), hashlib.sha256).hexdigest()


class Verifier:
    """Checks signatures and remembers the ids of signed messages for twice the window, on
    disk too (when given a path), so a restart does not reopen the window for a replay."""

    def __init__(self, key: bytes | None, path: Path | None = None,
                 max_ids: int = 10_000) -> None:
        self.key = key
        self.path = path
        self.max_ids = max_ids
        self.seen: OrderedDict[str, float] = OrderedDict(self._load())

    def verify(self, message: dict[str, Any], now: float) -> tuple[str, str]:
        """('', '') when the signature is good and fresh, else (reason, detail)."""
        if self.key is None:
            return "bad_signature", "no signing key is configured on this robot"
        sig = message.get("sig")
        if not isinstance(sig, str):
            return "bad_signature", "sig must be a hex string"
        # Either JSON spelling of non-ASCII text is accepted: both are canonical, both need the key.
        good = any(
            hmac.compare_digest(sig.lower(), hmac.new(self.key, canonical(message, a),
                                                      hashlib.sha256).hexdigest())
            for a in (True, False)
        )
        if not good:
            return "bad_signature", "the signature does not match"
        ts = message.get("ts")
        if isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts):
            return "bad_signature", "a signed message needs ts (epoch seconds)"
        if abs(now - ts) > WINDOW_S:
            return "replayed", f"ts is {now - ts:+.0f} s from now (window {WINDOW_S:g} s)"
        msg_id = str(message.get("id"))
        self._forget_before(now - 2 * WINDOW_S)
        if msg_id in self.seen:
            return "replayed", f"id {msg_id} was already used"
        self.seen[msg_id] = now
        while len(self.seen) > self.max_ids:
            self.seen.popitem(last=False)
        self._save()
        return "", ""

    def _load(self) -> list[tuple[str, float]]:
        if self.path is None or not self.path.exists():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return sorted(((str(k), float(v)) for k, v in data.items()), key=lambda kv: kv[1])
        except (OSError, ValueError, AttributeError) as exc:
            log.error("used signed ids in %s unreadable (%s): starting without them", self.path,
                      exc)
            return []

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
