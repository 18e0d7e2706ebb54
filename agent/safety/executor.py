"""Running admitted actions on the outputs, and stopping them.

One lock guards every output change and the halted flag, so an action can never start after the
e-stop has driven the outputs safe. Every operation that leaves its device out of its safe state
is watched until the device is safe again:
- a timed one (a move, a beep) ends by itself on time (`done`);
- any other (a relay on, a servo angle, an mqtt device's operation) is a hold: it ends when a
  newer operation replaces it, and at its action's max_duration_s at the latest (`deadman`),
  unless the action says stays_on (then it is watched, not bounded);
- its interlocks are checked for as long as it runs or holds, whatever the kind;
- an mqtt device with heartbeat_s gets its operation again every heartbeat_s while it holds.
A supervisor thread does all of this; a deadman timer per bounded action makes the device safe
at max_duration_s even if the supervisor itself is stuck.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.config import ActionConfig
from agent.core.clock import Clock
from agent.core.protocol import Reason, Status
from agent.devices import Output, doing

log = logging.getLogger(__name__)

TICK_S = 0.02  # how often actions with interlocks are checked for staleness of their sensors

# (status, reason, detail) when an action ends
EndCallback = Callable[[Status, Reason | None, str], None]
Watch = Callable[[ActionConfig, dict[str, Any]], tuple[Reason, str] | None]


@dataclass
class Running:
    name: str  # the action's
    action: ActionConfig
    params: dict[str, Any]
    output: Output
    ends: float  # monotonic: a timed action's end, a hold's bound; inf: it may stay on
    timed: bool  # ends by itself at `ends` (done); else a hold, cut at `ends` (deadman)
    on_end: EndCallback
    deadman: threading.Timer | None = None
    next_beat: float = math.inf  # when an mqtt device with heartbeat_s hears it again
    owner: object = None  # who started it (a job): a plan's time limit stops only its own

    def cancel_deadman(self) -> None:
        if self.deadman is not None:
            self.deadman.cancel()

    def replaced_by(self, op: str, safe: bool, by: str
                    ) -> tuple[Status, Reason | None, str]:
        """How it ended when a newer operation took its device: a hold ended by a stop-like
        operation came to its normal end; anything else was cut short. by: who asked for the
        newer one ("reaction front_wall (front 0.2 m)", "request c-18")."""
        whose = f" ({by})" if by else ""
        if safe and not self.timed:
            return Status.DONE, None, f"ended by {op} on {self.action.device}{whose}"
        return (Status.FAILED, Reason.SUPERSEDED,
                f"replaced by a newer {op} on {self.action.device}{whose}")


class Executor:
    def __init__(self, outputs: dict[str, Output], *, clock: Clock, watch: Watch,
                 on_state: Callable[[Output], None], halted: bool = False) -> None:
        self.outputs = outputs
        self.clock = clock
        self.watch = watch  # the gate's interlock check, re-run while an action runs
        self.on_state = on_state  # publishes a device's state after it changed
        self.lock = threading.RLock()
        self.halted = halted
        self.halt_reason = Reason.ESTOP_ENGAGED  # why an action cannot start while halted
        # Why nothing that moves may start (agent.safety.link: the e-stop's link is lost)
        self.motion_refused: Reason | None = None
        self.running: dict[str, Running] = {}
        self.wake = threading.Event()
        self.closed = threading.Event()
        self.heartbeat = clock.monotonic()
        self.thread = threading.Thread(target=self._supervise, name="supervisor", daemon=True)

    def start_supervisor(self) -> None:
        self.thread.start()

    def problem(self, hung_after_s: float) -> str:
        """Why the supervisor is unhealthy, or ''."""
        if not self.thread.is_alive():
            return "the action supervisor thread died"
        silent = self.clock.monotonic() - self.heartbeat
        if silent > hung_after_s:
            return f"the action supervisor is stuck ({silent:.0f} s)"
        return ""

    def start(self, name: str, action: ActionConfig, params: dict[str, Any], *,
              duration: float | None, safe: bool, on_end: EndCallback,
              owner: object = None, by: str = "") -> Reason | None:
        """Apply an action; None when it started, else the reason it could not. by: who asked,
        for the end of what it replaces."""
        output = self.outputs[action.device]
        with self.lock:
            if self.halted and not safe:
                return self.halt_reason
            if self.motion_refused and not safe and output.stops_on_link_loss(output.config):
                return self.motion_refused
            previous = self.running.pop(action.device, None)
            if previous is not None:
                previous.cancel_deadman()
            try:
                output.apply(action.op, params)
            except Exception:
                output.safe()
                raise
            finally:
                self.on_state(output)
            if not safe:
                self._watch(Running(name, action, params, output, 0.0, duration is not None,
                                    on_end, owner=owner), duration)
        if previous is not None:
            previous.on_end(*previous.replaced_by(action.op, safe, by))
        return None

    def _watch(self, run: Running, duration: float | None) -> None:
        """Track an output that is not safe now (under the lock)."""
        now = self.clock.monotonic()
        bounded = duration is not None or not run.action.stays_on
        run.ends = now + (duration if duration is not None else
                          run.action.max_duration_s if bounded else math.inf)
        if run.output.heartbeat_s:
            run.next_beat = now + run.output.heartbeat_s
        if bounded:  # a hold's normal end is the supervisor's, at its bound: this one's backs it
            backup = run.action.max_duration_s + (0.0 if run.timed else TICK_S)
            run.deadman = threading.Timer(backup, self._deadman, (run,))
            run.deadman.daemon = True
            run.deadman.start()
        self.running[run.action.device] = run
        self.wake.set()

    def halt(self, reason: Reason, detail: str) -> list[tuple[Running, Reason, str]]:
        """Latch halted, drive every output safe, cancel everything running.

        Returns the cancelled actions so the caller reports them, and publishes device states,
        after it has announced the halt: the e-stop state goes out first, and nobody is told
        outputs are safe before they are.
        """
        with self.lock:
            self.halted = True
            self.halt_reason = reason
            self._all_safe()
            cancelled = list(self.running.values())
            self.running.clear()
        for run in cancelled:
            run.cancel_deadman()
        return [(run, reason, detail) for run in cancelled]

    def stop_motion(self, reason: Reason, detail: str
                    ) -> tuple[list[tuple[Running, Reason, str]], list[Output]]:
        """Make every output that moves safe (Output.stops_on_link_loss), end what runs on
        them, and refuse anything that moves until allow_motion(); the other outputs and what
        runs on them are untouched. Returns the cancelled actions, for the caller to report,
        and the outputs that were not safe before."""
        with self.lock:
            self.motion_refused = reason
            moving = [out for out in self.outputs.values()
                      if out.stops_on_link_loss(out.config)]
            cancelled = [run for run in self.running.values() if run.output in moving]
            for run in cancelled:
                del self.running[run.action.device]
                run.cancel_deadman()
            stopped = [out for out in moving
                       if out.last_op != "safe" and not out.is_safe_op(out.last_op)]
            for out in moving:
                try:
                    out.safe()
                except Exception:  # one broken device must not keep the others from going safe
                    log.exception("could not drive %s safe", out.name)
                self.on_state(out)
        return [(run, reason, detail) for run in cancelled], stopped

    def allow_motion(self) -> None:
        """Motion may start again; changes no output, so nothing resumes."""
        with self.lock:
            self.motion_refused = None

    def release(self) -> None:
        """Allow actions again; changes no output, so nothing resumes."""
        with self.lock:
            self.halted = False

    def close(self) -> None:
        self.closed.set()
        self.wake.set()
        with self.lock:
            self._all_safe()
            for out in self.outputs.values():
                self.on_state(out)
                out.close()

    def running_now(self) -> list[dict[str, Any]]:
        """What runs now: each action, its device, parameters and time left."""
        now = self.clock.monotonic()
        with self.lock:
            return [{"action": run.name, "device": device, "params": run.params,
                     "ends_in_s": (round(max(0.0, run.ends - now), 3)
                                   if math.isfinite(run.ends) else None)}
                    for device, run in self.running.items()]

    def poke(self) -> None:
        """A sensor changed: check running actions and holds now, not at the next tick."""
        if self.running:
            self.wake.set()

    def _all_safe(self) -> None:
        for out in self.outputs.values():
            try:
                out.safe()
            except Exception:  # one broken device must not keep the others from going safe
                log.exception("could not drive %s safe", out.name)

    def _supervise(self) -> None:
        while not self.closed.is_set():
            self.heartbeat = self.clock.monotonic()
            self.wake.wait(self._next_check())
            self.wake.clear()
            try:
                self._check_running()
            except Exception:
                log.exception("supervisor check failed; stopping everything running")
                for run, reason, detail in self.halt_running(Reason.INTERNAL_ERROR, "supervisor"):
                    run.on_end(Status.FAILED, reason, detail)

    def _next_check(self) -> float:
        """Until the next end or heartbeat; a tick while an interlock is watched."""
        with self.lock:
            runs = list(self.running.values())
        if not runs:
            return 1.0
        soonest = min(min(run.ends, run.next_beat) for run in runs)
        watched = any(run.action.interlocks for run in runs)
        return max(0.0, min(soonest - self.clock.monotonic(), TICK_S if watched else 1.0))

    def _check_running(self) -> None:
        ended: list[tuple[Running, Status, Reason | None, str]] = []
        now = self.clock.monotonic()
        with self.lock:
            for device, run in list(self.running.items()):
                problem = self.watch(run.action, run.params)
                if problem is None and now < run.ends:
                    if now >= run.next_beat:
                        run.output.refresh()
                        run.next_beat = now + (run.output.heartbeat_s or math.inf)
                    continue
                del self.running[device]
                run.cancel_deadman()
                run.output.safe()
                self.on_state(run.output)
                if problem is not None:
                    ended.append((run, Status.FAILED, problem[0],
                                  f"stopped while running: {problem[1]}"))
                elif run.timed:
                    ended.append((run, Status.DONE, None,
                                  f"{doing(run.action.op, device)}: ran to its end"))
                else:
                    log.warning("%s held %s past its max_duration_s (%g s): made safe",
                                run.name, device, run.action.max_duration_s)
                    ended.append((run, Status.FAILED, Reason.DEADMAN,
                                  f"{doing(run.action.op, device)} was still on at its "
                                  f"max_duration_s ({run.action.max_duration_s:g} s): made "
                                  "safe; set stays_on = true on the action if it may stay on"))
        for run, status, code, detail in ended:
            run.on_end(status, code, detail)

    def halt_running(self, reason: Reason, detail: str, owner: object = None
                     ) -> list[tuple[Running, Reason, str]]:
        """Stop what is running without latching the e-stop: everything, or only what owner
        started. The caller reports the returned actions' ends."""
        with self.lock:
            cancelled = [run for run in self.running.values()
                         if owner is None or run.owner is owner]
            for run in cancelled:
                del self.running[run.action.device]
                run.cancel_deadman()
                run.output.safe()
                self.on_state(run.output)
        return [(run, reason, detail) for run in cancelled]

    def _deadman(self, run: Running) -> None:
        device = run.action.device
        with self.lock:
            if self.running.get(device) is not run:
                return  # it ended, was replaced or was halted, and its device went safe then
            del self.running[device]
            run.output.safe()
            self.on_state(run.output)
        log.error("deadman: %s was still running at its max_duration_s; outputs made safe", device)
        run.on_end(Status.FAILED, Reason.DEADMAN, "stopped by its deadman timer (max_duration_s)")
