"""Validate device-based MQTT discovery messages with Home Assistant's own code.

Run with the Python of the Home Assistant venv (scripts/setup-ha), not the project's: it imports
`homeassistant` and does not start it. tests/test_homeassistant_real.py calls it:

    .venv-ha/bin/python tests/ha_validate.py < [{"topic": ..., "payload": ...}, ...]
    -> [{"topic", "ok", "errors": [...], "components": {id: platform}}, ...]

It replays what homeassistant/components/mqtt/discovery.py does with a message on
<prefix>/device/<id>/config, with Home Assistant's own functions and schemas, in its order:
the topic matcher; the payload as a JSON object; the abbreviations expanded; the device schema
(`dev` with ids, `o` with a name, a unique_id on every component); then for each component
the shared options merged in and the platform's DISCOVERY_SCHEMA. A HomeAssistant object is
made (not started) so templates are checked in an event loop, as at run time.

Strict: what Home Assistant would accept silently is an error here too: keys it drops
(`extra=REMOVE_EXTRA`, so a typo disappears), device-level keys it does not hand to the
components, and warnings it logs while validating (a unit that does not fit the device class
is a warning in 2025.4 and refused from 2025.7). A broken component is otherwise dropped by
Home Assistant with one log line while the rest of the device appears: an e-stop button could
go missing unseen.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import importlib
import json
import logging
import sys
import tempfile
from typing import Any

import voluptuous as vol  # type: ignore[import-not-found]
from homeassistant.components.mqtt import discovery as ha  # type: ignore[import-not-found]
from homeassistant.components.mqtt.schemas import (  # type: ignore[import-not-found]
    DEVICE_DISCOVERY_SCHEMA,
)
from homeassistant.core import HomeAssistant  # type: ignore[import-not-found]
from homeassistant.util.json import json_loads_object  # type: ignore[import-not-found]

PREFIX = "homeassistant"


class Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"Home Assistant logged {record.levelname}: {record.getMessage()}")


def validate(topic: str, payload: str) -> dict[str, Any]:
    caught = Warnings()
    root = logging.getLogger("homeassistant")
    root.addHandler(caught)
    try:
        result = _validate(topic, payload)
    finally:
        root.removeHandler(caught)
    result["errors"] += caught.messages
    result["ok"] = not result["errors"]
    return result


def _validate(topic: str, payload: str) -> dict[str, Any]:
    result: dict[str, Any] = {"topic": topic, "errors": [], "components": {}}
    errors: list[str] = result["errors"]
    match = ha.TOPIC_MATCHER.match(topic.removeprefix(f"{PREFIX}/"))
    if not topic.startswith(f"{PREFIX}/") or not match or match.group("component") != "device":
        errors.append(f"not a device discovery topic Home Assistant reads: {topic!r}")
        return result
    try:
        device = ha.MQTTDiscoveryPayload(json_loads_object(payload))
    except ValueError as exc:
        errors.append(f"not a JSON object: {exc}")
        return result
    ha._replace_all_abbreviations(device)
    try:
        DEVICE_DISCOVERY_SCHEMA(device)
    except vol.Invalid as exc:
        errors.append(f"device: {exc}")
        return result
    not_shared = sorted(set(device) - set(ha.SHARED_OPTIONS) - {"device", "origin", "components"})
    if not_shared:
        errors.append(f"device-level {not_shared} are not handed to the components")
    for key, component in device["components"].items():
        config = copy.deepcopy(component)
        platform = config.pop("platform")
        discovered = ha.MQTTDiscoveryPayload(config)
        discovered["device"] = device["device"]
        discovered["origin"] = device.get("origin")
        ha._merge_common_device_options(discovered, device)
        given = set(discovered)
        schema = importlib.import_module(f"homeassistant.components.mqtt.{platform}")
        try:
            validated = schema.DISCOVERY_SCHEMA(discovered)
        except vol.Invalid as exc:
            errors.append(f"cmps.{key} ({platform}): {exc}")
            continue
        dropped = sorted(given - set(validated))
        if dropped:
            errors.append(f"cmps.{key} ({platform}): keys Home Assistant ignores: {dropped}")
        result["components"][key] = platform
    return result


def import_platforms(items: list[dict[str, str]]) -> None:
    """Import every platform the messages name before any is validated: what a platform logs as
    it is imported is about this machine, not about a message (the camera's "Error loading
    libturbojpeg" where that library is not installed)."""
    for item in items:
        try:
            components = json.loads(item["payload"]).get("cmps") or {}
        except (ValueError, AttributeError):
            continue
        for component in components.values():
            platform = component.get("p") if isinstance(component, dict) else None
            if isinstance(platform, str) and platform.isidentifier():
                with contextlib.suppress(ImportError):  # validation says so, for that component
                    importlib.import_module(f"homeassistant.components.mqtt.{platform}")


async def validate_all(items: list[dict[str, str]]) -> list[dict[str, Any]]:
    import_platforms(items)
    with tempfile.TemporaryDirectory(prefix="ha-validate-") as config_dir:
        hass = HomeAssistant(config_dir)  # gives templates their loop; never started
        try:
            return [validate(item["topic"], item["payload"]) for item in items]
        finally:
            await hass.async_stop(force=True)


def main() -> int:
    from homeassistant.const import __version__

    results = asyncio.run(validate_all(json.load(sys.stdin)))
    json.dump({"version": __version__, "results": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
