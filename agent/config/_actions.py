"""Actions: what the robot may be asked to do, with their parameters, bounds, interlocks and
risk, and the checks that hold them against the devices and sensors."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, Literal

from jsonschema import Draft202012Validator
from pydantic import Field, field_validator

from agent.config._base import NAME, Scalar, Strict
from agent.devices import OpSpec, Output, kind_of

if TYPE_CHECKING:
    from agent.config._config import Config


class ParamSpec(Strict):
    type: Literal["number", "integer", "string", "boolean"] | None = None
    enum: list[Scalar] | None = None
    minimum: float | None = None
    maximum: float | None = None
    default: Scalar | None = None
    description: str = ""

    @field_validator("minimum", "maximum")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {}
        if self.type is not None:
            schema["type"] = self.type
        if self.enum is not None:
            schema["enum"] = list(self.enum)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


def check_value(spec: ParamSpec, value: Any) -> str | None:
    """Why one value does not fit its spec, or None."""
    errors = sorted(Draft202012Validator(spec.json_schema()).iter_errors(value), key=str)
    return errors[0].message if errors else None


class InterlockConfig(Strict):
    sensor: str
    min: float | None = None
    max: float | None = None
    when: dict[str, Scalar] = Field(default_factory=dict)


class ActionConfig(Strict):
    description: str = ""
    examples: list[str] = Field(default_factory=list)
    device: str
    op: str
    risk: Literal["low", "high"] = "low"
    rate_per_min: Annotated[int, Field(ge=1, le=100_000)] | None = None
    max_duration_s: Annotated[float, Field(gt=0, le=600)] = 10.0
    stays_on: bool = False  # its output may stay on after max_duration_s (not for motion)
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    interlocks: list[InterlockConfig] = Field(default_factory=list)


def action_problems(name: str, action: ActionConfig, config: Config) -> list[str]:
    problems: list[str] = []
    if not NAME.match(name):
        problems.append(": names are lower-case letters, digits and _")
    device = config.devices.get(action.device)
    if device is None:
        return [*problems, f".device: no device named {action.device!r} in [devices]"]
    kind = kind_of(device.kind)
    op = kind.op_spec(action.op)
    if op is None:
        known = ", ".join(sorted(kind.ops))
        return [*problems, f".op: a {device.kind} device has no operation {action.op!r} ({known})"]
    for pname, spec in action.params.items():
        problems += [f".params.{pname}{p}" for p in _param_problems(spec)]
        if spec.enum is None and spec.default is not None and (problem := kind.value_problem(
                action.op, pname, spec.default)):
            problems.append(f".params.{pname}.default: {problem}")
        for value in spec.enum or []:
            problem = kind.value_problem(action.op, pname, value)
            if problem:
                problems.append(f".params.{pname}.enum: {problem}")
        if not op.any_params and pname not in op.params:
            uses = ", ".join(sorted(op.params)) or "no parameters"
            problems.append(f".params.{pname}: {device.kind}.{action.op} does not use it ({uses})")
    problems += _stays_on_problems(action, kind, op)
    for pname in op.required:
        if pname not in action.params:
            problems.append(f".params: {device.kind}.{action.op} needs a parameter {pname!r}")
    for i, lock in enumerate(action.interlocks):
        sensor = config.sensors.get(lock.sensor)
        if sensor is None:
            problems.append(f".interlocks.{i}.sensor: no sensor named {lock.sensor!r} in [sensors]")
        elif sensor.kind != "number":
            problems.append(f".interlocks.{i}.sensor: {lock.sensor} is a {sensor.kind} sensor; "
                            "min and max need a number sensor")
        if lock.min is None and lock.max is None:
            problems.append(f".interlocks.{i}: needs min, max or both")
        for key in lock.when:
            if key not in action.params:
                problems.append(f".interlocks.{i}.when.{key}: the action has no such parameter")
    return problems


def _stays_on_problems(action: ActionConfig, kind: type[Output], op: OpSpec) -> list[str]:
    """Which actions may leave an output on past max_duration_s: see docs/CONTRACT.md."""
    if not action.stays_on:
        return []
    if kind.moves:  # motion is always bounded
        return [f".stays_on: a {kind.kind} never stays on: motion always ends at max_duration_s"]
    if op.timed or op.safe:
        return [f".stays_on: {kind.kind}.{action.op} "
                f"{'ends by itself' if op.timed else 'only makes the device safe'}"]
    if action.risk == "high":
        return [".stays_on: a high-risk action always ends at its max_duration_s"]
    return []


def stays_on(config: Config) -> list[str]:
    """The actions whose output may stay on indefinitely, as check-config lists them."""
    return [f"{name} ({action.device})" for name, action in config.actions.items()
            if action.stays_on]


def _param_problems(spec: ParamSpec) -> list[str]:
    problems: list[str] = []
    if spec.type is None and spec.enum is None:
        problems.append(": give a type or an enum")
    if spec.minimum is not None and spec.maximum is not None and spec.minimum > spec.maximum:
        problems.append(".minimum: greater than maximum")
    if (spec.minimum is not None or spec.maximum is not None) and spec.type not in (
        "number",
        "integer",
    ):
        problems.append(".type: minimum and maximum need type number or integer")
    if spec.default is not None:
        problem = check_value(spec, spec.default)
        if problem:
            problems.append(f".default: {problem}")
    return problems
