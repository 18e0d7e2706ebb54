"""Link loss is a protective stop (docs/CONTRACT.md, "Link loss").

The e-stop's own connection is how this robot is stopped from afar. When it is down (closed, or
silent past `[mqtt] estop_link_timeout_s`: agent.mqtt.connection.Probe) or, on a robot whose own
broker is bridged to a site, when that bridge is down (mosquitto's notification on `[mqtt]
bridge_state_topic`), for longer than `[safety] link_loss_stop_s`, every output that moves
(Output.stops_on_link_loss) is made safe, what ran on them ends `failed` with `link_lost`, and
anything that moves is refused `link_lost` until the link is back. Nothing latches: once it is
back, motion is allowed again, and nothing resumes. Lights and the other outputs are left as
they are, and the hardware button keeps working (agent.safety.estop). A record says when the
link was lost, what was stopped, and when it came back; `P/status` says so too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from agent.config import Config
from agent.core.clock import Clock
from agent.core.decisions import Decision
from agent.core.protocol import InputKind, Reason, Status
from agent.mqtt.connection import Connection
from agent.mqtt.publisher import Publisher
from agent.safety.executor import Executor

log = logging.getLogger(__name__)

CONNECTION = "e-stop connection"
BRIDGE = "bridge to the site"


class LinkWatch:
    def __init__(self, config: Config, *, connection: Connection, executor: Executor,
                 publisher: Publisher, clock: Clock,
                 on_status_change: Callable[[], None]) -> None:
        self.grace_s = config.safety.link_loss_stop_s
        self.connection = connection  # the e-stop's: it calls connection_up and _down
        self.executor = executor
        self.publisher = publisher
        self.clock = clock
        self.on_status_change = on_status_change
        self.bridged = bool(config.mqtt.bridge_state_topic)
        self.lock = threading.Lock()
        # What is down now, and why: the link is up when nothing is. It is down at the start,
        # until the connection (and the bridge's notification) say otherwise.
        self.down: dict[str, str] = {CONNECTION: "not connected yet"}
        if self.bridged:
            self.down[BRIDGE] = "its state not heard yet"
        self.bridge = "unknown"
        self.down_since = clock.monotonic()
        self.down_at = clock.time()
        self.epoch = 0  # one more each time the link goes down or up: a stale timer does nothing
        self.timer: threading.Timer | None = None
        self.stopped = False  # the daemon is stopping: its connections going down is no loss
        self.lost = ""  # why motion is stopped and refused now; "" when it is not
        self.losses = 0
        self.last: dict[str, Any] | None = None  # the last loss, for P/status

    def start(self) -> None:
        if not self.grace_s:
            log.warning("[safety] link_loss_stop_s = 0: this robot keeps moving when its e-stop "
                        "link is lost, while an e-stop sent over MQTT cannot reach it")
            return
        with self.lock:
            if self.down:
                self._arm()

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            self.epoch += 1
            if self.timer is not None:
                self.timer.cancel()

    def status_fields(self) -> dict[str, Any]:
        fields = {"link_lost": bool(self.lost), "link_losses": self.losses,
                  "last_link_loss": self.last}
        return {**fields, "bridge": self.bridge} if self.bridged else fields

    # ---- what the link is doing (the e-stop connection's thread) ---------------------------

    def connection_up(self) -> None:
        self._set(CONNECTION, "")
        self.on_status_change()  # estop_connection

    def connection_down(self) -> None:
        self._set(CONNECTION, self.connection.last_error or "disconnected")
        if self.bridged:  # not heard while the connection is down; its retained state follows
            self.bridge = "unknown"
            self._set(BRIDGE, "its state not heard while the e-stop connection is down")
        self.on_status_change()

    def bridge_state(self, payload: bytes) -> None:
        """mosquitto's bridge notification: 1 connected, 0 not."""
        up = payload.strip() == b"1"
        self.bridge = "connected" if up else "disconnected"
        self._set(BRIDGE, "" if up else "disconnected")

    def _set(self, part: str, why: str) -> None:
        back = None
        with self.lock:
            if self.stopped:
                return
            was_up = not self.down
            if why:
                self.down[part] = why
            else:
                self.down.pop(part, None)
            if was_up and self.down:
                self.epoch += 1
                self.down_since = self.clock.monotonic()
                self.down_at = self.clock.time()
                self._arm()
            elif not self.down and not was_up:
                self.epoch += 1
                if self.timer is not None:
                    self.timer.cancel()
                if self.lost:
                    back = self._back()
        if back is not None:
            log.warning("%s", back.detail)
            self.publisher.publish(back, None, result=False)
            self.on_status_change()

    # ---- the stop, and the way back ---------------------------------------------------------

    def _arm(self) -> None:
        """Under the lock: stop motion once the link has been down for the grace."""
        if not self.grace_s:
            return
        left = self.grace_s - (self.clock.monotonic() - self.down_since)
        self.timer = threading.Timer(max(0.0, left), self._expire, (self.epoch,))
        self.timer.daemon = True
        self.timer.start()

    def _expire(self, epoch: int) -> None:
        with self.lock:
            if epoch != self.epoch or not self.down or self.lost:
                return  # it came back meanwhile
            self.losses += 1
            why = "; ".join(f"{part}: {reason}" for part, reason in self.down.items())
            down_s = self.clock.monotonic() - self.down_since
            self.lost = f"the e-stop link is down ({why})"
            cancelled, stopped = self.executor.stop_motion(
                Reason.LINK_LOST, f"{self.lost}: a protective stop; motion is refused until "
                "it is back")
            names = [out.name for out in stopped]
            self.last = {"since": round(self.down_at, 3), "back": None, "down_s": None,
                         "cause": why, "stopped": names}
        what = (f"{', '.join(names)} made safe" if names else "nothing was moving")
        detail = (f"{self.lost} for {down_s:.2f} s: {what}; motion is refused until it is back "
                  "(nothing latches, no reset needed)")
        log.error("link lost: %s", detail)
        for run, reason, text in cancelled:
            run.on_end(Status.FAILED, reason, text)
        self.publisher.publish(Decision.executed(
            f"link:{self.losses}", InputKind.LINK, action="link_loss_stop",
            reason=Reason.LINK_LOST, detail=detail), None, result=False)
        self.on_status_change()

    def _back(self) -> Decision:
        """Under the lock: the link is back after a loss."""
        self.executor.allow_motion()
        down_s = self.clock.monotonic() - self.down_since
        self.lost = ""
        if self.last is not None:
            self.last = {**self.last, "back": round(self.clock.time(), 3),
                         "down_s": round(down_s, 3)}
        return Decision.executed(
            f"link:{self.losses}", InputKind.LINK, action="link_back",
            detail=f"the e-stop link is back after {down_s:.1f} s down: motion is allowed "
                   "again; nothing resumes (send new commands)")
