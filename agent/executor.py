"""Running admitted actions on the outputs, and stopping them.

One lock guards every output change and the halted flag, so an action can never start after the
e-stop has driven the outputs safe. A supervisor thread ends timed actions on time and stops any
whose interlock stops holding; a deadman timer per action makes the device safe at the action's
max_duration_s even if the supervisor itself is stuck.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.clock import Clock
from agent.config import ActionConfig
from agent.outputs import Output

log = logging.getLogger(__name__)

TICK_S = 0.02  # how often running actions are checked for staleness of their sensors

# (status, reason, detail) when an action ends
EndCallback = Callable[[str, str | None, str], None]
Watch = Callable[[ActionConfig, dict[str, Any]], tuple[str, str] | None]


@dataclass
class Running:
    name: str  # the action's
    action: ActionConfig
    params: dict[str, Any]
    output: Output
    ends: float  # monotonic
    on_end: EndCallback
    owner: object = None  # who started it (a job): a plan's time limit stops only its own
    deadman: threading.Timer | None = None

    def cancel_deadman(self) -> None:
        if self.deadman is not None:
            self.deadman.cancel()


class Executor:
    def __init__(self, outputs: dict[str, Output], *, clock: Clock, watch: Watch,
                 on_state: Callable[[Output], None], halted: bool = False) -> None:
        self.outputs = outputs
        self.clock = clock
        self.watch = watch  # the gate's interlock check, re-run while an action runs
        self.on_state = on_state  # publishes a device's state after it changed
        self.lock = threading.RLock()
        self.halted = halted
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
              owner: object = None) -> str | None:
        """Apply an action; None when it started, else the reason it could not."""
        output = self.outputs[action.device]
        ended: list[tuple[Running, str]] = []
        with self.lock:
            if self.halted and not safe:
                return "estop_engaged"
            previous = self.running.pop(action.device, None)
            if previous is not None:
                previous.cancel_deadman()
                ended.append((previous, action.op))
            try:
                output.apply(action.op, params)
            except Exception:
                output.safe()
                raise
            finally:
                self.on_state(output)
            if duration is not None:
                run = Running(name, action, params, output, self.clock.monotonic() + duration,
                              on_end, owner)
                run.deadman = threading.Timer(action.max_duration_s, self._deadman, (run,))
                run.deadman.daemon = True
                self.running[action.device] = run
                run.deadman.start()
                self.wake.set()
        for run, op in ended:
            run.on_end("failed", "superseded", f"replaced by a newer {op} on {action.device}")
        return None

    def halt(self, reason: str, detail: str) -> list[tuple[Running, str, str]]:
        """Latch halted, drive every output safe, cancel everything running.

        Returns the cancelled actions so the caller reports them, and publishes device states,
        after it has announced the halt: the e-stop state goes out first, and nobody is told
        outputs are safe before they are.
        """
        with self.lock:
            self.halted = True
            self._all_safe()
            cancelled = list(self.running.values())
            self.running.clear()
        for run in cancelled:
            run.cancel_deadman()
        return [(run, reason, detail) for run in cancelled]

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
                     "ends_in_s": round(max(0.0, run.ends - now), 3)}
                    for device, run in self.running.items()]

    def poke(self) -> None:
        """A sensor changed: check running actions now rather than at the next tick."""
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
            self.wake.wait(TICK_S if self.running else 1.0)
            self.wake.clear()
            try:
                self._check_running()
            except Exception:
                log.exception("supervisor check failed; stopping everything running")
                for run, reason, detail in self.halt_running("internal_error", "supervisor"):
                    run.on_end("failed", reason, detail)

    def _check_running(self) -> None:
        ended: list[tuple[Running, str, str | None, str]] = []
        now = self.clock.monotonic()
        with self.lock:
            for device, run in list(self.running.items()):
                problem = self.watch(run.action, run.params)
                if problem is None and now < run.ends:
                    continue
                del self.running[device]
                run.cancel_deadman()
                run.output.safe()
                self.on_state(run.output)
                if problem is None:
                    ended.append((run, "done", None, ""))
                else:
                    ended.append((run, "failed", problem[0],
                                  f"stopped while running: {problem[1]}"))
        for run, status, code, detail in ended:
            run.on_end(status, code, detail)

    def halt_running(self, reason: str, detail: str, owner: object = None
                     ) -> list[tuple[Running, str, str]]:
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
        run.on_end("failed", "deadman", "stopped by its deadman timer (max_duration_s)")
