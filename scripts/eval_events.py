"""Score the event reader on labelled event texts: which reactions each fires at the config's
model.execute_threshold, against which it should (none, for most).

    .venv/bin/python scripts/eval_events.py [--config scripts/eval-data/events.toml]
        [--data scripts/eval-data/events.jsonl]

Prints how many events fired exactly what they should, wrong firings (a reaction fired that
should not have: the figure that matters), missed ones, then each miss.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.config import load_config  # noqa: E402
from agent.interpret import EventReader  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "scripts/eval-data/events.toml")
    parser.add_argument("--data", type=Path, default=ROOT / "scripts/eval-data/events.jsonl")
    args = parser.parse_args()
    config = load_config(args.config)
    threshold = config.model.execute_threshold
    reader = EventReader({name: (r.when.event, r.when.means)
                          for name, r in config.reactions.items() if r.when.event})
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    right = wrong = missed = 0
    misses = []
    started = time.perf_counter()
    for row in rows:
        matches = reader.read(row["sensor"], row["text"])
        fired = sorted(m.reaction for m in matches if m.confidence >= threshold)
        expected = sorted(row["fires"])
        if fired == expected:
            right += 1
            continue
        wrong += len(set(fired) - set(expected))
        missed += len(set(expected) - set(fired))
        best = matches[0] if matches else None
        misses.append(f"  {row['text']!r}: fired {fired}, expected {expected}" + (
            f" (best {best.reaction} {best.confidence:.2f}: {best.why})" if best else ""))
    per_event_ms = (time.perf_counter() - started) * 1000 / len(rows)
    print(f"{len(rows)} events, threshold {threshold:.2f}: {right} fired exactly what they "
          f"should ({right / len(rows):.3f}); wrong firings {wrong}; missed firings {missed}; "
          f"{per_event_ms:.3f} ms an event")
    print("\n".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
