"""A worker: one thread serving a bounded queue, one item at a time.

The daemon's work that may take time (a command, an interpretation, a plan, the e-stop's
follow-up) waits in a worker's queue, never on the MQTT thread. A full queue refuses at once;
the daemon's health check asks each worker whether it is alive and how long its current item
has gone without progress, so a stuck worker is a fault, not a silent stall.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from agent.core.clock import Clock

log = logging.getLogger(__name__)

Item = TypeVar("Item")


class Worker(Generic[Item]):
    def __init__(self, name: str, handle: Callable[[Item], None], *, clock: Clock,
                 stopping: threading.Event, size: int,
                 on_error: Callable[[Item, Exception], None] = lambda item, exc: None) -> None:
        self.name = name
        self.handle = handle
        self.clock = clock
        self.stopping = stopping
        self.on_error = on_error  # the item's sender still gets an answer
        self.items: queue.Queue[Item] = queue.Queue(size)
        self.busy_since: float | None = None
        self.thread = threading.Thread(target=self._serve, name=name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def offer(self, item: Item) -> bool:
        """Queue an item; False when the queue is full (the caller answers busy)."""
        try:
            self.items.put_nowait(item)
        except queue.Full:
            return False
        return True

    def problem(self, hung_after_s: float) -> str:
        """Why this worker is unhealthy, or ''."""
        if not self.thread.is_alive():
            return f"worker thread died: {self.name}"
        since = self.busy_since
        if since is not None and self.clock.monotonic() - since > hung_after_s:
            return f"worker thread stuck: {self.name}"
        return ""

    def progressing(self) -> None:
        """Called from the item in hand while it waits on purpose, within a bound of its own (a
        plan waiting for its step): it is moving, not stuck, so the count starts again. A
        thread that truly hangs never calls this."""
        if self.busy_since is not None:
            self.busy_since = self.clock.monotonic()

    def finish(self, timeout: float) -> list[Item]:
        """After stopping is set: wait for the item in hand (at most timeout), then return
        what is still queued, which will never be handled, for the caller to answer."""
        if self.thread.is_alive():
            self.thread.join(timeout)
        left: list[Item] = []
        while True:
            try:
                left.append(self.items.get_nowait())
            except queue.Empty:
                return left

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                item = self.items.get(timeout=0.5)
            except queue.Empty:
                continue
            self.busy_since = self.clock.monotonic()
            try:
                self.handle(item)
            except Exception as exc:  # the worker survives
                log.exception("internal error in %s", self.name)
                self.on_error(item, exc)
            finally:
                self.busy_since = None
