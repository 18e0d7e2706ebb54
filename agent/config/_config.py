"""The whole config: read, parsed and validated, every error named by its key path; and where
the daemon's files are."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from agent.config._actions import ActionConfig, action_problems
from agent.config._base import NAME, Strict
from agent.config._hardware import DeviceConfig, SensorConfig
from agent.config._reactions import ReactionConfig, reaction_problems
from agent.config._sections import (
    CloudConfig,
    DeviceInfo,
    GpioConfig,
    HomeAssistantConfig,
    ModelConfig,
    MqttConfig,
    SafetyConfig,
    SchedulesConfig,
    SimConfig,
)
from agent.devices import KINDS, kind_of

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
    sim: SimConfig = SimConfig()
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
        kind = kind_of(device.kind)
        problems += [f"devices.{name}.{p}" for p in kind.check_wiring(device)]
        if device.heartbeat_s is not None and not kind.heartbeat:
            which = " or ".join(n for n, k in sorted(KINDS.items()) if k.heartbeat)
            problems.append(f"devices.{name}.heartbeat_s: only an {which} device has a heartbeat")
        for pin in device.used_pins():
            claim(pin, f"devices.{name}")
    for name, action in config.actions.items():
        problems += [f"actions.{name}{p}" for p in action_problems(name, action, config)]
    for name, reaction in config.reactions.items():
        problems += [f"reactions.{name}{p}" for p in reaction_problems(name, reaction, config)]
    model = config.model
    if model.escalate_threshold > model.execute_threshold:
        problems.append(f"model.escalate_threshold: {model.escalate_threshold:g} is above "
                        f"execute_threshold {model.execute_threshold:g}: a request would be "
                        "refused at a confidence at which it also runs")
    return problems
