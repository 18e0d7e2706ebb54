"""An mqtt device: another part of the robot stack, told each operation over MQTT."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from agent.devices._kind import Delivery, Ops, OpSpec, Output, Params, Publish, Wiring

STOP_LIKE = ("stop", "off", "detach", "safe")  # its safe operations


class MqttDevice(Output):
    """Each operation is published to its topic as JSON (QoS 1), and its safe state is the
    message {"op":"safe"}. With heartbeat_s, an operation that holds is published again every
    heartbeat_s, so the device can time out when the daemon goes quiet (as a velocity
    multiplexer times out a silent source)."""

    kind = "mqtt"
    # Any operation, with any parameters, for another part of the stack; the stop-like names
    # are safe there too.
    ops: ClassVar[Ops] = {"*": OpSpec(any_params=True),
                          **{op: OpSpec(safe=True) for op in STOP_LIKE}}
    wiring = ("topic",)
    heartbeat = True
    needs_broker = True
    SAFE = '{"op":"safe"}'

    def __init__(self, name: str, config: Wiring, publish: Publish) -> None:
        super().__init__(name, config, None)
        self.publish = publish
        self.message = self.SAFE
        self.safe_delivery: Delivery | None = None  # the last safe message, until acknowledged

    @classmethod
    def create(cls, name: str, config: Wiring, pin_factory: Any, publish: Publish) -> Output:
        """Safe from the start: the device hears so (once connected), whatever an earlier run
        of the daemon left it doing."""
        device = cls(name, config, publish)
        device.safe()
        return device

    @classmethod
    def said(cls, shown: str, be: str, state: Mapping[str, Any], then: str) -> str:
        return (f"The {shown}'s last operation was {state.get('op')}." if then else
                f"Nothing has been sent to the {shown} yet.")

    def drive(self, op: str, p: Params) -> None:
        self.message = json.dumps({"op": op, "params": p}, separators=(",", ":"))
        self.safe_delivery = None
        self.publish(self.config.topic, self.message)

    def refresh(self) -> None:
        self.publish(self.config.topic, self.message)

    def safe(self) -> None:
        self.message = self.SAFE
        self.safe_delivery = self.publish(self.config.topic, self.SAFE)
        self.last_op = "safe"

    def safe_confirmed(self, timeout: float) -> bool:
        delivery = self.safe_delivery
        if delivery is None:  # driven since its last safe message
            return False
        try:
            delivery.wait_for_publish(timeout)
            return delivery.is_published()
        except (RuntimeError, ValueError):  # it could not even be queued
            return False

    def details(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        pass
