"""Turning inbound payloads into checked envelopes, or into a refusal with a reason code."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

MAX_ID_CHARS = 128
MAX_TEXT_CHARS = 1000


class Malformed(ValueError):
    def __init__(self, reason: str, detail: str, request_id: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.request_id = request_id


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large a number")
    return value


def parse_json(payload: bytes, max_bytes: int) -> Any:
    if len(payload) > max_bytes:
        raise Malformed("too_large", f"payload is {len(payload)} bytes, over {max_bytes}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed("malformed", "payload is not UTF-8") from exc
    try:
        return json.loads(text, parse_constant=_no_constants, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        raise Malformed("malformed", f"not valid JSON: {str(exc)[:120]}") from exc


def request_id(data: Any) -> str:
    """The id of a request, or Malformed."""
    rid = data.get("id") if isinstance(data, dict) else None
    if isinstance(rid, bool) or not isinstance(rid, str | int) or rid == "":
        raise Malformed("malformed", "a request needs an id (a non-empty string)")
    rid = str(rid)
    if len(rid) > MAX_ID_CHARS:
        raise Malformed("malformed", f"id is longer than {MAX_ID_CHARS} characters")
    return rid


def check_fields(data: dict[str, Any], allowed: set[str], rid: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise Malformed("malformed", f"unknown fields: {', '.join(extra)[:200]}", rid)


@dataclass(frozen=True)
class Command:
    id: str
    action: Any
    params: Any
    message: dict[str, Any]  # the whole message, for signature checks
    reply_to: str | None

    @property
    def signed(self) -> bool:
        return "sig" in self.message


def parse_command(payload: bytes, max_bytes: int) -> Command:
    data = parse_json(payload, max_bytes)
    if not isinstance(data, dict):
        raise Malformed("malformed", "a command is a JSON object")
    rid = request_id(data)
    check_fields(data, {"id", "action", "params", "ts", "sig", "reply_to"}, rid)
    if "action" not in data:
        raise Malformed("malformed", "a command needs an action", rid)
    return Command(rid, data["action"], data.get("params"), data, _reply_to(data, rid))


@dataclass(frozen=True)
class Ask:
    id: str
    text: str
    reply_to: str | None


def parse_ask(payload: bytes, max_bytes: int, fallback_id: str) -> Ask:
    """{"id","text","reply_to"?} or a bare UTF-8 string (which gets fallback_id)."""
    try:
        data = parse_json(payload, max_bytes)
    except Malformed as exc:
        if exc.reason == "too_large":
            raise
        data = payload.decode("utf-8", errors="strict") if _is_utf8(payload) else None
        if data is None:
            raise
    if isinstance(data, str):
        return Ask(fallback_id, _text(data, fallback_id), None)
    if not isinstance(data, dict):
        raise Malformed("malformed", "ask takes {\"id\",\"text\"} or a plain string")
    rid = request_id(data)
    check_fields(data, {"id", "text", "reply_to"}, rid)
    return Ask(rid, _text(data.get("text"), rid), _reply_to(data, rid))


def _is_utf8(payload: bytes) -> bool:
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _text(value: Any, rid: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Malformed("malformed", "text must be a non-empty string", rid)
    if len(value) > MAX_TEXT_CHARS:
        raise Malformed("too_large", f"text is over {MAX_TEXT_CHARS} characters", rid)
    return value.strip()


def _reply_to(data: dict[str, Any], rid: str) -> str | None:
    value = data.get("reply_to")
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 256 or any(
            c in value for c in "+#\0"):
        raise Malformed("malformed", "reply_to must be a topic without wildcards", rid)
    return value
