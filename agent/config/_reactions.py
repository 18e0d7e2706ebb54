"""Reactions: the config's rules that act on sensor readings, and their checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from agent.config._actions import check_value
from agent.config._base import NAME, Scalar, Strict
from agent.devices import kind_of

if TYPE_CHECKING:
    from agent.config._config import Config


class ReactionWhen(Strict):
    """One of: {sensor, below, clear}, {sensor, above, clear}, {sensor, equals}, {event, means}."""
    sensor: str = ""
    below: float | None = None
    above: float | None = None
    clear: float | None = None  # where a below/above reaction re-arms
    equals: bool | float | None = None
    event: str = ""  # an event sensor's name
    means: str = ""  # what the event says, in words; read by the interpreter


class ReactionDo(Strict):
    action: str = ""
    params: dict[str, Scalar] = Field(default_factory=dict)
    estop: bool = False  # engage the e-stop; nothing can reset it


class ReactionConfig(Strict):
    when: ReactionWhen
    do: ReactionDo
    while_running: list[str] = Field(default_factory=list)  # only while one of these runs
    cooldown_s: Annotated[float, Field(ge=0, le=86400)] = 0.0


def reaction_problems(name: str, reaction: ReactionConfig, config: Config) -> list[str]:
    problems = [": names are lower-case letters, digits and _"] if not NAME.match(name) else []
    problems += [f".when{p}" for p in _when_problems(reaction.when, config)]
    do = reaction.do
    if do.estop == bool(do.action):
        problems.append(".do: give either action = \"...\" or estop = true")
    elif do.estop and do.params:
        problems.append(".do.params: engaging the e-stop takes no parameters")
    elif do.action:
        action = config.actions.get(do.action)
        if action is None:
            problems.append(f".do.action: no action named {do.action!r} in [actions]")
        elif action.risk == "high":
            problems.append(f".do.action: {do.action} is high-risk: it runs only from a signed "
                            "command, never from a reaction")
        else:
            for pname, value in do.params.items():
                spec = action.params.get(pname)
                problem = ("the action has no such parameter" if spec is None
                           else check_value(spec, value))
                if problem:
                    problems.append(f".do.params.{pname}: {problem}")
    for i, running in enumerate(reaction.while_running):
        action = config.actions.get(running)
        if action is None:
            problems.append(f".while_running.{i}: no action named {running!r} in [actions]")
            continue
        device = config.devices.get(action.device)
        op = kind_of(device.kind).op_spec(action.op) if device else None
        if op is not None and not op.timed:
            problems.append(f".while_running.{i}: {running} is never running: its operation "
                            f"{action.op} is not timed")
    return problems


def _when_problems(when: ReactionWhen, config: Config) -> list[str]:
    """when is exactly one of the four forms, on a sensor of the right kind."""
    if when.event or when.means:
        if when.sensor or when.below is not None or when.above is not None or \
                when.clear is not None or when.equals is not None:
            return [": an event reaction has only event and means"]
        sensor = config.sensors.get(when.event)
        if sensor is None:
            return [f".event: no sensor named {when.event!r} in [sensors]"]
        if sensor.kind != "event":
            return [f".event: {when.event} is a {sensor.kind} sensor, not kind = \"event\""]
        return [] if when.means.strip() else [".means: say what the event means, in words"]
    sensor = config.sensors.get(when.sensor)
    if sensor is None:
        return [f".sensor: no sensor named {when.sensor!r} in [sensors]"]
    limits = [key for key in ("below", "above", "equals") if getattr(when, key) is not None]
    if len(limits) != 1:
        return [": give one of below, above or equals"]
    if when.equals is not None:
        if when.clear is not None:
            return [".clear: equals re-arms when the reading changes; clear is for below/above"]
        if sensor.kind not in ("bool", "number") or isinstance(when.equals, bool) != (
                sensor.kind == "bool"):
            return [f".equals: {when.sensor} is a {sensor.kind} sensor"]
        return []
    key = limits[0]
    if sensor.kind != "number":
        hint = {"bool": " (use equals)", "event": " (use event and means)"}.get(sensor.kind, "")
        return [f".{key}: {when.sensor} is a {sensor.kind} sensor; {key} needs a number "
                f"sensor{hint}"]
    line = when.below if when.below is not None else when.above
    assert line is not None
    if when.clear is None:
        return [f".clear: needed with {key}: the reading at which the reaction re-arms"]
    if (key == "below") != (when.clear > line):
        side = "above" if key == "below" else "below"
        return [f".clear: must be {side} {key} ({line:g}), so a reading hovering at the line "
                "fires once"]
    return []
