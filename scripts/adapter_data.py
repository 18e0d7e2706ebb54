"""Training data for the reading adapter: generated requests over generated robots, and the
project's labelled development sets. Seeded: the same seed writes the same lines.

    .venv/bin/python scripts/adapter_data.py --out build/adapter-data.jsonl [--seed 22]

One JSON object a line: {"task", "prefix", "request", "answer", "form", "source"}, where
prefix + request + answer is what the model is trained on (the loss on the answer only).
Every request is written for both tasks (agent.interpret._frame): `frame` (no config in the
prompt) and `call` (the config's actions listed). Sources and licences: models/README.md.
Never reads scripts/eval-data/heldout/ nor any set scripts/calibrate.py lists as held out.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as scripts/NAME.py

from agent.config import Config, load_config
from agent.interpret._binder import listed, signature
from agent.interpret._frame import (
    CALL_SUFFIX,
    FRAME_PREFIX,
    FRAME_SUFFIX,
    UNITS,
    Call,
    Frame,
    Listed,
    call_answer,
    call_prefix,
    frame_answer,
    request_part,
)
from agent.interpret._text import UNITS as SPOKEN_UNITS
from agent.interpret._text import quantities, tokens
from scripts.adapter.voices import Said, correction, say, wrap
from scripts.adapter.world import (
    ABSENT_THINGS,
    COLOURS,
    DEVICE_TYPES,
    OUT_OF_SCOPE,
    ActionType,
    DeviceType,
)


@dataclass(frozen=True)
class Made:
    """One action of a generated config."""

    device: DeviceType
    device_name: str
    type: ActionType
    listed: Listed


def make_config(rng: random.Random) -> list[Made]:
    types = [t for t in DEVICE_TYPES if t.key != "wheels"]
    chosen = rng.sample(types, rng.randint(2, 6))
    if rng.random() < 0.6:
        chosen.insert(0, DEVICE_TYPES[0])
    made: list[Made] = []
    used: set[str] = set()
    for device in chosen:
        name = rng.choice(device.names)
        colours = tuple(rng.sample(COLOURS, rng.randint(4, 9)))
        for action in device.actions:
            pattern = rng.choice(action.names)
            action_name = pattern.format(d=name)
            while action_name in used:
                action_name = f"{name}_{action.op}" if action_name != f"{name}_{action.op}" \
                    else f"{action_name}_2"
            used.add(action_name)
            words = name.replace("_", " ")
            description = rng.choice(action.descriptions).format(n=words)
            values = _values(action.param, colours)
            numeric = any(p.startswith("num:") for p in action.param.split(";"))
            made.append(Made(device, name, action, Listed(action_name, description, values,
                                                          numeric)))
    return made


def _values(param: str, colours: tuple[str, ...]) -> tuple[str, ...]:
    for part in param.split(";"):
        if part.startswith("enum:"):
            values = part.split(":")[2]
            return colours if not values else tuple(values.split("|"))
    return ()


def generated(rng: random.Random, count: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while len(rows) < count:
        made = make_config(rng)
        prefix = call_prefix([m.listed for m in made])
        for _ in range(rng.randint(6, 14)):
            rows += _one(rng, made, prefix)
    return rows[:count]


def _one(rng: random.Random, made: list[Made], prefix: str) -> list[dict[str, Any]]:
    roll = rng.random()
    if roll < 0.08:  # out of scope: none for both
        said = Said(rng.choice(OUT_OF_SCOPE), None)
        frame: Frame | None = None
        call = Call("")
        source = "generated: out of scope"
    elif roll < 0.2:  # a device or operation this config lacks
        said, frame = _absent(rng, made)
        call = Call("")
        source = "generated: not in this config"
    else:
        target = rng.choice(made)
        said = say(rng, target.device, target.type, target.device_name, target.listed.values)
        frame = Frame(target.type.op, target.device.thing, said.value or "", said.place,
                      said.number, said.unit)
        call = Call(target.listed.name, said.value or "", said.number, said.unit)
        source = "generated"
        if rng.random() < 0.06:  # corrected: the reading is the request said last
            other = rng.choice(made)
            said = Said(correction(rng, said.text, say(
                rng, other.device, other.type, other.device_name, other.listed.values).text))
            text, form = said.text, "correction"
            return [_row("frame", FRAME_PREFIX, text, frame_answer(frame), form, source),
                    _row("call", prefix, text, call_answer(call), form, source)]
    text, form = wrap(rng, said.text)
    return [_row("frame", FRAME_PREFIX, text, frame_answer(frame), form, source),
            _row("call", prefix, text, call_answer(call), form, source)]


def _absent(rng: random.Random, made: list[Made]) -> tuple[Said, Frame | None]:
    have = {m.device.key for m in made}
    missing = [t for t in DEVICE_TYPES if t.key not in have and
               t.thing not in {m.device.thing for m in made}]
    if missing and rng.random() < 0.7:
        device = rng.choice(missing)
        action = rng.choice(device.actions)
        said = say(rng, device, action, rng.choice(device.names), _values(action.param, COLOURS))
        return said, Frame(action.op, device.thing, said.value or "", said.place, said.number,
                           said.unit)
    thing = rng.choice(ABSENT_THINGS)
    word = {"washing machine": "washer", "air conditioner": "aircon", "garage door": "door",
            "lawnmower": "mower"}.get(thing, thing)
    op, verb = rng.choice((("on", "turn on the {}"), ("off", "switch off the {}"),
                           ("start", "start the {}"), ("stop", "stop the {}"),
                           ("open", "open the {}")))
    return Said(verb.format(thing), None), Frame(op, word)


def _row(task: str, prefix: str, text: str, answer: str, form: str, source: str
         ) -> dict[str, Any]:
    suffix = FRAME_SUFFIX if task == "frame" else CALL_SUFFIX
    return {"task": task, "prefix": prefix, "request": request_part(text, suffix),
            "answer": answer, "form": form, "source": source}


# ---- the project's development sets -----------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "scripts/eval-data"
SHARED = ROOT.parent / "shared/eval"
ROVER = ROOT / "deploy/examples/rover.toml"
# What the shipped adapter was trained on, pinned: scripts/calibrate.py's development list grew
# after it was trained (sets A and F, dev-d, dev-e), and those sets are what measures it now.
TRAINED_ON = [
    (EVAL / "home-rover.toml", SHARED / "slurp-devel-home.jsonl"),
    (EVAL / "home-rover.toml", EVAL / "slurp-test-home-dev.jsonl"),
    (ROVER, EVAL / "rover-motion.jsonl"),
    (ROVER, EVAL / "injections.jsonl"),
    (EVAL / "workshop.toml", EVAL / "forms-dev.jsonl"),
    (EVAL / "tank.toml", EVAL / "tank-dev.jsonl"),
    (EVAL / "home-rover.toml", EVAL / "calib-home.jsonl"),
    (EVAL / "tank.toml", EVAL / "calib-tank.jsonl"),
    (EVAL / "greenhouse.toml", EVAL / "calib-greenhouse.jsonl"),
    (EVAL / "living-room.toml", EVAL / "calib-living-room.jsonl"),
    (EVAL / "studio.toml", EVAL / "calib-studio.jsonl"),
    (ROVER, EVAL / "calib-rover.jsonl"),
]


def in_half(text: str, half: str) -> bool:
    """A fixed split of a development set: 'a', 'b', or 'all'."""
    if half == "all":
        return True
    return (hashlib.sha256(text.encode()).digest()[0] % 2 == 0) == (half == "a")


def development(half: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for config_path, data in TRAINED_ON:
        if not data.exists():
            continue
        config = load_config(config_path)
        prefix = call_prefix(listed(config))
        for line in data.read_text().splitlines():
            row = json.loads(line)
            if not in_half(row["text"], half):
                continue
            labelled = labelled_reading(config, row)
            if labelled is None:
                continue
            frame, call = labelled
            source = f"{data.name}: {row.get('source', '')}"
            rows += [_row("frame", FRAME_PREFIX, row["text"], frame_answer(frame),
                          row.get("form", "plain"), source),
                     _row("call", prefix, row["text"], call_answer(call),
                          row.get("form", "plain"), source)]
    return rows


def labelled_reading(config: Config, row: dict[str, Any]
                     ) -> tuple[Frame | None, Call] | None:
    """The frame and call a labelled line teaches, or None when its label says nothing of what
    the words read as (a negation, a question, a plan, a device the robot lacks)."""
    decision = row.get("decision", "execute" if row["expect"] not in ("none", "refuse")
                       else "none")
    if decision == "none":
        scope = row.get("form", "out_of_scope") == "out_of_scope"
        return (None, Call("")) if scope and row["expect"] != "refuse" else None
    if decision not in ("execute", "schedule") or row["expect"] not in config.actions:
        return None
    action = config.actions[row["expect"]]
    params = row.get("params", {})
    value = next((str(params[n]) for n, s in action.params.items()
                  if s.enum is not None and n in params), "")
    numeric = [n for n, s in action.params.items() if s.enum is None and n in params]
    number, unit = _spoken_amount(row["text"], float(params[numeric[0]])) if numeric \
        else (None, "")
    if numeric and number is None:
        return None  # a number the line says in a way not read back here: not taught
    op, thing = signature(config, row["expect"])
    return Frame(op, thing, value, "", number, unit), Call(row["expect"], value, number, unit)


def _spoken_amount(text: str, wanted: float) -> tuple[float | None, str]:
    """The number and unit as the text says them, when it says the labelled amount."""
    words = tokens(text)
    for q in quantities(words):
        unit_word = words[q.end - 1] if q.end - 1 > q.start else ""
        if unit_word in SPOKEN_UNITS:
            dimension, factor = SPOKEN_UNITS[unit_word]
            short = next((u for u in UNITS if SPOKEN_UNITS.get(u) == (dimension, factor)), "")
            if short:
                return round(q.value / factor, 3), short
        if q.dimension == "count":
            return q.value, "times"
        if q.dimension is None:
            return q.value, ""
    return None, ""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--generated", type=int, default=6000, help="generated requests")
    parser.add_argument("--dev-half", default="all", choices=("a", "b", "all"),
                        help="which half of each development set to train on")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    rows = generated(rng, args.generated * 2) + development(args.dev_half)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    print(f"{len(rows)} lines ({sum(r['task'] == 'frame' for r in rows)} per task) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
