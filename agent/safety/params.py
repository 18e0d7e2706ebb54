"""Checking an action's parameters against its schema (CONTRACT section 1: a JSON-Schema subset)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from agent.config import ActionConfig, DeviceConfig
from agent.core.protocol import Reason
from agent.devices import kind_of

BOUND_KEYWORDS = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}


@dataclass(frozen=True)
class ParamVerdict:
    params: dict[str, Any] | None  # with defaults filled in; None when refused
    reason: Reason | None = None  # invalid_params | out_of_bounds
    detail: str = ""


class ParamChecker:
    """Validates the params of one action; built once per action from the config."""

    def __init__(self, action: ActionConfig, device: DeviceConfig) -> None:
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
            worst = sorted(shape or errors, key=lambda e: list(e.path))[0]
            where = ".".join(str(p) for p in worst.path)
            reason = Reason.INVALID_PARAMS if shape else Reason.OUT_OF_BOUNDS
            return ParamVerdict(None, reason, f"{where + ': ' if where else ''}{worst.message}")
        for name, value in filled.items():
            problem = self.kind.value_problem(self.action.op, name, value)
            if problem:
                return ParamVerdict(None, Reason.INVALID_PARAMS, problem)
        return ParamVerdict(filled)
