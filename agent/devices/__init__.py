"""Device kinds and their drivers on gpiozero: a class per kind that knows everything about it
(agent.devices._kind), one module per family of kinds, and the simulated pins. To add a kind:
a module here with its class (docs/architecture.md); every module here is imported, and
defining the class registers it.

May import agent.core only; the config check, the gate, the interpreter and the daemon read it.
"""

import importlib
import pkgutil
from collections.abc import Mapping
from typing import Any

from agent.devices._kind import (
    KINDS,
    Delivery,
    Ops,
    OpSpec,
    Output,
    Params,
    Publish,
    Wiring,
    doing,
    kind_of,
)
from agent.devices.lights import COLORS, colour_name, parse_color

# Defining a kind's class registers it: every module of this package is imported, so a new
# kind is one new module and nothing else.
for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def build_outputs(devices: Mapping[str, Wiring], pin_factory: Any,
                  publish: Publish) -> dict[str, Output]:
    """Create every configured device, each already in its safe state."""
    outputs: dict[str, Output] = {}
    try:
        for name, cfg in devices.items():
            outputs[name] = kind_of(cfg.kind).create(name, cfg, pin_factory, publish)
    except Exception:
        for out in outputs.values():
            out.close()
        raise
    return outputs


__all__ = [
    "COLORS", "KINDS", "Delivery", "OpSpec", "Ops", "Output", "Params", "Publish", "Wiring",
    "build_outputs", "colour_name", "doing", "kind_of", "parse_color",
]
