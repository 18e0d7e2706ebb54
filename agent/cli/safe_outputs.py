"""`robot-agent safe-outputs`: after the daemon has exited, for whatever reason, drive every
configured output to its safe state and tell every mqtt device so.

The unit runs it with `ExecStopPost=`, which systemd runs after any end of the daemon: a clean
stop, a fault, a crash, SIGKILL, the out-of-memory killer, its own watchdog. The daemon makes
its outputs safe itself whenever it can; this covers the times it cannot.

GPIO lines are left driven at their safe level: the process ends without gpiozero's clean-up,
which would release them as floating inputs. When systemd says the daemon died (SERVICE_RESULT
watchdog, timeout, signal, core-dump or oom-kill), the e-stop latch is set too (source
watchdog), so the daemon comes back engaged and someone looks before the robot moves again.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from agent.config import Config
from agent.core.secrets import CREDENTIALS, read_secret
from agent.devices import Output, kind_of
from agent.mqtt.connection import make_client, no_delay
from agent.safety.latch import Latch, LatchState

CRASHES = ("watchdog", "timeout", "signal", "core-dump", "oom-kill")
CONNECT_WAIT_S = 3.0
ACK_WAIT_S = 3.0


def safe_outputs(config: Config, pin_factory: Any, *, state_dir: Path,
                 service_result: str = "", exit_status: str = "") -> int:
    """0 when every output is known safe; 1 when one could not be made safe or confirmed."""
    ok = True
    if service_result in CRASHES:
        latch = Latch(state_dir)
        if not latch.engaged:
            latch.set(LatchState(True, "watchdog", f"fault: the daemon died ({service_result}"
                                 f"{' ' + exit_status if exit_status else ''}); its outputs "
                                 "were made safe by safe-outputs", time.time()))
        latch.sync()
        print(f"e-stop latched (source watchdog): the daemon died ({service_result})")
    by_message = [name for name, device in config.devices.items()
                  if kind_of(device.kind).needs_broker]
    client = _connect(config) if by_message else None
    outputs: list[Output] = []
    for name, device in config.devices.items():
        try:  # created in its safe state (an mqtt device is told so), as the daemon does
            outputs.append(kind_of(device.kind).create(name, device, pin_factory,
                                                       _publisher(client)))
        except Exception as exc:  # one broken device must not keep the others from going safe
            ok = False
            print(f"{name}: FAILED to make safe: {type(exc).__name__}: {exc}")
    deadline = time.monotonic() + ACK_WAIT_S
    for output in outputs:
        if output.safe_confirmed(max(0.0, deadline - time.monotonic())):
            print(f"{output.name}: safe")
        else:
            ok = False
            print(f"{output.name}: safe message NOT acknowledged by the broker "
                  f"{config.mqtt.host}:{config.mqtt.port}")
    if client is not None:
        client.disconnect()
        client.loop_stop()
    return 0 if ok else 1


def _connect(config: Config) -> Any:
    """A connected MQTT client, or one that is not (its publishes then go unacknowledged)."""
    cfg = config.mqtt
    password = read_secret(cfg.password_file, CREDENTIALS["mqtt_password"])
    client = make_client(cfg, client_id=f"robot-agent-{config.device.id}-safe",
                         password=password.decode() if password else None)
    ready = threading.Event()
    client.on_connect = lambda c, u, f, reason, p: ready.set() if not reason.is_failure else None
    client.connect_timeout = CONNECT_WAIT_S
    try:
        client.connect(cfg.host, cfg.port, keepalive=10)
        no_delay(client.socket())
    except (OSError, ValueError) as exc:
        print(f"broker {cfg.host}:{cfg.port} unreachable: {exc}")
        return client
    client.loop_start()
    if not ready.wait(CONNECT_WAIT_S):
        print(f"broker {cfg.host}:{cfg.port} did not accept the connection in "
              f"{CONNECT_WAIT_S:g} s")
    return client


def _publisher(client: Any) -> Any:
    def publish(topic: str, payload: str) -> Any:
        return client.publish(topic, payload, qos=1)

    return publish
