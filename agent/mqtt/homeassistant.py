"""Home Assistant MQTT discovery: the robot as one device in Home Assistant, with no YAML.

One retained device-based discovery message, `<discovery_prefix>/device/<device.id>/config`,
describes every entity (docs/homeassistant.md lists them): buttons that publish ordinary
requests on the contract's topics, sensors that read the daemon's own retained topics and the
robot stack's sensor topics. Nothing here is a new way in: a button press is a command on
`P/cmd`, an e-stop on `P/estop`, and passes the same gate as any other.

`Discovery` publishes it when the daemon connects and when Home Assistant announces itself on
`<discovery_prefix>/status`, and removes it (an empty retained message) when the switch is off.
It knows a message from an earlier run exists by a marker file in the state directory, written
when it publishes: no subscription, and no race with the broker's retained delivery. `robot-agent
discovery --remove` (deploy/install.sh --uninstall) clears it too.

Pure apart from the marker file: the daemon injects `publish`.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent import __version__
from agent.config import ActionConfig, Config, SensorConfig
from agent.core.topics import Topics

log = logging.getLogger(__name__)

Publish = Callable[[str, str, bool], bool]  # topic, payload, retain -> True when queued
MARKER = "homeassistant.json"  # in the state directory: the topic last published to
ONLINE = "online"  # what Home Assistant publishes on <discovery_prefix>/status when it starts

# A unique id per press: the daemon refuses a repeated id, so a fixed one would work once only.
FRESH_ID = "ha-{{ now().timestamp() }}"
RESET_REASON = "reset from Home Assistant"
ESTOP_REASON = "e-stop from Home Assistant"
TEXT_MAX = 255  # Home Assistant's longest text entity value

# A number sensor's unit -> Home Assistant device class; only pairs Home Assistant accepts.
UNIT_CLASSES = {
    **dict.fromkeys(("m", "cm", "mm", "km", "in", "ft", "yd", "mi"), "distance"),
    **dict.fromkeys(("°C", "°F", "K"), "temperature"),
    "lx": "illuminance",
    **dict.fromkeys(("V", "mV"), "voltage"),
    **dict.fromkeys(("A", "mA"), "current"),
    **dict.fromkeys(("W", "kW", "mW"), "power"),
    **dict.fromkeys(("Pa", "hPa", "kPa", "bar", "mbar", "psi"), "pressure"),
    **dict.fromkeys(("m/s", "km/h", "mph"), "speed"),
    **dict.fromkeys(("dB", "dBA"), "sound_pressure"),
    **dict.fromkeys(("Hz", "kHz"), "frequency"),
}
PERCENT_CLASSES = (("battery", "battery"), ("humid", "humidity"))  # by the sensor's name

# The reading in a sensor message: a bare value, or JSON {"value": ...} (agent.sensing.sensors).
READING = "(value_json.value if value_json is mapping else value)"


def discovery_topic(config: Config) -> str:
    return f"{config.homeassistant.discovery_prefix}/device/{config.device.id}/config"


def status_topic(config: Config) -> str:
    """Where Home Assistant announces itself ("online") after it starts."""
    return f"{config.homeassistant.discovery_prefix}/status"


def button_actions(config: Config) -> list[str]:
    """The actions Home Assistant gets a button for: every parameter has a default (a button
    cannot ask for one), and never a high-risk action (those need a signed command)."""
    return [name for name, action in config.actions.items() if _one_press(action)]


def _one_press(action: ActionConfig) -> bool:
    return action.risk != "high" and all(p.default is not None for p in action.params.values())


def discovery_payload(config: Config) -> dict[str, Any]:
    """The device-based discovery message: `dev`, `o`, `cmps`, availability from P/status."""
    topics = Topics.under(config.prefix)
    uid = f"robot-agent-{config.device.id}"
    components: dict[str, dict[str, Any]] = {
        "estop": {"p": "button", "name": "E-stop", "command_topic": topics.estop,
                  "payload_press": json.dumps({"reason": ESTOP_REASON}),
                  "icon": "mdi:alert-octagon"},
        "estop_engaged": {
            "p": "binary_sensor", "name": "E-stop engaged", "device_class": "safety",
            "state_topic": topics.estop_state,
            "value_template": "{{ 'ON' if value_json.engaged else 'OFF' }}",
            "json_attributes_topic": topics.estop_state},
    }
    if not config.safety.require_signed_reset:  # Home Assistant cannot sign
        components["estop_reset"] = {
            "p": "button", "name": "Reset e-stop", "command_topic": topics.estop_reset,
            "command_template": _json_template({"id": FRESH_ID, "reason": RESET_REASON}),
            "icon": "mdi:restart"}
    for name in button_actions(config):
        components[_key("action", name)] = {
            "p": "button", "name": _title(name), "command_topic": topics.cmd,
            "command_template": _json_template({"id": FRESH_ID, "action": name})}
    for name, sensor in config.sensors.items():
        components[_key("sensor", name)] = _sensor(name, sensor)
    components.update({
        "ask": {"p": "text", "name": "Ask", "command_topic": topics.ask, "max": TEXT_MAX,
                "icon": "mdi:message-text"},
        "last_decision": {
            "p": "sensor", "name": "Last decision", "state_topic": topics.events,
            "value_template": ("{{ (value_json.decision ~ ' ' ~ (value_json.action or '') ~ "
                               "(' (' ~ value_json.reason ~ ')' if value_json.reason else '')"
                               f")[:{TEXT_MAX}] }}}}"),
            "json_attributes_topic": topics.events, "icon": "mdi:clipboard-text-clock"},
        "model": {"p": "sensor", "name": "Model", "state_topic": topics.status,
                  "value_template": "{{ value_json.model | default('') }}",
                  "entity_category": "diagnostic", "icon": "mdi:brain"},
        "cloud": {"p": "sensor", "name": "Cloud", "state_topic": topics.status,
                  "value_template": "{{ value_json.cloud | default('') }}",
                  "entity_category": "diagnostic", "icon": "mdi:cloud"},
    })
    for key, component in components.items():
        component["unique_id"] = f"{uid}-{key}"
        component["qos"] = 1  # per component: Home Assistant 2025.4 does not inherit it
    return {
        "dev": {"ids": [uid], "name": config.device.id, "mf": "robot-agent",
                "mdl": config.device.class_, "sw": __version__},
        "o": {"name": "robot-agent", "sw": __version__},
        "avty": [{"t": topics.status, "val_tpl": "{{ value_json.state }}",
                  "pl_avail": "online", "pl_not_avail": "offline"}],
        "cmps": components,
    }


def _sensor(name: str, sensor: SensorConfig) -> dict[str, Any]:
    """A number is a sensor with its unit and device class, a bool a binary sensor, an event
    a sensor showing the last text, a camera a camera. A number or bool that stops coming goes
    unavailable after twice its max_age_s (rounded up: Home Assistant counts whole seconds)."""
    if sensor.kind == "camera":  # Home Assistant's MQTT camera shows the raw frames itself
        return {"p": "camera", "name": _title(name), "topic": sensor.topic}
    expire = max(1, math.ceil(2 * sensor.max_age_s))
    base = {"name": _title(name), "state_topic": sensor.topic}
    if sensor.kind == "bool":
        return {"p": "binary_sensor", **base, "expire_after": expire,
                "value_template": (f"{{{{ 'ON' if ({READING} | string | lower) in "
                                   "['true', 'on', '1', 'yes'] else 'OFF' }}")}
    if sensor.kind == "event":
        return {"p": "sensor", **base, "icon": "mdi:message-alert",
                "value_template": f"{{{{ ({READING} | string)[:{TEXT_MAX}] }}}}"}
    component = {"p": "sensor", **base, "expire_after": expire, "state_class": "measurement",
                 "value_template": f"{{{{ {READING} }}}}"}
    if sensor.unit:
        component["unit_of_measurement"] = sensor.unit
    device_class = sensor_device_class(name, sensor.unit)
    if device_class:
        component["device_class"] = device_class
    return component


def sensor_device_class(name: str, unit: str) -> str | None:
    if unit == "%":
        return next((cls for word, cls in PERCENT_CLASSES if word in name.lower()), None)
    return UNIT_CLASSES.get(unit)


def _json_template(message: dict[str, str]) -> str:
    """A command template: JSON whose strings may hold a Home Assistant template."""
    return json.dumps(message, separators=(",", ":"))


def _key(kind: str, name: str) -> str:
    return f"{kind}_{re.sub(r'[^a-z0-9_]', '_', name.lower())}"


def _title(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").strip().capitalize() or name


class Discovery:
    """Publishes the discovery message (when enabled) or removes one left by an earlier run."""

    def __init__(self, config: Config, state_dir: Path, publish: Publish) -> None:
        self.config = config
        self.enabled = config.homeassistant.enabled
        self.topic = discovery_topic(config)
        self.status_topic = status_topic(config)
        self.marker = state_dir / MARKER
        self.publish = publish
        self.payload = json.dumps(discovery_payload(config), separators=(",", ":"))

    def on_connect(self) -> None:
        """After every (re)connection: publish, and clear what an earlier run left elsewhere."""
        left = self._left_behind()
        if left and (left != self.topic or not self.enabled) and self.publish(left, "", True):
            log.info("Home Assistant discovery removed from %s", left)
            self._forget()
        if self.enabled:
            self.announce()

    def announce(self) -> None:
        if self.publish(self.topic, self.payload, True):
            self._remember()

    def on_status(self, payload: bytes) -> None:
        """Home Assistant (re)started: it may have lost what it knew; tell it again."""
        if self.enabled and payload.strip().decode("utf-8", "replace") == ONLINE:
            self.announce()

    def _left_behind(self) -> str:
        try:
            topic = json.loads(self.marker.read_text(encoding="utf-8"))["topic"]
        except (OSError, ValueError, KeyError, TypeError):
            return ""
        return topic if isinstance(topic, str) and topic else ""

    def _remember(self) -> None:
        if self._left_behind() == self.topic:
            return
        try:
            self.marker.write_text(json.dumps({"topic": self.topic}), encoding="utf-8")
        except OSError as exc:  # then only `robot-agent discovery --remove` can clear it
            log.warning("cannot write %s: %s", self.marker, exc)

    def _forget(self) -> None:
        try:
            self.marker.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot remove %s: %s", self.marker, exc)
