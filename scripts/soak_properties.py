"""Run the daemon's safety invariants (tests/properties.py) for a long time: many random
interleavings of commands, text, plans, e-stops, resets, stale sensors, broker restarts and
SIGTERM, each checked after every step. Prints what was run and the worst figures seen.

    .venv/bin/python scripts/soak_properties.py [--minutes 30] [--steps 40]

Exit 1 on the first broken invariant (hypothesis prints the shortest sequence it found).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.properties import SLACK_S, STATS, DaemonMachine


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--steps", type=int, default=40, help="steps in each interleaving")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the daemon's own lines; a broken invariant is raised
    deadline = time.monotonic() + args.minutes * 60
    batch = settings(max_examples=10, stateful_step_count=args.steps, deadline=None,
                     suppress_health_check=list(HealthCheck), database=None)
    try:
        while time.monotonic() < deadline:
            run_state_machine_as_test(DaemonMachine, settings=batch)
            report()
    except Exception:
        report()
        raise
    return 0


def report() -> None:
    minutes = (time.monotonic() - STATS.started) / 60
    steps = sum(STATS.steps.values())
    print(f"{minutes:.1f} min: {STATS.examples} interleavings, {steps} steps "
          f"({', '.join(f'{k} {v}' for k, v in sorted(STATS.steps.items()))}); final results "
          f"{dict(sorted(STATS.finals.items()))}; worst time an output stayed on past its "
          f"bound {STATS.worst_overrun_s * 1000:+.0f} ms (allowed {SLACK_S * 1000:.0f} ms)",
          flush=True)


if __name__ == "__main__":
    sys.exit(main())
