"""Checking an action's parameters against its schema (CONTRACT section 1: a JSON-Schema subset)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from agent.config import ActionConfig, DeviceConfig, ParamSpec
from agent.core.protocol import Reason
from agent.core.spelling import did_you_mean
from agent.devices import kind_of

BOUND_KEYWORDS = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}


@dataclass(frozen=True)
class ParamVerdict:
    params: dict[str, Any] | None  # with defaults filled in; None when refused
    reason: Reason | None = None  # invalid_params | out_of_bounds
    detail: str = ""


class ParamChecker:
    """Validates the params of one action; built once per action from the config."""

    def __init__(self, name: str, action: ActionConfig, device: DeviceConfig) -> None:
        self.action_name = name
        self.action = action
        self.device = device
        schema = {
            "type": "object",
            "properties": {name: spec.json_schema() for name, spec in action.params.items()},
            "required": [n for n, s in action.params.items() if s.default is None],
            "additionalProperties": False,
        }
        self.validator = Draft202012Validator(schema)
        self.kind = kind_of(device.kind)

    def check(self, params: Any) -> ParamVerdict:
        if params is None:
            params = {}
        if not isinstance(params, dict):
            return ParamVerdict(None, Reason.INVALID_PARAMS, "params must be a JSON object")
        filled = {n: s.default for n, s in self.action.params.items() if s.default is not None}
        filled.update(params)
        for name, value in filled.items():
            if isinstance(value, float) and not math.isfinite(value):
                return ParamVerdict(None, Reason.INVALID_PARAMS, f"{name} is not a finite number")
        errors = list(self.validator.iter_errors(filled))
        if errors:
            shape = [e for e in errors if e.validator not in BOUND_KEYWORDS]
            # A mistyped name first: it explains the parameter it leaves missing.
            worst = sorted(shape or errors, key=lambda e: (
                e.validator != "additionalProperties", e.validator != "required",
                list(e.path)))[0]
            reason = Reason.INVALID_PARAMS if shape else Reason.OUT_OF_BOUNDS
            return ParamVerdict(None, reason, self._said(worst, filled))
        for name, value in filled.items():
            problem = self.kind.value_problem(self.action.op, name, value)
            if problem:
                return ParamVerdict(None, Reason.INVALID_PARAMS, problem)
        return ParamVerdict(filled)

    def _said(self, error: ValidationError, given: dict[str, Any]) -> str:
        """What is wrong, in the sender's terms, with the likely fix: never the validator's
        own wording."""
        name, params = self.action_name, self.action.params
        takes = ", ".join(params) or "no parameters"
        if error.validator == "additionalProperties":
            unknown = sorted(set(given) - set(params))
            return "; ".join(f"{name} has no parameter {p!r}{did_you_mean(p, params)}"
                             for p in unknown) + f"; it takes {takes}"
        rule: Any = error.validator_value  # the schema's: the missing names, the enum, a bound
        if error.validator == "required":
            missing = [p for p in rule if p not in given]
            return "; ".join(f"{name} needs {p} ({_expects(params[p])})" for p in missing)
        param = str(error.path[-1]) if error.path else "params"
        value, spec = error.instance, params.get(param)
        shown = json.dumps(value, ensure_ascii=False)[:60]
        if error.validator == "enum":
            return f"{param} {shown} is not one of {_listed(rule)}{did_you_mean(value, rule)}"
        if error.validator == "type":
            return f"{param} must be {_expects(spec) if spec else rule}, not {shown}"
        if error.validator in ("maximum", "exclusiveMaximum"):
            return f"{param} {shown} is above its maximum of {rule:g}"
        if error.validator in ("minimum", "exclusiveMinimum"):
            return f"{param} {shown} is below its minimum of {rule:g}"
        return f"{param}: {error.message}"  # a keyword the config's schema subset does not use


def _listed(values: Any) -> str:
    return ", ".join(str(v) for v in values)


def _expects(spec: ParamSpec) -> str:
    """What a parameter takes, in words: 'one of left, right', 'a number from 1 to 360'."""
    if spec.enum is not None:
        return f"one of {_listed(spec.enum)}"
    what = {"number": "a number", "integer": "a whole number", "string": "a text",
            "boolean": "true or false"}.get(spec.type or "", "a value")
    if spec.minimum is not None and spec.maximum is not None:
        return f"{what} from {spec.minimum:g} to {spec.maximum:g}"
    if spec.minimum is not None:
        return f"{what} of at least {spec.minimum:g}"
    if spec.maximum is not None:
        return f"{what} of at most {spec.maximum:g}"
    return what
