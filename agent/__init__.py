"""robot-agent: a safety-gated MQTT daemon for robots on a Raspberry Pi."""

__version__ = "0.1.0"
