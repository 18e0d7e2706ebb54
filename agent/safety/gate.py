"""The one safety gate every action passes, whatever proposed it.

Deterministic, built from the config alone, and it never raises on bad input: every refusal is a
Verdict with a stable reason code and a sentence a technician can read. Every rule is here and
only here, the high-risk one included: a high-risk action runs only from a signed structured
command.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.config import ActionConfig, Config
from agent.core.clock import Clock, SystemClock
from agent.core.decisions import Decision
from agent.core.protocol import DecisionKind, InputKind, Reason, Status
from agent.core.spelling import did_you_mean
from agent.devices import kind_of
from agent.safety.params import ParamChecker
from agent.safety.seen_ids import SeenIds
from agent.sensing.sensors import Sensors

RATE_WINDOW_S = 60.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: Reason | None = None
    detail: str = ""
    action: str | None = None  # the action's name, once it is known to exist
    params: dict[str, Any] = field(default_factory=dict)  # with defaults filled in
    duration_s: float | None = None  # how long a timed action will run
    safe: bool = False  # the operation only makes its device safer (stop, off, detach)

    def refused(self, reason: Reason, detail: str) -> Verdict:
        """This verdict, turned into a refusal for a reason found after the static checks."""
        return Verdict(False, reason, detail, self.action, self.params, self.duration_s,
                       self.safe)


def said_refused(proposal: Decision, verdict: Verdict) -> Decision:
    """How a refusal of the gate is said to whoever proposed the action. Text that asks for a
    high-risk action gets `confirm_required`, with the command to send signed instead."""
    if verdict.reason != Reason.RISK_HIGH or proposal.input_kind != InputKind.ASK:
        return proposal.as_refused(verdict.reason, verdict.detail)
    return proposal.but(
        status=Status.CONFIRM_REQUIRED, decision=DecisionKind.CONFIRM, reason=Reason.RISK_HIGH,
        detail=(f"{verdict.action} is high-risk and never runs from text: send it as a signed "
                "command on cmd (docs/CONTRACT.md, signed messages)"),
        extra={**proposal.extra, "command": {"action": verdict.action,
                                             "params": verdict.params}})


def known_actions(config: Config, most: int = 20) -> str:
    """The config's action names, for a refusal to list (bounded: a result stays small)."""
    names = sorted(config.actions)
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return (", ".join(names[:most]) or "no actions") + more


class Gate:
    def __init__(self, config: Config, *, sensors: Sensors, clock: Clock,
                 estop_engaged: Callable[[], bool], link_lost: Callable[[], str] = lambda: "",
                 seen_ids: Path | None = None) -> None:
        self.config = config
        self.sensors = sensors
        self.clock = clock
        self.estop_engaged = estop_engaged
        self.link_lost = link_lost  # why motion is refused now (agent.safety.link), or ''
        self.checkers = {
            name: ParamChecker(name, action, config.devices[action.device])
            for name, action in config.actions.items()
        }
        self.lock = threading.Lock()
        self.global_window: deque[float] = deque()
        self.action_windows: dict[str, deque[float]] = {n: deque() for n in config.actions}
        self.seen_ids = SeenIds(seen_ids)  # on disk when given a path: across restarts

    def claim_id(self, request_id: str) -> bool:
        """True the first time an id is seen; a repeat is a duplicate and never runs twice."""
        with self.lock:
            return self.seen_ids.claim(request_id)

    @classmethod
    def static(cls, config: Config) -> Gate:
        """A gate for check_static alone: no sensors, no e-stop (robot-agent interpret, tests)."""
        clock = SystemClock()
        return cls(config, sensors=Sensors(config.sensors, clock), clock=clock,
                   estop_engaged=lambda: False)

    def check_static(self, action: Any, params: Any, *, signed: bool = False,
                     may_sign: bool = False) -> Verdict:
        """Allowlist, parameter schema and bounds, duration, risk: what holds whatever the state.
        may_sign: the proposal could have carried a signature (a structured command): a
        high-risk action unsigned is `signature_required` then, and `risk_high` from anything
        else (text, a plan, a schedule)."""
        if not isinstance(action, str) or action not in self.config.actions:
            shown = action if isinstance(action, str) else type(action).__name__
            return Verdict(False, Reason.UNKNOWN_ACTION, f"no action named {str(shown)[:80]!r}"
                           f"{did_you_mean(action, self.config.actions)}; this robot has: "
                           f"{known_actions(self.config)}")
        cfg = self.config.actions[action]
        checked = self.checkers[action].check(params)
        if checked.params is None:
            return Verdict(False, checked.reason, checked.detail, action)
        device = self.config.devices[cfg.device]
        kind = kind_of(device.kind)
        duration = kind.duration_s(device, cfg.op, checked.params)
        if duration is not None and duration > cfg.max_duration_s:
            return Verdict(False, Reason.OUT_OF_BOUNDS,
                           f"{action} would run {duration:.1f} s, over its limit of "
                           f"{cfg.max_duration_s:g} s", action, checked.params)
        if cfg.risk == "high" and not signed:
            if may_sign:
                return Verdict(False, Reason.SIGNATURE_REQUIRED,
                               f"{action} is high-risk: send it as a signed command on cmd",
                               action, checked.params)
            return Verdict(False, Reason.RISK_HIGH, f"{action} is high-risk: it runs only from a "
                           "signed command on cmd, never from text, a plan or a schedule",
                           action, checked.params)
        return Verdict(True, None, "", action, checked.params, duration,
                       kind.is_safe_op(cfg.op))

    def admit(self, action: Any, params: Any, *, signed: bool = False,
              may_sign: bool = False) -> Verdict:
        """The full gate: static checks, then e-stop, link loss, interlocks and rate limits, in
        that order.

        An admitted action is counted against the rate limits; a refused one is not.
        """
        verdict = self.check_static(action, params, signed=signed, may_sign=may_sign)
        if not verdict.allowed:
            return verdict
        name = verdict.action or ""
        if self.estop_engaged() and not verdict.safe:
            return verdict.refused(Reason.ESTOP_ENGAGED,
                                   "the e-stop is engaged: reset it on estop/reset first")
        lost = self.link_lost()
        if lost and not verdict.safe and self._stops_on_link_loss(name):
            return verdict.refused(Reason.LINK_LOST, f"{lost}: nothing that moves may start "
                                                     "until it is back")
        problem = self.interlock_problem(self.config.actions[name], verdict.params)
        if problem:
            return verdict.refused(*problem)
        if verdict.safe:
            return verdict
        return self._take_rate(verdict)

    def _stops_on_link_loss(self, action: str) -> bool:
        device = self.config.devices[self.config.actions[action].device]
        return kind_of(device.kind).stops_on_link_loss(device)

    def interlock_problem(self, action: ActionConfig, params: dict[str, Any]
                          ) -> tuple[Reason, str] | None:
        """(reason, detail) if an interlock of this action forbids it now."""
        for lock in action.interlocks:
            if any(params.get(k) != v for k, v in lock.when.items()):
                continue
            value, why = self.sensors.fresh_number(lock.sensor)
            if value is None:
                return Reason.STALE_SENSOR, why
            if lock.min is not None and value < lock.min:
                return (Reason.INTERLOCK,
                        f"{lock.sensor} is {value:g}, below the minimum {lock.min:g}")
            if lock.max is not None and value > lock.max:
                return (Reason.INTERLOCK,
                        f"{lock.sensor} is {value:g}, above the maximum {lock.max:g}")
        return None

    def _take_rate(self, verdict: Verdict) -> Verdict:
        name = verdict.action or ""
        limit = self.config.actions[name].rate_per_min
        now = self.clock.monotonic()
        with self.lock:
            windows = [(self.global_window, self.config.safety.max_actions_per_min, "all actions")]
            if limit is not None:
                windows.append((self.action_windows[name], limit, name))
            for window, cap, label in windows:
                while window and window[0] <= now - RATE_WINDOW_S:
                    window.popleft()
                if len(window) >= cap:
                    return verdict.refused(Reason.RATE_LIMITED,
                                           f"{label}: {cap} per minute already used")
            for window, _, _ in windows:
                window.append(now)
        return verdict
