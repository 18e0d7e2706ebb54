"""Remote commands: talk to a running daemon over MQTT with the robot's own config
(`robot-agent estop | reset | status | send | schedules`)."""

from __future__ import annotations

import contextlib
import json
import queue
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho

from agent.config import Config, state_dir
from agent.core.secrets import CREDENTIALS, read_secret
from agent.mqtt.connection import make_client
from agent.mqtt.homeassistant import MARKER, discovery_payload, discovery_topic
from agent.safety.signing import sign


@dataclass(frozen=True)
class Identity:
    """Who the command connects as, when not as the robot (`--username`, `--password-file`):
    an operator, who may write the site's e-stop topic (deploy/mosquitto/site.acl)."""

    username: str
    password_file: str


class RemoteClient:
    """A short-lived MQTT client that publishes and waits for an answer."""

    def __init__(self, config: Config, timeout: float = 5.0,
                 identity: Identity | None = None) -> None:
        self.config = config
        self.prefix = config.prefix
        self.timeout = timeout
        self.inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        cfg = config.mqtt
        if identity is not None:
            cfg = cfg.model_copy(update={"username": identity.username,
                                         "password_file": identity.password_file})
        password = (read_secret(cfg.password_file, CREDENTIALS["mqtt_password"])
                    if cfg.username else None)
        self.mqtt = cfg
        self.client = make_client(cfg, client_id=f"robot-agent-cli-{uuid.uuid4().hex[:8]}",
                                  password=password.decode() if password else None)
        self.client.on_message = self._on_message
        self.refused: dict[int, str] = {}  # mid: why the broker refused a publish (MQTT 5)
        self.client.on_publish = self._on_publish

    def __enter__(self) -> RemoteClient:
        cfg = self.mqtt
        self.client.connect(cfg.host, cfg.port, keepalive=30)
        self.client.loop_start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_message(self, client: Any, userdata: Any, msg: paho.MQTTMessage) -> None:
        with contextlib.suppress(ValueError):  # not JSON: not an answer to us
            self.inbox.put((msg.topic, json.loads(msg.payload)))

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any,
                    props: Any) -> None:
        if getattr(reason, "is_failure", False):
            self.refused[mid] = str(reason)

    def subscribe(self, *topics: str) -> None:
        # The broker handles one connection's packets in order: this subscription is in place
        # before anything published after it.
        self.client.subscribe([(f"{self.prefix}/{t}", 1) for t in topics])

    def publish(self, topic: str, payload: Any) -> None:
        info = self.client.publish(f"{self.prefix}/{topic}", json.dumps(payload), qos=1)
        info.wait_for_publish(self.timeout)

    def wait(self, topic: str, match: Any = lambda _: True) -> Any | None:
        deadline = time.monotonic() + self.timeout
        full = f"{self.prefix}/{topic}"
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                got_topic, data = self.inbox.get(timeout=remaining)
            except queue.Empty:
                return None
            if got_topic == full and match(data):
                return data
        return None

    def signed(self, message: dict[str, Any]) -> dict[str, Any]:
        key = read_secret(self.config.safety.signing_key_file, CREDENTIALS["signing_key"])
        if key is None:
            raise RuntimeError("no signing key: set safety.signing_key_file")
        message = {**message, "ts": time.time()}
        message["sig"] = sign(message, key)
        return message


def estop(config: Config, reason: str, site: bool = False,
          identity: Identity | None = None) -> int:
    """Engage this robot's e-stop (with site, every robot's on the site's e-stop topic), and
    wait for the state that echoes this request's id: a retained state of an earlier e-stop is
    no confirmation of this one."""
    topic = config.mqtt.site_estop_topic
    if site and not topic:
        print("estop --site: no [mqtt] site_estop_topic in this config", file=sys.stderr)
        return 2
    eid = f"cli-estop-{uuid.uuid4().hex[:8]}"
    request = {"id": eid, "reason": reason, "source": "cli"}
    with RemoteClient(config, identity=identity) as c:
        c.subscribe("estop/state")
        if site:
            info = c.client.publish(topic, json.dumps(request), qos=1)
            info.wait_for_publish(c.timeout)
            if info.mid in c.refused:
                print(f"estop --site: the broker refused to publish on {topic} "
                      f"({c.refused[info.mid]}): only an operator may (--username operator "
                      "--password-file ...)", file=sys.stderr)
                return 1
            print(f"site e-stop sent on {topic}: every robot subscribed to it engages")
        else:
            c.publish("estop", request)
        state = c.wait("estop/state", lambda s: s.get("engaged") is True and
                       s.get("request_id") == eid)
    if state is None:
        print(f"{'this robot' if site else 'estop'}: no engaged state came back from "
              f"{config.prefix}: is the daemon running?")
        return 0 if site else 1
    print(f"{config.prefix}: e-stop ENGAGED ({state['source']}: {state['reason']})")
    return 0


def reset(config: Config, reason: str, signed: bool) -> int:
    rid = f"cli-reset-{uuid.uuid4().hex[:8]}"
    message: dict[str, Any] = {"id": rid, "reason": reason, "source": "cli"}
    with RemoteClient(config) as c:
        if signed or config.safety.require_signed_reset:
            message = c.signed(message)
        c.subscribe("result")
        c.publish("estop/reset", message)
        result = c.wait("result", lambda r: r.get("id") == rid)
    return _print_result(result)


def send(config: Config, action: str, params: dict[str, Any], signed: bool) -> int:
    rid = f"cli-{uuid.uuid4().hex[:8]}"
    message: dict[str, Any] = {"id": rid, "action": action, "params": params}
    wait_s = config.actions[action].max_duration_s + 2 if action in config.actions else 5.0
    with RemoteClient(config, timeout=wait_s) as c:
        if signed:
            message = c.signed(message)
        c.subscribe("result")
        c.publish("cmd", message)
        result = c.wait("result", lambda r: r.get("id") == rid)
        code = _print_result(result)
        if result is not None and result.get("status") == "running":
            code = _print_result(c.wait("result", lambda r: r.get("id") == rid and
                                        r.get("status") != "running"))
    return code


def status(config: Config) -> int:
    with RemoteClient(config, timeout=2.0) as c:
        c.subscribe("status", "estop/state")
        state = c.wait("status")
        latch = c.wait("estop/state")
    if state is None:
        print(f"status: nothing on {config.prefix}/status: the daemon has never run here, or "
              "the broker lost its retained messages")
        return 1
    print(f"daemon: {state.get('state')}  version {state.get('version', '?')}  model "
          f"{state.get('model', '?')}  cloud {state.get('cloud', '?')}  e-stop link "
          f"{state.get('estop_connection', '?')}"
          + (f"  bridge {state['bridge']}" if "bridge" in state else ""))
    if state.get("link_lost"):
        print("LINK LOST: motion is stopped and refused until the e-stop link is back")
    last = state.get("last_link_loss")
    if isinstance(last, dict):
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last.get("since") or 0))
        print(f"last link loss: {since}, down {last.get('down_s')} s ({last.get('cause')}); "
              f"stopped: {', '.join(last.get('stopped') or []) or 'nothing was moving'} "
              f"({state.get('link_losses')} since start)")
    if latch is not None:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(latch.get("since", 0)))
        print(f"e-stop: {'ENGAGED' if latch['engaged'] else 'released'} since {since} "
              f"({latch.get('source')}: {latch.get('reason')})")
    if isinstance(state.get("schedules"), dict):
        print(f"schedules: {state['schedules'].get('pending')} pending, store "
              f"{state['schedules'].get('store')}")
    if "cloud_cost_today" in state:
        budget = state.get("cloud_budget_per_day")
        print(f"cloud cost today: {state['cloud_cost_today']:.6f} of "
              f"{'no limit' if budget is None else f'a budget of {budget:g}'}")
    return 0 if state.get("state") == "online" else 1


def discovery(config: Config, remove: bool) -> int:
    """Print the discovery message; or remove it (and any an earlier config left, as recorded
    in the state directory) with an empty retained message, as deploy/install.sh
    --uninstall does."""
    topic = discovery_topic(config)
    if not remove:
        state = ("published by the daemon" if config.homeassistant.enabled else
                 "not published: [homeassistant] enabled = false")
        print(f"# {topic} (retained; {state})")
        print(json.dumps(discovery_payload(config), indent=2, ensure_ascii=False))
        return 0
    marker = state_dir() / MARKER
    topics = {topic}
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        topics.add(str(json.loads(marker.read_text(encoding="utf-8"))["topic"]))
    with RemoteClient(config) as c:
        for each in sorted(topics):
            c.client.publish(each, b"", qos=1, retain=True).wait_for_publish(c.timeout)
            print(f"removed {each}")
    marker.unlink(missing_ok=True)
    return 0


def schedules(config: Config, cancel: str | None, cancel_all: bool) -> int:
    """List the pending schedules (the retained P/schedule), or cancel one or all of them."""
    with RemoteClient(config, timeout=3.0) as c:
        c.subscribe("schedule", "result")
        if cancel is None and not cancel_all:
            entries = c.wait("schedule")
        else:
            rid = f"cli-cancel-{uuid.uuid4().hex[:8]}"
            c.publish("schedule/cancel", {"id": rid, "all": True} if cancel_all
                      else {"id": rid, "schedule_id": cancel})
            return _print_result(c.wait("result", lambda r: r.get("id") == rid))
    if entries is None:
        print(f"schedules: nothing on {config.prefix}/schedule: is the daemon running?")
        return 1
    if not entries:
        print("no pending schedules")
    for e in entries:
        print(f"{e['schedule_id']}  {e['at']}  {e['action']} {json.dumps(e['params'])}  "
              f"id={e['id']}" + (f"  {e['recurring']}" if e.get("recurring") else "") +
              (f"  text={json.dumps(e['text'])}" if e.get("text") else ""))
    return 0


def _print_result(result: Any) -> int:
    """The result as JSON on stdout; for one that did not go through, what went wrong in words
    on stderr too ("refused, invalid_params: move has no parameter 'distnce_m' (did you mean
    distance_m?) ...")."""
    if result is None:
        print("no result came back: is the daemon running?")
        return 1
    print(json.dumps(result), flush=True)
    if result.get("status") in ("done", "running"):
        return 0
    why = f", {result['reason']}" if result.get("reason") else ""
    print(f"{result.get('status')}{why}: {result.get('detail') or result.get('question', '')}",
          file=sys.stderr)
    return 1
