"""The TOML configuration (CONTRACT section 1): parsed, validated, every error named by key path.

Also where the daemon's files are: the config file's default path and the state directory.
Longer than most modules on purpose: each key's checks live here, next to the key.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.kinds import KINDS, DeviceKind, OpSpec, op_spec, value_problem
from agent.topics import topic_problem

DEFAULT_CONFIG_PATH = Path("/etc/robot-agent/config.toml")
LOCAL_CONFIG_PATH = Path("robot-agent.toml")  # in the current directory
DEFAULT_STATE_DIR = Path("/var/lib/robot-agent")


def config_path(given: Path | None) -> Path:
    """The config file to read: --config, else $ROBOT_AGENT_CONFIG, else ./robot-agent.toml if
    there is one, else the installed /etc/robot-agent/config.toml. Raises ConfigError, saying
    where it looked and what to do, when nothing was given and neither default exists."""
    if given is not None:
        return given
    if os.environ.get("ROBOT_AGENT_CONFIG"):
        return Path(os.environ["ROBOT_AGENT_CONFIG"])
    for path in (LOCAL_CONFIG_PATH, DEFAULT_CONFIG_PATH):
        if path.exists():
            return path
    raise ConfigError([
        f"no configuration file: neither ./{LOCAL_CONFIG_PATH} nor {DEFAULT_CONFIG_PATH} "
        "exists. Give one with --config FILE or ROBOT_AGENT_CONFIG=FILE (to try the "
        "simulation: --config deploy/examples/rover.toml; on a robot: sudo deploy/install.sh)"])


def state_dir() -> Path:
    """Where the e-stop latch, the used signed ids and the pending schedules are kept
    ($ROBOT_AGENT_STATE_DIR)."""
    return Path(os.environ.get("ROBOT_AGENT_STATE_DIR") or DEFAULT_STATE_DIR)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceInfo(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9_-]+$", max_length=64)]
    class_: str = Field(default="unknown", alias="class")


class MqttConfig(Strict):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    prefix: str = ""
    username: str = ""
    password_file: str = ""
    tls_ca_file: str = ""
    tls_cert_file: str = ""  # a client certificate, for brokers that require one (extension)
    tls_key_file: str = ""
    keepalive_s: Annotated[int, Field(ge=5, le=3600)] = 30
    max_payload_bytes: Annotated[int, Field(ge=256, le=16 * 1024 * 1024)] = 65536

    @field_validator("prefix")
    @classmethod
    def _topic_prefix(cls, value: str) -> str:
        if value and (topic_problem(value) or value.endswith("/") or value.startswith("/")):
            raise ValueError("a topic prefix without wildcards and without a leading or trailing /")
        return value


class GpioConfig(Strict):
    pin_factory: Literal["auto", "mock"] = "auto"


class ModelConfig(Strict):
    path: str = ""
    threads: Annotated[int, Field(ge=1, le=64)] = 2
    execute_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.90
    escalate_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.70


class CloudConfig(Strict):
    enabled: bool = False
    base_url: str = "https://openrouter.ai/api/v1"
    model: str = "meta-llama/llama-4-scout"
    api_key_file: str = ""
    timeout_s: Annotated[float, Field(gt=0, le=300)] = 15
    max_plan_s: Annotated[float, Field(gt=0, le=3600)] = 120  # a plan never runs longer


class HomeAssistantConfig(Strict):
    """MQTT discovery (agent.homeassistant, docs/homeassistant.md)."""

    enabled: bool = False
    discovery_prefix: str = "homeassistant"

    @field_validator("discovery_prefix")
    @classmethod
    def _discovery_prefix(cls, value: str) -> str:
        if topic_problem(value) or value.endswith("/") or value.startswith("/"):
            raise ValueError("a topic prefix without wildcards and without a leading or trailing /")
        return value


class SchedulesConfig(Strict):
    """Deferred requests ("in ten minutes"): how many may wait, and how far ahead."""
    max_pending: Annotated[int, Field(ge=0, le=1000)] = 20
    max_ahead_h: Annotated[float, Field(gt=0, le=24 * 366)] = 168


Pin = Annotated[int, Field(ge=0, le=27)]


class SafetyConfig(Strict):
    estop_button_pin: Pin = 0
    # nc: normally closed (the safety convention): pressing it, or a cut wire, opens the circuit
    estop_button_contact: Literal["nc", "no"] = "nc"
    max_actions_per_min: Annotated[int, Field(ge=1, le=100_000)] = 120
    signing_key_file: str = ""
    require_signed_reset: bool = False


SensorKind = Literal["number", "bool", "event"]


class SensorConfig(Strict):
    topic: str
    kind: SensorKind = "number"  # event: free text from another part of the stack
    unit: str = ""  # of a number: "m", "%", "°C"...
    max_age_s: Annotated[float, Field(gt=0, le=3600)] = 1.0
    description: str = ""
    window_s: Annotated[float, Field(gt=0, le=86400)] = 60.0  # statistics for the cloud planner

    @field_validator("topic")
    @classmethod
    def _plain_topic(cls, value: str) -> str:
        if topic_problem(value):
            raise ValueError("an MQTT topic without wildcards")
        return value


class DeviceConfig(Strict):
    kind: DeviceKind
    pin: Pin | None = None
    pins: list[Pin] | None = None
    left: tuple[Pin, Pin] | None = None
    right: tuple[Pin, Pin] | None = None
    forward: Pin | None = None
    backward: Pin | None = None
    active_high: bool = True
    speed_mps: Annotated[float, Field(gt=0, le=20)] = 0.25
    turn_dps: Annotated[float, Field(gt=0, le=3600)] = 90
    min_angle: float = -90
    max_angle: float = 90
    topic: str = ""  # an mqtt device's
    # an mqtt device's operation is published again this often while it holds (a heartbeat)
    heartbeat_s: Annotated[float, Field(ge=0.05, le=60)] | None = None

    @field_validator("topic")
    @classmethod
    def _device_topic(cls, value: str) -> str:
        if value and topic_problem(value):
            raise ValueError("an MQTT topic without wildcards")
        return value

    def used_pins(self) -> list[int]:
        pins = [p for p in (self.pin, self.forward, self.backward) if p is not None]
        pins += list(self.pins or []) + list(self.left or ()) + list(self.right or ())
        return pins


Scalar = float | int | str | bool


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


class Config(Strict):
    policy_version: str = "unversioned"
    device: DeviceInfo
    mqtt: MqttConfig = MqttConfig()
    gpio: GpioConfig = GpioConfig()
    model: ModelConfig = ModelConfig()
    cloud: CloudConfig = CloudConfig()
    safety: SafetyConfig = SafetyConfig()
    homeassistant: HomeAssistantConfig = HomeAssistantConfig()
    schedules: SchedulesConfig = SchedulesConfig()
    sensors: dict[str, SensorConfig] = Field(default_factory=dict)
    devices: dict[str, DeviceConfig] = Field(default_factory=dict)
    actions: dict[str, ActionConfig] = Field(default_factory=dict)
    reactions: dict[str, ReactionConfig] = Field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return self.mqtt.prefix or f"robots/{self.device.id}"


class ConfigError(Exception):
    """Every problem found in a configuration, each as 'key.path: message' (or a problem with
    the file itself), without the file's name: whoever prints them names the file once."""

    def __init__(self, problems: list[str], path: Path | str | None = None) -> None:
        super().__init__("\n".join(f"{path}: {p}" if path else p for p in problems))
        self.problems = problems


NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def load_config(path: Path | str) -> Config:
    """Read, parse and validate; raise ConfigError naming every problem."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([f"cannot read it: {exc.strerror or exc}"], path) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"not valid TOML: {exc}"], path) from exc
    try:
        return parse_config(raw)
    except ConfigError as exc:
        raise ConfigError(exc.problems, path) from None


def parse_config(raw: dict[str, Any]) -> Config:
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError([_describe(err) for err in exc.errors()]) from exc
    problems = _cross_checks(config)
    if problems:
        raise ConfigError(problems)
    return config


def _describe(err: Any) -> str:
    path = ".".join(str(part) for part in err["loc"]) or "(top level)"
    if err["type"] == "extra_forbidden":
        return f"{path}: unknown key"
    return f"{path}: {err['msg']}"


def _cross_checks(config: Config) -> list[str]:
    problems: list[str] = []
    pin_owner: dict[int, str] = {}

    def claim(pin: int, owner: str) -> None:
        if pin in pin_owner:
            problems.append(f"{owner}: pin {pin} is already used by {pin_owner[pin]}")
        else:
            pin_owner[pin] = owner

    if config.safety.estop_button_pin:
        claim(config.safety.estop_button_pin, "safety.estop_button_pin")
    for name, device in config.devices.items():
        if not NAME.match(name):
            problems.append(f"devices.{name}: names are lower-case letters, digits and _")
        problems += [f"devices.{name}.{p}" for p in KINDS[device.kind].check_wiring(device)]
        if device.heartbeat_s is not None and device.kind != "mqtt":
            problems.append(f"devices.{name}.heartbeat_s: only an mqtt device has a heartbeat")
        for pin in device.used_pins():
            claim(pin, f"devices.{name}")
    for name, action in config.actions.items():
        problems += [f"actions.{name}{p}" for p in _action_problems(name, action, config)]
    for name, reaction in config.reactions.items():
        problems += [f"reactions.{name}{p}" for p in _reaction_problems(name, reaction, config)]
    model = config.model
    if model.escalate_threshold > model.execute_threshold:
        problems.append(f"model.escalate_threshold: {model.escalate_threshold:g} is above "
                        f"execute_threshold {model.execute_threshold:g}: a request would be "
                        "refused at a confidence at which it also runs")
    return problems


def _action_problems(name: str, action: ActionConfig, config: Config) -> list[str]:
    problems: list[str] = []
    if not NAME.match(name):
        problems.append(": names are lower-case letters, digits and _")
    device = config.devices.get(action.device)
    if device is None:
        return [*problems, f".device: no device named {action.device!r} in [devices]"]
    op = op_spec(device.kind, action.op)
    if op is None:
        known = ", ".join(sorted(KINDS[device.kind].ops))
        return [*problems, f".op: a {device.kind} device has no operation {action.op!r} ({known})"]
    for pname, spec in action.params.items():
        problems += [f".params.{pname}{p}" for p in _param_problems(spec)]
        if spec.enum is None and spec.default is not None and (problem := value_problem(
                device.kind, action.op, pname, spec.default)):
            problems.append(f".params.{pname}.default: {problem}")
        for value in spec.enum or []:
            problem = value_problem(device.kind, action.op, pname, value)
            if problem:
                problems.append(f".params.{pname}.enum: {problem}")
        if device.kind != "mqtt" and pname not in op.params:
            uses = ", ".join(sorted(op.params)) or "no parameters"
            problems.append(f".params.{pname}: {device.kind}.{action.op} does not use it ({uses})")
    problems += _stays_on_problems(action, device.kind, op)
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


NEVER_STAY_ON = ("motor", "robot")  # motion is always bounded


def _stays_on_problems(action: ActionConfig, kind: str, op: OpSpec) -> list[str]:
    """Which actions may leave an output on past max_duration_s: see docs/CONTRACT.md."""
    if not action.stays_on:
        return []
    if kind in NEVER_STAY_ON:
        return [f".stays_on: a {kind} never stays on: motion always ends at max_duration_s"]
    if op.timed or op.safe:
        return [f".stays_on: {kind}.{action.op} "
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


def _reaction_problems(name: str, reaction: ReactionConfig, config: Config) -> list[str]:
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
        op = op_spec(device.kind, action.op) if device else None
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
        if sensor.kind == "event" or isinstance(when.equals, bool) != (sensor.kind == "bool"):
            return [f".equals: {when.sensor} is a {sensor.kind} sensor"]
        return []
    key = limits[0]
    if sensor.kind != "number":
        hint = " (use equals)" if sensor.kind == "bool" else " (use event and means)"
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
