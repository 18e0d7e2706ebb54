"""Prompt tokens the cloud planner's sensor summary saves: a 60 s recording of four sensors at
10 Hz (2,400 messages), sent to the planner as the raw messages, as the summary before issue 14
(each sensor's last value) and as today's summary (description, unit, last value and the
window's statistics). Counted with the bundled model's tokenizer over the whole prompt (system
prompt with the example rover's actions, the state, a goal).

    .venv/bin/python scripts/bench_summary.py [--config deploy/examples/rover.toml]

No broker, no daemon: the recording is fed to the daemon's own Sensors on a simulated clock.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.cloud.planner import messages, state_summary  # noqa: E402
from agent.config import Config, load_config  # noqa: E402
from agent.sensing.sensors import Sensors  # noqa: E402

RATE_HZ = 10
SECONDS = 60
GOAL = "drive to the door and check whether someone is there"


class SimClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def monotonic(self) -> float:
        return self.t

    def time(self) -> float:
        return self.t + 1_795_387_000.0


def recording(rng: random.Random) -> list[tuple[float, str, object]]:
    """(seconds, sensor, value): the rover drives 1.5 m toward a wall and waits there; its
    battery drains; the bumper is touched once; a camera reports at 10 Hz."""
    rows: list[tuple[float, str, object]] = []
    for i in range(SECONDS * RATE_HZ):
        t = i / RATE_HZ
        distance = 2.0 - 0.25 * min(t, 6.0) + rng.gauss(0, 0.004)
        battery = 54.0 - 0.01 * t + rng.gauss(0, 0.05)
        camera = ("person detected at the front door" if 20 <= t < 35
                  else "no person detected")
        rows += [(t, "front_distance", round(distance, 3)), (t, "battery", round(battery, 2)),
                 (t, "bumper", 30.0 <= t < 30.5), (t, "camera", camera)]
    return rows


def before_issue_14(config: Config, sensors: Sensors) -> str:
    """The planner's summary as it was: each sensor's fresh last value, bare."""
    def shown(value: object) -> str:
        if value is None:
            return "unknown"
        return f"{value:g}" if isinstance(value, float) else str(value)

    last = ", ".join(f"{name}={shown(sensors.fresh(name)[0])}" for name in config.sensors)
    return f"e-stop released. Sensors: {last}. Recent: nothing yet."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "deploy/examples/rover.toml")
    args = parser.parse_args()
    config = load_config(args.config)
    clock = SimClock()
    sensors = Sensors(config.sensors, clock)
    start = clock.t
    raw_lines = []
    for t, name, value in recording(random.Random(14)):
        clock.t = start + t
        payload = json.dumps({"value": value, "ts": round(clock.time(), 2)})
        sensors.update(name, payload.encode())
        raw_lines.append(f"{config.sensors[name].topic} {payload}")

    from llama_cpp import Llama

    from agent.interpret import resolve

    vocab = Llama(str(resolve(config)[0]), vocab_only=True, verbose=False)

    def tokens(state: str) -> int:
        text = "\n".join(m["content"] for m in messages(config, GOAL, state))
        return len(vocab.tokenize(text.encode(), add_bos=False))

    new = state_summary(config, sensors, estop=False, running=[], recent=[])
    raw = "e-stop released. Running: nothing. Recent: nothing yet.\nSensor messages, oldest " \
          "first:\n" + "\n".join(raw_lines)
    empty = tokens("")
    figures = {"raw messages of the window": tokens(raw),
               "summary before issue 14 (last values)": tokens(before_issue_14(config, sensors)),
               "summary with descriptions, units and window statistics": tokens(new)}
    print(f"{len(raw_lines)} messages from {len(config.sensors)} sensors over {SECONDS} s; "
          f"prompt without any state: {empty} tokens")
    for label, count in figures.items():
        print(f"{label}: {count} prompt tokens ({count - empty} for the state)")
    raw_count = figures["raw messages of the window"]
    new_count = figures["summary with descriptions, units and window statistics"]
    print(f"saved against the raw messages: {raw_count - new_count} tokens "
          f"({100 * (1 - new_count / raw_count):.1f} %)")
    print("today's summary:\n" + new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
