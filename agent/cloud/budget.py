"""The cloud's cost today (local midnight to midnight) and `[cloud] budget_per_day`.

Before a call is sent, its worst case (agent.cloud.cost) is held against the budget: a call that
could pass it is refused `budget_exceeded` and never sent. After the call, the hold becomes what
it cost. The day's total is kept in `cloud-cost.json` in the state directory, replaced
atomically after every call, so a restart neither forgets what was spent nor spends it twice;
a file from an earlier day starts the day at 0.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any

from agent.cloud.cost import Usage
from agent.core.clock import Clock
from agent.core.files import replace_atomically

log = logging.getLogger(__name__)

FILE_NAME = "cloud-cost.json"
VERSION = 1


class BudgetExceeded(Exception):
    pass


class Budget:
    def __init__(self, per_day: float | None, state_dir: Path, clock: Clock) -> None:
        self.per_day = per_day  # None: no limit
        self.path = state_dir / FILE_NAME
        self.clock = clock
        self.lock = threading.Lock()
        self.day = self._today()
        self.spent = 0.0  # today, settled calls
        self.calls = 0
        self.held = 0.0  # worst cases of the calls under way
        self._load()

    def today(self) -> float:
        """What the cloud cost today, calls under way not counted."""
        with self.lock:
            self._roll()
            return self.spent

    def hold(self, worst: Usage) -> float:
        """Hold a call's worst case against the budget before it is sent; BudgetExceeded (with
        what to say) when it could pass it."""
        with self.lock:
            self._roll()
            if self.per_day == 0:
                raise BudgetExceeded("[cloud] budget_per_day = 0: no cloud calls")
            if self.per_day is not None and self.spent + self.held + worst.cost > self.per_day:
                raise BudgetExceeded(
                    f"this call could cost up to {worst.cost:.6f} ({worst.input_tokens} input "
                    f"tokens, {worst.output_tokens} of answer, {worst.images} image"
                    f"{'' if worst.images == 1 else 's'}); {self.spent + self.held:.6f} of "
                    f"today's budget of {self.per_day:g} is spent or held ([cloud] "
                    "budget_per_day); it resets at local midnight")
            self.held += worst.cost
            return worst.cost

    def settle(self, held: float, usage: Usage | None) -> None:
        """A call is over: what it held is released, what it cost (None: it was never sent) is
        spent and saved."""
        with self.lock:
            self.held = max(0.0, self.held - held)
            if usage is None:
                return
            self._roll()
            self.spent += usage.cost
            self.calls += 1
            data = json.dumps({"version": VERSION, "day": self.day.isoformat(),
                               "cost": self.spent, "calls": self.calls}).encode()
        try:
            replace_atomically(self.path, data)
        except OSError as exc:
            log.error("could not save today's cloud cost to %s: %s (a restart would forget "
                      "%.6f of it)", self.path, exc, self.spent)

    def describe(self) -> str:
        """For the start-up log."""
        if self.per_day is None:
            return (f"no cloud budget ([cloud] budget_per_day unset): cloud calls are not "
                    f"limited; {self.today():.6f} spent today")
        return (f"cloud budget {self.per_day:g} a day ([cloud] budget_per_day); "
                f"{self.today():.6f} spent today")

    def _today(self) -> date:
        return datetime.fromtimestamp(self.clock.time()).date()  # local time

    def _roll(self) -> None:
        """A new local day starts at 0."""
        today = self._today()
        if today != self.day:
            self.day, self.spent, self.calls = today, 0.0, 0

    def _load(self) -> None:
        try:
            data: Any = json.loads(self.path.read_bytes())
            day = date.fromisoformat(data["day"])
            spent, calls = float(data["cost"]), int(data["calls"])
            if data.get("version") != VERSION or spent < 0:
                raise ValueError(f"version {data.get('version')!r} with cost {spent}")
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # Unreadable: today's spending is unknown. Counting from 0 may pass the budget by
            # what was spent before; say so loudly rather than refuse the cloud for the day.
            log.error("cannot read today's cloud cost from %s (%s): counting from 0 today",
                      self.path, str(exc)[:200])
            return
        if day == self.day:
            self.spent, self.calls = spent, calls
