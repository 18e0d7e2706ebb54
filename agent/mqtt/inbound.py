"""Inbound requests, read once: a command, an ask, a plan, a reset or an e-stop, each as a
checked value with its id and a reply target the reply side can trust, or Malformed with a
reason code (docs/CONTRACT.md).

A reply target is the request's `reply_to`, else its MQTT 5 response topic. One that names a
topic of the daemon's own (anything under `P`: its retained e-stop state, status, device states,
results, events, and the topics it acts on) or a topic it subscribes to or publishes on elsewhere
(a sensor's, an mqtt device's) is refused, `bad_reply_to`: a reply must never forge the daemon's
state or drive a device. A request refused before it could be read is answered on its response
topic only when that is a usable target, else on `P/result`.
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import dataclass
from typing import Any

from agent.core.protocol import Reason
from agent.core.spelling import did_you_mean
from agent.core.topics import Topic, Topics, topic_problem

MAX_ID_CHARS = 128
MAX_TEXT_CHARS = 1000
MAX_REPLY_TO_CHARS = 256
MAX_ESTOP_REASON_CHARS = 200


@dataclass(frozen=True)
class Inbound:
    """A message as it arrived, before anything was read from its payload."""

    topic: str
    payload: bytes
    response_topic: str | None = None
    correlation: bytes | None = None
    retained: bool = False  # a retained message the broker delivered on subscribing


@dataclass(frozen=True)
class Reply:
    topic: Topic
    correlation: bytes | None = None


class Malformed(ValueError):
    def __init__(self, reason: Reason, detail: str, request_id: str | None = None,
                 reply: Reply | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.request_id = request_id
        self.reply = reply  # where to answer, when it was read before the problem was found


class MaySign:
    message: dict[str, Any]  # the whole message, for signature checks

    @property
    def signed(self) -> bool:
        return "sig" in self.message


@dataclass(frozen=True)
class Command(MaySign):
    """`P/cmd`: one action with its parameters, maybe signed."""

    id: str
    action: Any
    params: Any
    message: dict[str, Any]
    reply: Reply | None


@dataclass(frozen=True)
class Ask:
    """`P/ask`: a sentence to interpret."""

    id: str
    text: str
    reply: Reply | None


@dataclass(frozen=True)
class PlanRequest:
    """`P/plan`: a goal for the cloud planner."""

    id: str
    goal: str
    reply: Reply | None


@dataclass(frozen=True)
class ResetRequest(MaySign):
    """`P/estop/reset`: who released the e-stop and why, maybe signed."""

    id: str
    reason: str
    reply: Reply | None
    message: dict[str, Any]
    source: str  # cli when `robot-agent reset` sent it, else mqtt


@dataclass(frozen=True)
class ScheduleCancel:
    """`P/schedule/cancel`: one pending schedule by its id, or all of them."""

    id: str  # names this request's result: the given id, else cancel:<schedule_id> or cancel:all
    schedule_id: str | None  # None: all
    reply: Reply | None


@dataclass(frozen=True)
class EStopRequest:
    """`P/estop`: anything at all; a reason and an id when they can be read."""

    source: str  # cli when `robot-agent estop` sent it, else mqtt
    reason: str
    id: str | None = None  # echoed in P/estop/state: the sender sees its own e-stop arrive


class EnvelopeReader:
    """Reads every kind of request. No answer goes to a topic of the daemon's own (topics.owns)
    or to one of foreign: the topics outside its prefix that it subscribes to or publishes on."""

    def __init__(self, *, max_bytes: int, topics: Topics, foreign: frozenset[str]) -> None:
        self.max_bytes = max_bytes
        self.topics = topics
        self.foreign = foreign

    def command(self, msg: Inbound) -> Command:
        data, rid = self._object(msg, 'a command is {"id","action","params"?}, e.g. '
                                      '{"id":"c-1","action":"stop"}')
        check_fields(data, {"id", "action", "params", "ts", "sig", "reply_to"}, rid)
        if "action" not in data:
            raise Malformed(Reason.MALFORMED, "a command needs an action", rid)
        return Command(rid, data["action"], data.get("params"), data, self._reply(msg, data, rid))

    def ask(self, msg: Inbound, fallback_id: str) -> Ask:
        """{"id","text","reply_to"?} or a bare UTF-8 string (which gets fallback_id)."""
        try:
            data = parse_json(msg.payload, self.max_bytes)
        except Malformed as exc:
            if exc.reason == Reason.TOO_LARGE or not _is_utf8(msg.payload):
                raise
            data = msg.payload.decode("utf-8")
        if isinstance(data, str):
            return Ask(fallback_id, _text(data, fallback_id),
                       self._response_target(msg, fallback_id))
        if not isinstance(data, dict):
            raise Malformed(Reason.MALFORMED, "ask takes {\"id\",\"text\"} or a plain string")
        rid = request_id(data)
        check_fields(data, {"id", "text", "reply_to"}, rid)
        return Ask(rid, _text(data.get("text"), rid), self._reply(msg, data, rid))

    def plan(self, msg: Inbound) -> PlanRequest:
        data, rid = self._object(msg, 'a plan request is {"id","goal"}, e.g. '
                                      '{"id":"p-1","goal":"patrol the hall"}')
        check_fields(data, {"id", "goal", "reply_to"}, rid)
        goal = data.get("goal")
        if not isinstance(goal, str) or not goal.strip():
            raise Malformed(Reason.MALFORMED, "goal must be a non-empty string", rid)
        return PlanRequest(rid, goal.strip(), self._reply(msg, data, rid))

    def reset(self, msg: Inbound) -> ResetRequest:
        data, rid = self._object(msg, 'a reset is {"id","reason"}, e.g. '
                                      '{"id":"r-1","reason":"area checked by Ana"}')
        reply = self._reply(msg, data, rid)
        reason = data.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise Malformed(Reason.MALFORMED, "a reset needs a reason (who, and why it is safe)",
                            rid, reply)
        return ResetRequest(rid, reason, reply, data,
                            "cli" if data.get("source") == "cli" else "mqtt")

    def schedule_cancel(self, msg: Inbound) -> ScheduleCancel:
        """{"schedule_id"} or {"all": true}, with an optional id and reply_to."""
        data = parse_json(msg.payload, self.max_bytes)
        if not isinstance(data, dict):
            raise Malformed(Reason.MALFORMED, 'a cancel is {"schedule_id"} or {"all": true}')
        rid = request_id(data) if "id" in data else None
        check_fields(data, {"id", "schedule_id", "all", "reply_to"}, rid or "")
        schedule_id, everything = data.get("schedule_id"), data.get("all")
        if everything is not None and everything is not True:
            raise Malformed(Reason.MALFORMED, "all must be true", rid)
        if (schedule_id is None) == (everything is None):
            raise Malformed(Reason.MALFORMED, "give either schedule_id or all, not both", rid)
        if schedule_id is not None and (not isinstance(schedule_id, str) or not schedule_id
                                        or len(schedule_id) > MAX_ID_CHARS):
            raise Malformed(Reason.MALFORMED, "schedule_id must be a non-empty string", rid)
        name = rid or (f"cancel:{schedule_id}" if schedule_id else "cancel:all")
        return ScheduleCancel(name, schedule_id, self._reply(msg, data, name))

    def target(self, topic: str | None, correlation: bytes | None) -> Reply | None:
        """A reply target kept for later (a schedule's), checked again as if it arrived now."""
        if topic is None or topic_problem(topic) or self.reply_problem(topic):
            return None
        return Reply(Topic(topic), correlation)

    def id_and_reply(self, msg: Inbound) -> tuple[str, Reply | None]:
        """What can be read of a request that is refused before it is read in full (busy, an
        internal error): its id ('' when unreadable) and where to answer."""
        try:
            data, rid = self._object(msg, "")
        except Malformed:
            return "", self.response_reply(msg)
        try:
            return rid, self._reply(msg, data, rid)
        except Malformed:
            return rid, self.response_reply(msg)

    def response_reply(self, msg: Inbound) -> Reply | None:
        """The MQTT 5 response topic alone, when it is a usable target: where a request that
        could not be read is answered (else on P/result)."""
        topic = msg.response_topic
        if topic is None or topic_problem(topic) or self.reply_problem(topic):
            return None
        return Reply(Topic(topic), msg.correlation)

    def reply_problem(self, topic: str) -> str | None:
        """Why a topic may not receive answers, or None."""
        if self.topics.owns(topic):
            return (f"reply_to {topic[:80]!r} is under this robot's prefix "
                    f"{self.topics.prefix!r}: answers never go onto the daemon's own topics")
        if topic in self.foreign:
            return (f"reply_to {topic[:80]!r} is a topic this robot subscribes to or publishes "
                    "on (a sensor or a device)")
        return None

    def _object(self, msg: Inbound, shape: str) -> tuple[dict[str, Any], str]:
        """The request as an object and its id; what cannot be read says what was expected."""
        try:
            data = parse_json(msg.payload, self.max_bytes)
        except Malformed as exc:
            if exc.reason != Reason.MALFORMED or not shape:
                raise
            raise Malformed(Reason.MALFORMED, f"{exc.detail}; expected {shape}") from exc
        if not isinstance(data, dict):
            raise Malformed(Reason.MALFORMED, shape)
        return data, request_id(data)

    def _reply(self, msg: Inbound, data: dict[str, Any], rid: str) -> Reply | None:
        requested = data.get("reply_to")
        if requested is None:
            return self._response_target(msg, rid)
        if (not isinstance(requested, str) or len(requested) > MAX_REPLY_TO_CHARS
                or topic_problem(requested)):
            raise Malformed(Reason.MALFORMED, "reply_to must be a topic without wildcards", rid)
        return self._target(requested, msg, rid)

    def _response_target(self, msg: Inbound, rid: str) -> Reply | None:
        """The MQTT 5 response topic of a request that was read: refused like a reply_to."""
        if msg.response_topic is None or topic_problem(msg.response_topic):
            return None
        return self._target(msg.response_topic, msg, rid)

    def _target(self, topic: str, msg: Inbound, rid: str) -> Reply:
        problem = self.reply_problem(topic)
        if problem:
            raise Malformed(Reason.BAD_REPLY_TO, problem, rid)
        return Reply(Topic(topic), msg.correlation)


def read_estop(payload: bytes) -> EStopRequest:
    """Any payload engages the e-stop: its reason is the one given as JSON, or the text."""
    text = payload[:MAX_ESTOP_REASON_CHARS].decode("utf-8", errors="replace").strip()
    try:
        data = parse_json(payload, 4096)
    except Malformed:
        data = None
    rid = None
    if isinstance(data, dict) and "id" in data:
        with contextlib.suppress(Malformed):  # a bad id still engages, unechoed
            rid = request_id(data)
    if isinstance(data, dict) and isinstance(data.get("reason"), str):
        source = "cli" if data.get("source") == "cli" else "mqtt"
        return EStopRequest(source, str(data["reason"])[:MAX_ESTOP_REASON_CHARS], rid)
    return EStopRequest("mqtt", text or "(empty message)", rid)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large a number")
    return value


def parse_json(payload: bytes, max_bytes: int) -> Any:
    if len(payload) > max_bytes:
        raise Malformed(Reason.TOO_LARGE, f"payload is {len(payload)} bytes, over {max_bytes}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Malformed(Reason.MALFORMED, "payload is not UTF-8") from exc
    try:
        return json.loads(text, parse_constant=_no_constants, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        raise Malformed(Reason.MALFORMED, f"not valid JSON: {str(exc)[:120]}") from exc


def request_id(data: Any) -> str:
    """The id of a request, or Malformed."""
    rid = data.get("id") if isinstance(data, dict) else None
    if isinstance(rid, bool) or not isinstance(rid, str | int) or rid == "":
        raise Malformed(Reason.MALFORMED, "a request needs an id (a non-empty string)")
    rid = str(rid)
    if len(rid) > MAX_ID_CHARS:
        raise Malformed(Reason.MALFORMED, f"id is longer than {MAX_ID_CHARS} characters")
    return rid


def check_fields(data: dict[str, Any], allowed: set[str], rid: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        said = ", ".join(f"{name[:40]}{did_you_mean(name, allowed)}" for name in extra[:5])
        raise Malformed(Reason.MALFORMED, f"unknown fields: {said}; a message of this kind "
                        f"takes {', '.join(sorted(allowed))}", rid)


def _is_utf8(payload: bytes) -> bool:
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _text(value: Any, rid: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Malformed(Reason.MALFORMED, "text must be a non-empty string", rid)
    if len(value) > MAX_TEXT_CHARS:
        raise Malformed(Reason.TOO_LARGE, f"text is over {MAX_TEXT_CHARS} characters", rid)
    return value.strip()
