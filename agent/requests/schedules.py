"""Scheduled actions: a request for later ("turn the lights off in ten minutes") kept until its
time, then run through the whole gate as if it were sent then.

An entry is checked when it is accepted (the gate's static checks, never a high-risk action, a
bounded count and horizon) and again, fully, when it fires: Pipeline.submit with a job made at
that moment, so the e-stop, interlocks on fresh readings and rate limits apply as they are then.
Its results come under the original request's id with route `schedule`.

Promises kept here:
- Pending entries survive a restart (an atomic file in the state directory). An entry whose time
  passed while the daemon was down never runs (final result `missed`); nor does one found more
  than LATE_LIMIT_S late for any other reason (a suspended machine, a clock jump).
- An e-stop cancels every pending entry (final result `estop_engaged`), on the e-stop's
  follow-up; until then each entry remembers the e-stop epoch it was accepted in and never fires
  in a later one, so a reset never starts anything scheduled before it.
- Every accepted entry gets exactly one final result per firing: what the gate and the action
  made of it, or `cancelled`, `estop_engaged` or `missed`. A `daily` entry is then due again at
  the same local time the next day. (An entry leaves the file before it fires, and the file is
  synced to disk just after: a power cut in between may add a `missed` after its result.)
- A corrupt file is set aside and reported (status, journal); nothing in it runs.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agent.config import Config
from agent.core.clock import Clock
from agent.core.decisions import Decision
from agent.core.protocol import InputKind, Reason, Route
from agent.core.workers import Worker
from agent.mqtt.inbound import EnvelopeReader, Inbound, Malformed, Reply
from agent.mqtt.publisher import Publisher
from agent.requests.pipeline import Job, Pipeline, Work
from agent.requests.schedule_file import Entry as Entry
from agent.requests.schedule_file import ScheduleFile, Stored, shown
from agent.safety.estop import EStop
from agent.safety.gate import Gate

log = logging.getLogger(__name__)

LATE_LIMIT_S = 60.0  # a due entry found later than this never runs
MAX_NAP_S = 0.5  # the timer looks at the wall clock at least this often (clock changes)
RECURRING = ("daily",)


def next_day(at: datetime) -> datetime:
    """The same local wall-clock time a day later (whatever daylight saving did meanwhile)."""
    return (at.astimezone().replace(tzinfo=None) + timedelta(days=1)).astimezone()


@dataclass
class Pending:
    """An entry, with what it needs to fire and to answer its sender."""

    entry: Entry
    input_kind: InputKind
    confidence: float | None
    reply: Reply | None
    epoch: int  # the e-stop's epoch when it was accepted: it never fires in a later one


class Schedules:
    def __init__(self, config: Config, *, pipeline: Pipeline, gate: Gate, estop: EStop,
                 publisher: Publisher, reader: EnvelopeReader, clock: Clock, state_dir: Path,
                 queue: Worker[Work], stopping: threading.Event,
                 on_status_change: Callable[[], None]) -> None:
        self.limits = config.schedules
        self.pipeline = pipeline
        self.gate = gate
        self.estop = estop
        self.publisher = publisher
        self.queue = queue  # where a cancel request waits (a file write): the commands queue
        self.reader = reader
        self.clock = clock
        self.stopping = stopping
        self.on_status_change = on_status_change
        self.file = ScheduleFile(state_dir)
        self.lock = threading.RLock()
        self.entries: dict[str, Pending] = {}
        self.wake = threading.Event()
        self.heartbeat = clock.monotonic()
        self.live = False  # the status is told of changes once the daemon runs
        self.thread = threading.Thread(target=self._serve, name="schedules", daemon=True)

    # ---- life ------------------------------------------------------------------------------

    def start(self) -> None:
        """Load what was pending; what is already due was missed; then keep time."""
        now = self.clock.time()
        with self.lock:
            for stored in self.file.load():
                reply = self.reader.target(stored.reply_topic, stored.correlation)
                self.entries[stored.entry.schedule_id] = Pending(
                    stored.entry, InputKind(stored.input_kind), stored.confidence, reply,
                    self.estop.epoch)
            if self.estop.engaged:  # it was engaged while down, or before: nothing survives it
                self.cancel_matching(action=None, reason=Reason.ESTOP_ENGAGED)
            for p in self._take_due(now):  # fell due while the daemon was down: never run late
                self._final(p, Reason.MISSED, "its time passed while the daemon was not running; "
                            "it was not run late", again=bool(p.entry.recurring))
        self.live = True
        self.thread.start()

    def stop(self) -> None:
        self.wake.set()

    def problem(self, hung_after_s: float) -> str:
        if not self.thread.is_alive():
            return "the schedule timer thread died"
        if self.clock.monotonic() - self.heartbeat > hung_after_s:
            return "the schedule timer thread is stuck"
        return ""

    def status_fields(self) -> dict[str, Any]:
        return {"schedules": {"pending": len(self.entries), "store": self.file.state}}

    def pending(self) -> list[Entry]:
        with self.lock:
            return sorted((p.entry for p in self.entries.values()), key=lambda e: e.at)

    def publish(self) -> None:
        """The retained list of every pending entry (also on every reconnect)."""
        with self.lock:  # in order: a later list never goes out before an earlier one
            self.publisher.publish_schedule([e.listed() for e in self.pending()])

    # ---- accepting -------------------------------------------------------------------------

    def add(self, *, request_id: str, input_kind: InputKind, action: str, params: dict[str, Any],
            at: datetime, text: str | None, recurring: str | None, reply: Reply | None,
            confidence: float | None, job: Job | None = None, route: Route = Route.LOCAL
            ) -> Decision:
        """Accept an action for later, or refuse it: the decision to answer with (nothing is
        published here). job, when given, is the request's: one that arrived before the last
        e-stop is refused, as a command would be."""
        at = at.astimezone()
        decision = Decision.refused(request_id, input_kind, None, "", action=action,
                                    params=params, route=route, text=text,
                                    confidence=confidence)
        with self.lock:
            refusal, checked = self._refusal(action, params, at, recurring, job)
            if refusal:
                return decision.but(reason=refusal[0], detail=refusal[1])
            entry = Entry(f"s-{uuid.uuid4().hex[:10]}", request_id, action, checked, at, text,
                          recurring)
            epoch = job.estop_epoch if job is not None else self.estop.epoch
            self.entries[entry.schedule_id] = Pending(entry, input_kind, confidence, reply,
                                                      epoch)
            problem = self._save()
            if problem:
                del self.entries[entry.schedule_id]
                return decision.but(reason=Reason.NOT_SAVED, detail=(
                    f"the schedule could not be saved ({problem}), so it was not accepted"))
            self._changed()
        self.wake.set()
        return Decision.scheduled(
            request_id, input_kind, action=action, params=checked, route=route, text=text,
            confidence=confidence,
            detail=f"{action} at {shown(at)}" + (f", {recurring}" if recurring else ""),
            extra={"action": action, "params": checked, "at": shown(at),
                   "schedule_id": entry.schedule_id, "recurring": recurring})

    def _refusal(self, action: str, params: dict[str, Any], at: datetime,
                 recurring: str | None, job: Job | None
                 ) -> tuple[tuple[Reason, str] | None, dict[str, Any]]:
        """(reason, detail) if this cannot be scheduled, and the parameters as checked."""
        if recurring is not None and recurring not in RECURRING:
            return (Reason.INVALID_PARAMS, f"recurring may be {', '.join(RECURRING)}"), params
        verdict = self.gate.check_static(action, params, may_sign=False)
        if not verdict.allowed:
            return (verdict.reason or Reason.INVALID_PARAMS, verdict.detail), params
        if self.estop.engaged or (job is not None and (
                job.engaged or job.estop_epoch != self.estop.epoch)):
            return (Reason.ESTOP_ENGAGED, "the e-stop is engaged, or was engaged after this was "
                    "sent: nothing is scheduled across an e-stop"), verdict.params
        ahead_s = at.timestamp() - self.clock.time()
        if ahead_s <= 0:
            return (Reason.OUT_OF_BOUNDS, f"{shown(at)} has already passed"), verdict.params
        if ahead_s > self.limits.max_ahead_h * 3600:
            return (Reason.OUT_OF_BOUNDS, f"{shown(at)} is more than {self.limits.max_ahead_h:g} h "
                    "ahead (schedules.max_ahead_h)"), verdict.params
        if len(self.entries) >= self.limits.max_pending:
            return (Reason.OUT_OF_BOUNDS, f"{len(self.entries)} schedules are already pending, the "
                    f"most this robot keeps (schedules.max_pending = "
                    f"{self.limits.max_pending})"), verdict.params
        return None, verdict.params

    # ---- cancelling ------------------------------------------------------------------------

    def cancel_matching(self, *, action: str | None,
                        reason: Reason = Reason.CANCELLED) -> list[Entry]:
        """Cancel every pending entry of this action (None: all); each gets its final result."""
        with self.lock:
            gone = [p for p in self.entries.values() if action is None or p.entry.action == action]
            self._cancel(gone, reason)
        return [p.entry for p in gone]

    def cancel(self, schedule_id: str, reason: Reason = Reason.CANCELLED) -> Entry | None:
        with self.lock:
            found = self.entries.get(schedule_id)
            if found is not None:
                self._cancel([found], reason)
        return found.entry if found else None

    def after_estop(self) -> None:
        """On the e-stop's follow-up: every entry accepted before it ends, `estop_engaged`."""
        with self.lock:
            self._cancel([p for p in self.entries.values() if p.epoch != self.estop.epoch],
                         Reason.ESTOP_ENGAGED)

    def _cancel(self, gone: list[Pending], reason: Reason) -> None:
        if not gone:
            return
        for p in gone:
            del self.entries[p.entry.schedule_id]
        self._save()
        self._changed()
        why = {"cancelled": "cancelled before its time",
               "estop_engaged": "cancelled by the e-stop: nothing scheduled before it runs"}
        for p in gone:
            self._final(p, reason, why.get(reason, reason))

    def receive_cancel(self, msg: Inbound) -> None:
        """P/schedule/cancel, on the MQTT thread: the work (a file write) waits its turn."""
        self.pipeline.offer(self.queue, self.pipeline.work(msg, InputKind.SCHEDULE,
                                                           self._handle_cancel))

    def _handle_cancel(self, job: Job, msg: Inbound) -> None:
        try:
            request = self.reader.schedule_cancel(msg)
        except Malformed as exc:
            self.pipeline.refuse_malformed(exc, job, msg)
            return
        base = Decision.executed(request.id, InputKind.SCHEDULE, action="schedule_cancel")
        if request.schedule_id is None:
            gone = self.cancel_matching(action=None)
        else:
            entry = self.cancel(request.schedule_id)
            if entry is None:
                self.pipeline.answer(Decision.refused(
                    request.id, InputKind.SCHEDULE, Reason.UNKNOWN_SCHEDULE,
                    f"no pending schedule {request.schedule_id[:80]!r}; see P/schedule",
                    action="schedule_cancel"), job, request.reply)
                return
            gone = [entry]
        self.pipeline.answer(base.but(
            detail=f"cancelled {len(gone)} schedule(s)",
            extra={"cancelled": [e.schedule_id for e in gone]}), job, request.reply)

    # ---- keeping time ----------------------------------------------------------------------

    def _serve(self) -> None:
        while not self.stopping.is_set():
            self.heartbeat = self.clock.monotonic()
            self.wake.wait(self.tick())
            self.wake.clear()

    def tick(self) -> float:
        """Fire what is due; how long until the next entry is due (at most MAX_NAP_S)."""
        now = self.clock.time()
        with self.lock:
            due = self._take_due(now, durable=False)  # off the list before it fires
            following = min((p.entry.at.timestamp() for p in self.entries.values()),
                            default=now + MAX_NAP_S)
        for p in due:
            self._fire(p, now)
        if due:
            self.file.sync()
        return max(0.0, min(MAX_NAP_S, following - self.clock.time()))

    def _take_due(self, now: float, durable: bool = True) -> list[Pending]:
        """Take out what is due, in order; a daily entry is due again the next day (or the
        first day whose time has not passed yet)."""
        due = sorted((p for p in self.entries.values() if p.entry.at.timestamp() <= now),
                     key=lambda p: p.entry.at)
        for p in due:
            del self.entries[p.entry.schedule_id]
            if p.entry.recurring:
                at = next_day(p.entry.at)
                while at.timestamp() <= now:
                    at = next_day(at)
                self.entries[p.entry.schedule_id] = replace(p, entry=replace(p.entry, at=at))
        if due:
            self._save(durable)
            self._changed()
        return due

    def _fire(self, p: Pending, now: float) -> None:
        job = self.pipeline.job(p.input_kind)  # as if it arrived now
        late_s = now - p.entry.at.timestamp()
        again = bool(p.entry.recurring)  # a daily entry's firing is never its last result
        if p.epoch != job.estop_epoch:
            self._final(p, Reason.ESTOP_ENGAGED, "the e-stop was engaged after it was scheduled",
                        again=again)
        elif late_s > LATE_LIMIT_S:
            self._final(p, Reason.MISSED, f"not run: found {late_s:.0f} s after its time",
                        again=again)
        else:
            e = p.entry
            self.pipeline.submit(Decision.executed(
                e.request_id, p.input_kind, action=e.action, route=Route.SCHEDULE, text=e.text,
                confidence=p.confidence, extra={"schedule_id": e.schedule_id, "at": shown(e.at)},
                continues=again), e.params, job=job, reply=p.reply)

    # ---- telling ---------------------------------------------------------------------------

    def _final(self, p: Pending, reason: Reason, detail: str, again: bool = False) -> None:
        """The end of a scheduled action, or of one firing of a daily one (again)."""
        e = p.entry
        self.publisher.publish(Decision.refused(
            e.request_id, p.input_kind, reason, detail, action=e.action, params=e.params,
            route=Route.SCHEDULE, text=e.text, confidence=p.confidence,
            extra={"schedule_id": e.schedule_id, "at": shown(e.at)}, continues=again), p.reply)

    def _save(self, durable: bool = True) -> str:
        """Save the pending entries; '' or what went wrong (logged, and in the status)."""
        return self.file.save([Stored(p.entry, p.input_kind, p.confidence,
                                      p.reply.topic if p.reply else None,
                                      p.reply.correlation if p.reply else None)
                               for p in self.entries.values()], durable)

    def _changed(self) -> None:
        self.publish()
        if self.live:  # before that, the status would say online before the daemon is
            self.on_status_change()
