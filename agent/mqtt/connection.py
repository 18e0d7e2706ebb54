"""MQTT: one function that builds a client from the config (the daemon, the remote commands and
doctor all use it), and the daemon's Connection: one network thread of its own, reconnect with
capped exponential backoff and jitter, subscriptions renewed on every connect, a last will, a
heartbeat that shows the thread is alive, and (for the e-stop's link) a probe that finds a
broker that stopped answering in about a second, where MQTT's keepalive takes 1.5 to 2 times
keepalive_s.

paho's callbacks run on the connection's thread: the handler given to it must return quickly
(the daemon parses, answers or hands work to bounded queues). Publishing is safe from any
thread: with an external-loop write hook registered, paho queues the packet and wakes the
thread to send it.
"""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from agent.config import MqttConfig
from agent.core.clock import Clock
from agent.core.journal import story
from agent.mqtt.inbound import Inbound

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.5
BACKOFF_CAP_S = 30.0
LOOP_TIMEOUT_S = 0.1
SESSION_EXPIRY_S = 3600
# QoS 1 messages paho holds for the broker (in flight, or waiting for a connection): past this,
# a publish is refused, counted (status `dropped`) and logged, instead of memory growing during
# a long outage.
MAX_QUEUED = 10_000
DROP_LOG_EVERY_S = 5.0
PROBES_PER_TIMEOUT = 4  # a probe is sent this many times per Probe.answer_within_s


@dataclass(frozen=True)
class Probe:
    """Ask the broker for an answer every answer_within_s / 4, and close a connection that had
    none for answer_within_s. The question is an UNSUBSCRIBE from topic, which the connection
    never subscribes to: the broker must answer it (MQTT 5, 3.10.4), no other client sees it
    (unlike a message), and it can be sent at any time (paho sends a PINGREQ only after
    keepalive_s of silence). topic: one the client's ACL allows, e.g. under its prefix."""

    topic: str
    answer_within_s: float


@dataclass(frozen=True)
class Will:
    """The message the broker publishes for a connection that is lost (retained, QoS 1)."""

    topic: str
    payload: str


def make_client(cfg: MqttConfig, *, client_id: str, password: str | None) -> paho.Client:
    """An MQTT 5 client with the config's credentials and TLS; not yet connected."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=paho.MQTTv5)
    if cfg.username:
        client.username_pw_set(cfg.username, password)
    if cfg.tls_ca_file:
        client.tls_set(ca_certs=cfg.tls_ca_file, certfile=cfg.tls_cert_file or None,
                       keyfile=cfg.tls_key_file or None, cert_reqs=ssl.CERT_REQUIRED)
    return client


def backoff_delay(attempt: int, rng: random.Random) -> float:
    """Capped exponential backoff with jitter: half fixed, half random, so a fleet that lost its
    broker together does not come back together."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_FIRST_S * 2.0 ** min(attempt, 16))
    return ceiling / 2 + rng.uniform(0.0, ceiling / 2)


def no_delay(sock: Any) -> None:
    """paho leaves Nagle's algorithm on: small packets (an e-stop state, a result) would wait for
    the broker's delayed ACK, ~40 ms a hop on Linux."""
    raw = getattr(sock, "_sock", sock)  # beneath a TLS wrapper, if any
    with contextlib.suppress(OSError, AttributeError):
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Connection:
    def __init__(self, cfg: MqttConfig, *, client_id: str, clock: Clock,
                 on_message: Callable[[Inbound], None],
                 on_connect: Callable[[], None] = lambda: None,
                 on_disconnect: Callable[[], None] = lambda: None, will: Will | None = None,
                 password: str | None = None, keep_session: bool = False,
                 name: str = "main", carries: str = "",
                 probe: Probe | None = None) -> None:
        self.cfg = cfg
        # Which link this is, for the journal: the daemon holds two to the same broker.
        self.name = name
        self.client_id = client_id
        self.carries = carries
        self.clock = clock
        self.handle = on_message
        # A kept session makes the broker queue this link's QoS 1 messages while it is away.
        self.keep_session = keep_session
        self.connected_hook = on_connect
        self.disconnected_hook = on_disconnect
        self.attempt = 0  # connections in a row that did not become ready: the backoff grows
        self.subscriptions: list[tuple[str, int]] = []
        self.connected = threading.Event()
        self.stopping = threading.Event()
        self.heartbeat = clock.monotonic()
        self.last_error = ""
        self.refusal = ""
        self.dropped = 0  # messages paho refused to queue (status `dropped`)
        self.dropped_logged = -DROP_LOG_EVERY_S
        self.rng = random.Random()
        self.probe = probe
        self.probe_mid: int | None = None  # the probe awaiting its answer
        self.probe_sent = 0.0  # monotonic
        self.answered = 0.0  # monotonic: the broker's last answer to a probe (or the CONNACK)
        self.client = make_client(cfg, client_id=client_id, password=password)
        self.client.max_queued_messages_set(MAX_QUEUED)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_unsubscribe = self._on_unsubscribe
        self.client.on_socket_register_write = lambda *_: None
        self.client.on_socket_unregister_write = lambda *_: None
        if will is not None:
            self.client.will_set(will.topic, will.payload, qos=1, retain=True)
        self.thread = threading.Thread(target=self._run, name=f"mqtt:{client_id}", daemon=True)

    def start(self, subscriptions: list[tuple[str, int]]) -> None:
        self.subscriptions = subscriptions
        self.thread.start()

    def problem(self, hung_after_s: float) -> str:
        """Why this connection's thread is unhealthy, or ''."""
        if not self.thread.is_alive():
            return f"the MQTT network thread {self.thread.name} died"
        silent = self.clock.monotonic() - self.heartbeat
        if silent > hung_after_s:
            return f"the MQTT network thread {self.thread.name} is stuck ({silent:.0f} s)"
        return ""

    def publish(self, topic: str, payload: str | bytes, qos: int = 1, retain: bool = False,
                correlation: bytes | None = None) -> paho.MQTTMessageInfo:
        props = None
        if correlation is not None:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.CorrelationData = correlation
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        if info.rc == MQTTErrorCode.MQTT_ERR_NO_CONN and qos > 0:
            # paho keeps a QoS 1 message published while disconnected and sends it once
            # connected again, but marks it failed for good: mark it queued, which it is, so
            # waiting for it waits for the broker's acknowledgement.
            info.rc = MQTTErrorCode.MQTT_ERR_SUCCESS
        elif info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            self.dropped += 1
            now = self.clock.monotonic()
            if now - self.dropped_logged >= DROP_LOG_EVERY_S:
                self.dropped_logged = now
                log.warning("publish to %s dropped: %s (%d dropped since start)", topic,
                            paho.error_string(info.rc), self.dropped)
        return info

    def send_now(self) -> None:
        """On this connection's own thread (in a message handler): write what is queued at
        once, instead of after the handler returns and the loop comes round to select() again,
        where it would give up the GIL and have to win it back first. Elsewhere: nothing (only
        this thread writes to the socket)."""
        if threading.current_thread() is self.thread:
            self.client.loop_write()

    def stop(self, last: Will | None = None, timeout: float = 2.0) -> None:
        """Publish a last message (e.g. offline status), disconnect, end the thread."""
        if last is not None and self.connected.is_set():
            info = self.client.publish(last.topic, last.payload, qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):  # not connected any more
                info.wait_for_publish(timeout)
        self.stopping.set()
        self.client.disconnect()
        self.thread.join(timeout)

    def _run(self) -> None:
        while not self.stopping.is_set():
            self.heartbeat = self.clock.monotonic()
            self.refusal = ""
            try:
                props = None
                if self.keep_session:
                    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
                    props.SessionExpiryInterval = SESSION_EXPIRY_S
                self.client.connect(self.cfg.host, self.cfg.port, self.cfg.keepalive_s,
                                    clean_start=not self.keep_session, properties=props)
                no_delay(self.client.socket())
                while not self.stopping.is_set():
                    self.heartbeat = self.clock.monotonic()
                    rc = self.client.loop(LOOP_TIMEOUT_S)
                    if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                        # The broker's own reason ("Not authorized") says more than paho's.
                        self.last_error = self.refusal or paho.error_string(rc)
                        break
                    silent = self._probe()
                    if silent:
                        self.last_error = silent
                        log.warning("MQTT broker %s:%d: %s; closing the connection",
                                    self.cfg.host, self.cfg.port, silent)
                        self.client.disconnect()  # the loop below closes the socket
                        break
            except (OSError, ssl.SSLError, ValueError) as exc:
                self.last_error = str(exc) or type(exc).__name__
            if self.connected.is_set():
                self.connected.clear()
                self.disconnected_hook()
            if self.stopping.is_set():
                break
            delay = backoff_delay(self.attempt, self.rng)
            self.attempt += 1
            log.warning("%s MQTT link: broker %s:%d unreachable (%s); retrying in %.1f s",
                        self.name, self.cfg.host, self.cfg.port, self.last_error, delay,
                        extra=story("link", link=self.name, state="down",
                                    broker=f"{self.cfg.host}:{self.cfg.port}",
                                    error=self.last_error))
            deadline = self.clock.monotonic() + delay
            while not self.stopping.wait(min(1.0, max(0.0, deadline - self.clock.monotonic()))):
                self.heartbeat = self.clock.monotonic()  # waiting is not being stuck
                if self.clock.monotonic() >= deadline:
                    break

    def _probe(self) -> str:
        """While connected: ask the broker for an answer now and then; why the connection is
        dead when the last question has waited too long, else ''."""
        if self.probe is None or not self.connected.is_set():
            return ""
        now = self.clock.monotonic()
        every = self.probe.answer_within_s / PROBES_PER_TIMEOUT
        if self.probe_mid is not None:
            if now - self.probe_sent > self.probe.answer_within_s - every:
                return f"no answer from the broker for {now - self.answered:.2f} s"
        elif now - self.answered >= every:
            rc, mid = self.client.unsubscribe(self.probe.topic)
            if rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                self.probe_mid, self.probe_sent = mid, now
        return ""

    def _on_unsubscribe(self, client: paho.Client, userdata: Any, mid: int, reasons: Any,
                        props: Any) -> None:
        if mid == self.probe_mid:
            self.probe_mid = None
            self.answered = self.clock.monotonic()

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                    props: Any) -> None:
        if reason.is_failure:
            self.refusal = f"broker refused the connection: {reason}"
            log.error("%s: check mqtt.username and the password", self.refusal)
            return
        if self.subscriptions:
            client.subscribe(self.subscriptions)  # ready once the broker confirms it
        else:
            self._ready()

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int, reasons: Any,
                      props: Any) -> None:
        failed = [f"{topic} ({reason})" for (topic, _), reason in zip(
            self.subscriptions, reasons, strict=False) if getattr(reason, "is_failure", False)]
        if failed:  # e.g. an ACL that does not allow the robot its own topics
            # Not ready: what those topics carry would never arrive. Reconnect with a growing
            # backoff, so a corrected ACL is picked up.
            self.refusal = f"the broker refused subscriptions: {', '.join(failed)[:400]}"
            log.error("%s: check the broker's ACL for this robot's user", self.refusal)
            client.disconnect()
            return
        self._ready()

    def _ready(self) -> None:
        """Only now is the daemon announced online: a command sent on seeing that must not
        reach the broker before the subscription that delivers it."""
        self.attempt = 0
        self.last_error = ""
        self.probe_mid = None
        self.answered = self.clock.monotonic()
        log.info("%s MQTT link up on %s:%d as %s%s", self.name, self.cfg.host, self.cfg.port,
                 self.client_id, f": {self.carries}" if self.carries else "",
                 extra=story("link", link=self.name, state="up",
                             broker=f"{self.cfg.host}:{self.cfg.port}",
                             client_id=self.client_id))
        self.connected.set()
        self.connected_hook()

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any,
                       props: Any) -> None:
        if not self.last_error:  # the hook is told why (the loop may say it better afterwards)
            self.last_error = f"disconnected: {reason}"
        if self.connected.is_set():
            self.connected.clear()
            self.disconnected_hook()

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        props = msg.properties
        response_topic = getattr(props, "ResponseTopic", None) if props else None
        correlation = getattr(props, "CorrelationData", None) if props else None
        try:
            self.handle(Inbound(msg.topic, bytes(msg.payload), response_topic, correlation,
                                bool(msg.retain)))
        except Exception:  # an exception here would end paho's loop: log it, keep serving
            log.exception("handling a message on %s failed", msg.topic)
