"""What the journal says about the daemon's own life, around its decisions: it starts (on
which pins), it is online (in what state), it stopped (why, and what it stopped). Each line has
a MESSAGE_ID of its own and its facts as journal fields (agent.core.journal.story); the links to
the broker say their own (agent.mqtt.connection).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from agent import __version__
from agent.config import Config
from agent.core.journal import story
from agent.safety.executor import Running
from agent.safety.latch import LatchState

log = logging.getLogger("agent.daemon")


def say_starting(config: Config, pin_factory: str, state_dir: Path, latch: LatchState) -> None:
    """The first line: what starts, on which pins, where it keeps its state; and a warning
    when it starts with the e-stop engaged."""
    log.info("robot-agent %s starting: robot %s (%s), policy %s; %d devices on pins %s; %d "
             "actions, %d sensors, %d reactions; state in %s", __version__, config.device.id,
             config.device.class_, config.policy_version, len(config.devices), pin_factory,
             len(config.actions), len(config.sensors), len(config.reactions), state_dir,
             extra=story("starting", version=__version__, device=config.device.id,
                         policy_version=config.policy_version, pin_factory=pin_factory,
                         state_dir=state_dir))
    if latch.engaged:
        log.warning("starting with the e-stop engaged (%s: %s)", latch.source, latch.reason)


def say_online(config: Config, status: dict[str, Any], latch: LatchState) -> None:
    """One line at every (re)connection of the main link: the robot is online, and in what
    state (the e-stop's, its link's, the model's, the cloud's)."""
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(latch.since))
    estop = (f"ENGAGED since {since} ({latch.source}: {latch.reason})" if latch.engaged
             else "released")
    pending = status.get("schedules", {}).get("pending", 0)
    log.info("robot %s online on %s: e-stop %s, e-stop link %s, model %s, cloud %s, "
             "%s scheduled", config.device.id, config.prefix, estop, status["estop_connection"],
             status["model"], status["cloud"], pending,
             extra=story("online", device=config.device.id,
                         estop="engaged" if latch.engaged else "released",
                         estop_source=latch.source, estop_link=status["estop_connection"],
                         model=status["model"], cloud=status["cloud"], scheduled=pending))


def say_stopped(why: str, outputs: list[str], cut: list[Running], refused: int, *,
                engaged: bool, fault: bool) -> None:
    """The daemon's last line: why it stopped, and what it stopped."""
    stopped = ", ".join(f"{run.name} on {run.action.device}" for run in cut)
    estop = "engaged" if engaged else "released"
    log.log(logging.ERROR if fault else logging.INFO,
            "robot-agent stopped (%s): every output made safe (%s); %s; %d waiting request(s) "
            "refused; e-stop %s; status offline", why, ", ".join(outputs) or "none configured",
            f"cut short: {stopped}" if stopped else "nothing was running", refused, estop,
            extra=story("stopped", why=why, outputs_safe=",".join(outputs), cut_short=stopped,
                        refused=refused, estop=estop))
