"""robot-agent: a safety-gated MQTT daemon for robots on a Raspberry Pi.

The package is in layers, each a sub-package whose `__init__` says what it holds and what it may
import (docs/architecture.md; checked by import-linter): cli, the daemon, text, cloud, requests
and state, safety, mqtt, interpret and sensing, config, devices, core. Only the daemon and this
face are modules of their own at the top.
"""

__version__ = "0.1.0"
