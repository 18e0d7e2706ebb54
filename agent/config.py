"""The TOML configuration (CONTRACT section 1): parsed, validated, every error named by key path.

Also where the daemon's files are: the config file's default path and the state directory.
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
DEFAULT_STATE_DIR = Path("/var/lib/robot-agent")


def state_dir() -> Path:
    """Where the e-stop latch and the used signed ids are kept ($ROBOT_AGENT_STATE_DIR)."""
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
    max_age_s: Annotated[float, Field(gt=0, le=86400)] = 1.0
    description: str = ""

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


class Config(Strict):
    policy_version: str = "unversioned"
    device: DeviceInfo
    mqtt: MqttConfig = MqttConfig()
    gpio: GpioConfig = GpioConfig()
    model: ModelConfig = ModelConfig()
    cloud: CloudConfig = CloudConfig()
    safety: SafetyConfig = SafetyConfig()
    sensors: dict[str, SensorConfig] = Field(default_factory=dict)
    devices: dict[str, DeviceConfig] = Field(default_factory=dict)
    actions: dict[str, ActionConfig] = Field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return self.mqtt.prefix or f"robots/{self.device.id}"


class ConfigError(Exception):
    """Every problem found in a configuration, each as 'key.path: message'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def load_config(path: Path | str) -> Config:
    """Read, parse and validate; raise ConfigError naming every problem."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from exc
    return parse_config(raw)


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
