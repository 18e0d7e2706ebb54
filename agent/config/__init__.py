"""The TOML configuration (CONTRACT section 1): parsed, validated, every error named by its key
path; and where the daemon's files are. One module per part of the file: the daemon's own
sections, the hardware (sensors, devices), actions, reactions, and the whole.

May import agent.devices (what each kind needs) and agent.core.
"""

from agent.config._actions import ActionConfig, InterlockConfig, ParamSpec, check_value, stays_on
from agent.config._config import (
    Config,
    ConfigError,
    config_path,
    load_config,
    parse_config,
    state_dir,
)
from agent.config._hardware import DeviceConfig, SensorConfig, SensorKind
from agent.config._reactions import ReactionConfig, ReactionDo, ReactionWhen
from agent.config._sections import (
    CloudConfig,
    ModelConfig,
    ModelPrices,
    MqttConfig,
    SafetyConfig,
)

__all__ = [
    "ActionConfig", "CloudConfig", "Config", "ConfigError", "DeviceConfig", "InterlockConfig",
    "ModelConfig", "ModelPrices", "MqttConfig", "ParamSpec", "ReactionConfig", "ReactionDo",
    "ReactionWhen", "SafetyConfig", "SensorConfig", "SensorKind", "check_value", "config_path",
    "load_config", "parse_config", "state_dir", "stays_on",
]
