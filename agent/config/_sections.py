"""The sections of the config that configure the daemon itself: its identity, MQTT, GPIO, the
local model, the cloud, Home Assistant, schedules, safety and simulation."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from agent.config._base import Pin, Strict, plain_topic, topic_prefix


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
    # The e-stop's connection counts as down when the broker has not answered it for this long
    # (it is asked four times as often): a frozen broker is found in 1 s, not keepalive's 45.
    estop_link_timeout_s: Annotated[float, Field(ge=0.2, le=60)] = 1.0
    site_estop_topic: str = ""  # any message there engages the e-stop (source site)
    # On a robot whose own broker is bridged to a site: mosquitto's notification topic for
    # that bridge ("1" up, "0" down); a bridge that is down is a link that is down.
    bridge_state_topic: str = ""

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return topic_prefix(value, may_be_empty=True)  # empty: robots/<device.id>

    @field_validator("site_estop_topic", "bridge_state_topic")
    @classmethod
    def _plain(cls, value: str) -> str:
        return plain_topic(value, may_be_empty=True)


class GpioConfig(Strict):
    pin_factory: Literal["auto", "mock"] = "auto"


class ModelConfig(Strict):
    path: str = ""
    threads: Annotated[int, Field(ge=1, le=64)] = 2
    execute_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.90
    escalate_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.70
    # The reading adapter loaded with the model (models/catalogue.toml, table adapters): its
    # reading is evidence where the rules cannot act alone (docs/interpreter.md); "" for none
    adapter: str = "reading-frame"


class InterpreterConfig(Strict):
    """The languages text may come in besides English, the interpreter's own (agent/interpret/
    lang/): a sentence in one of them is read through its translation into English."""
    languages: tuple[Literal["en", "de"], ...] = ("en",)


class ModelPrices(Strict):
    """What a model costs, from its card (docs/cloud.md), in the currency of budget_per_day."""

    input_per_m: Annotated[float, Field(ge=0)]  # per million input tokens
    output_per_m: Annotated[float, Field(ge=0)]  # per million output tokens
    per_image: Annotated[float, Field(ge=0)] = 0.0  # per image sent
    vision: bool = False  # the model takes images


class CloudConfig(Strict):
    enabled: bool = False
    base_url: str = "https://openrouter.ai/api/v1"
    model: str = "meta-llama/llama-4-scout"
    api_key_file: str = ""
    timeout_s: Annotated[float, Field(gt=0, le=300)] = 15
    max_plan_s: Annotated[float, Field(gt=0, le=3600)] = 120  # a plan never runs longer
    send_images: bool = False  # camera frames leave the robot only when true
    image_max_px: Annotated[int, Field(ge=64, le=4096)] = 768  # long side after downscaling
    image_quality: Annotated[int, Field(ge=1, le=95)] = 75  # of the re-encoded JPEG
    # None: no limit; 0: no cloud calls at all
    budget_per_day: Annotated[float, Field(ge=0)] | None = None
    prices: dict[str, ModelPrices] = Field(default_factory=dict)  # by model name

    @property
    def price(self) -> ModelPrices | None:
        """The prices of the model in use, if the config has them."""
        return self.prices.get(self.model)

    @property
    def sends_images(self) -> bool:
        """Frames go to the model: allowed, and the model takes images."""
        return self.send_images and self.price is not None and self.price.vision

    def problems(self) -> list[str]:
        """A budget needs the prices of the model it bounds ('key: why')."""
        if self.budget_per_day is not None and self.price is None:
            return [f"cloud.budget_per_day: no prices for cloud.model {self.model!r}: add "
                    f'[cloud.prices."{self.model}"] with input_per_m and output_per_m (and '
                    "per_image) from the model's page, or remove the budget"]
        return []


class SimConfig(Strict):
    """The simulation of `run --sim` (agent.sensing.sim_world)."""

    # false: mock pins, and no simulated readings or camera frames (a user's own simulator
    # has them; `run --sim --no-world` says the same for one run)
    world: bool = True


class HomeAssistantConfig(Strict):
    """MQTT discovery (agent.mqtt.homeassistant, docs/homeassistant.md)."""

    enabled: bool = False
    discovery_prefix: str = "homeassistant"

    @field_validator("discovery_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return topic_prefix(value, may_be_empty=False)


class SchedulesConfig(Strict):
    """Deferred requests ("in ten minutes"): how many may wait, and how far ahead."""
    max_pending: Annotated[int, Field(ge=0, le=1000)] = 20
    max_ahead_h: Annotated[float, Field(gt=0, le=24 * 366)] = 168


class SafetyConfig(Strict):
    estop_button_pin: Pin = 0
    # nc: normally closed (the safety convention): pressing it, or a cut wire, opens the circuit
    estop_button_contact: Literal["nc", "no"] = "nc"
    max_actions_per_min: Annotated[int, Field(ge=1, le=100_000)] = 120
    signing_key_file: str = ""
    require_signed_reset: bool = False
    # The e-stop's link down longer than this stops every output that moves (0: never)
    link_loss_stop_s: Annotated[float, Field(ge=0, le=60)] = 0.5
