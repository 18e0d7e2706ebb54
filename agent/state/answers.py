"""Answers to state questions ("are the lights on?", "how far is the wall?"), in a short
sentence and the facts it rests on, from the picture of the robot now (agent.state.picture) and
nothing else: no model, no guess. A sensor's answer says how old its reading is, and a stale
one says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agent.config import Config
from agent.devices import KINDS, Output

State = Mapping[str, Any]  # agent.state.picture.Picture.now()


def answer(config: Config, state: State, *, devices: Sequence[str] = (),
           sensors: Sequence[str] = (), estop: bool = False,
           running: bool = False) -> tuple[str, dict[str, Any]]:
    """(a short answer, the facts it rests on) about these devices and sensors."""
    said: list[str] = []
    facts: dict[str, Any] = {}
    if state["estop"] or estop:
        said.append("The e-stop is engaged: nothing moves until it is reset." if state["estop"]
                    else "The e-stop is not engaged.")
        facts["estop"] = state["estop"]
    runs = list(state["running"])
    for name in devices:
        device = dict(state["devices"].get(name, {}))
        mine = [r for r in runs if r["device"] == name]
        said.append(_device(name, device, mine))
        facts.setdefault("devices", {})[name] = {**device, "running": mine}
    for name in sensors:
        reading = dict(state["sensors"].get(name, {}))
        said.append(_sensor(name, reading, config.sensors[name].kind))
        facts.setdefault("sensors", {})[name] = reading
    if running:
        said.append("Running now: " + ", ".join(
            f"{r['action']} ({time_left(r)})" for r in runs) + "."
            if runs else "Nothing is running now.")
        facts["running"] = runs
    return " ".join(said), facts


def time_left(run: Mapping[str, Any]) -> str:
    """How long a running action (agent.safety.executor's running_now) has left: "2.5 s left", or
    "stays on" for one allowed to stay on until switched off (it has no end)."""
    left = run["ends_in_s"]
    return "stays on" if left is None else f"{left:.1f} s left"


def _is(name: str) -> str:
    """"The lights are", "the socket is"."""
    return "are" if name.endswith("s") and not name.endswith("ss") else "is"


def _device(name: str, state: dict[str, Any], running: list[dict[str, Any]]) -> str:
    shown = name.replace("_", " ")
    be = _is(shown)
    if running and running[0]["ends_in_s"] is not None:  # one that stays on is just on
        return f"The {shown} {be} running {running[0]['action']} ({time_left(running[0])})."
    last = state.get("op")
    then = f" (last operation: {last})" if last and last != "safe" else ""
    return KINDS.get(str(state.get("kind")), Output).said(shown, be, state, then)


def _sensor(name: str, reading: dict[str, Any], kind: str) -> str:
    shown = name.replace("_", " ")
    be = _is(shown)
    if kind == "camera":
        return _camera(shown, reading)
    value = reading.get("value")
    if value is None:
        return f"There is no usable reading from {shown} yet."
    unit = f" {reading['unit']}" if reading.get("unit") else ""
    text = (f"'{value}'" if kind == "event" else
            ("yes" if value else "no") if isinstance(value, bool) else f"{value:g}{unit}")
    age = f"{reading['age_s']:.1f} s ago"
    if not reading.get("fresh"):
        return f"There is no fresh reading from {shown}: the last was {text}, {age}."
    return f"The {shown} {be} {text} (read {age})."


def _camera(shown: str, reading: dict[str, Any]) -> str:
    """What the state says of a camera: its frame, not what it shows (only a vision model in the
    cloud can say that, docs/cloud.md)."""
    if reading.get("width") is None:
        return f"There is no usable frame from {shown} yet."
    frame = (f"a {reading['width']}x{reading['height']} frame, {reading['age_s']:.1f} s old"
             + ("" if reading.get("fresh") else ", not fresh"))
    return (f"The {shown} has {frame}; I cannot look at it myself (a vision model in the cloud "
            "can: [cloud] send_images).")
