"""`robot-agent doctor`: check each part a robot needs, one line each, with what to do."""

from __future__ import annotations

import contextlib
import glob
import os
import statistics
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.config import Config, MqttConfig, state_dir
from agent.core.secrets import CREDENTIALS, SecretError, read_secret
from agent.devices import pins
from agent.mqtt.connection import make_client, no_delay
from agent.safety.signing import used_ids_problem

Check = Callable[[Config], tuple[bool, str]]


class Warn(str):
    """A check's message that passes but should be fixed: doctor prints WARN, exit code 0."""


def check_broker(config: Config) -> tuple[bool, str]:
    cfg = config.mqtt
    try:
        password = read_secret(cfg.password_file, CREDENTIALS["mqtt_password"])
    except SecretError as exc:
        return False, f"{exc}: check mqtt.password_file"
    try:
        answer = _handshake(cfg, cfg.username, password)
    except (OSError, ValueError) as exc:
        return False, (f"cannot reach {cfg.host}:{cfg.port} ({exc}): is mosquitto running? "
                       "(systemctl status mosquitto)")
    if not answer:
        return False, f"{cfg.host}:{cfg.port} did not answer the MQTT handshake in 5 s"
    if answer != "Success":
        return False, (f"{cfg.host}:{cfg.port} refused the connection: {answer}: check "
                       "mqtt.username and the password file or credential"
                       + _newline_hint(config, answer))
    said = f"{cfg.host}:{cfg.port} accepts {cfg.username or 'anonymous'}"
    if config.gpio.pin_factory == "mock":  # a simulation: nothing real to drive
        return True, said
    with contextlib.suppress(OSError, ValueError):
        if not cfg.username or _handshake(cfg, "", None) == "Success":
            return True, Warn(
                f"{said}{' and anonymous clients too' if cfg.username else ''}: anyone who "
                "can reach it can drive this robot and reset its e-stop. Set `allow_anonymous "
                "false` and a `password_file` in mosquitto's config (sudo deploy/install.sh "
                "does both, with an ACL), and mqtt.username and mqtt.password_file here")
    return True, said


def _handshake(cfg: MqttConfig, username: str, password: bytes | None) -> str:
    """The broker's answer to a connection as username ('' for anonymous): "Success", its
    refusal, or '' when it said nothing in 5 s."""
    client = make_client(cfg.model_copy(update={"username": username}),
                         client_id=f"robot-agent-doctor-{os.getpid()}",
                         password=password.decode() if password else None)
    answer: list[str] = []
    client.on_connect = lambda c, u, f, reason, p: answer.append(str(reason))
    client.connect(cfg.host, cfg.port, keepalive=10)
    deadline = time.monotonic() + 5
    while not answer and time.monotonic() < deadline:
        client.loop(0.1)
    client.disconnect()
    return answer[0] if answer else ""


def _newline_hint(config: Config, refusal: str) -> str:
    """When the broker refuses a password read from a file that ends with a newline: say so."""
    raw = read_secret(config.mqtt.password_file, CREDENTIALS["mqtt_password"],
                      keep_newline=True)
    if "authori" not in refusal.lower() or raw is None or not raw.endswith(b"\n"):
        return ""
    return (" (the password file ends with a newline, as `echo` writes it: robot-agent leaves "
            "one trailing newline out, as mosquitto_passwd and a shell's $(cat file) do; if "
            "the broker's password was set with the newline in it, set it again without)")


ECHOES = 10
SLOW_ECHO_MS = 20.0  # a broker that holds small messages for a delayed ACK takes ~40 ms


def check_latency(config: Config) -> tuple[bool, str]:
    """The e-stop's path as a control stack sees it: one client publishes, another answers as
    the daemon does, the first receives the answer. A broker without set_tcp_nodelay holds that
    answer until the first client's delayed ACK: ~40 ms instead of ~2."""
    try:
        password = read_secret(config.mqtt.password_file, CREDENTIALS["mqtt_password"])
        clients = [_connected(config, f"{os.getpid()}-{n}", password) for n in "ae"]
    except (OSError, ValueError, RuntimeError, SecretError) as exc:
        return True, f"not measured ({exc}): see broker"
    asker, echo = clients
    topic = f"{config.prefix}/doctor/{os.getpid()}"
    try:
        heard = threading.Event()
        asker.on_message = lambda c, u, m: heard.set()
        echo.on_message = lambda c, u, m: c.publish(f"{topic}/back", m.payload, qos=1)
        asker.subscribe(f"{topic}/back", qos=1)
        echo.subscribe(f"{topic}/there", qos=1)
        time.sleep(0.3)  # both subscriptions in place
        ms = []
        for _ in range(ECHOES):
            heard.clear()
            started = time.perf_counter()
            asker.publish(f"{topic}/there", b"ping", qos=1)
            if not heard.wait(2.0):
                return False, "no echo in 2 s: check the broker's ACL for this robot's prefix"
            ms.append((time.perf_counter() - started) * 1000)
            time.sleep(0.01)
    finally:
        for client in clients:
            client.disconnect()
            client.loop_stop()
    median = statistics.median(ms)
    if median > SLOW_ECHO_MS:
        return False, (f"a message and its answer take {median:.0f} ms (p50 of {ECHOES}): the "
                       "broker holds small messages for a delayed ACK. Set `set_tcp_nodelay "
                       "true` in mosquitto.conf: without it every e-stop state and result "
                       "reaches its subscriber ~40 ms late (docs/performance.md)")
    return True, f"a message and its answer: {median:.1f} ms (p50 of {ECHOES})"


def _connected(config: Config, suffix: str, password: bytes | None) -> Any:
    cfg = config.mqtt
    client = make_client(cfg, client_id=f"robot-agent-doctor-{suffix}",
                         password=password.decode() if password else None)
    answer: list[Any] = []
    ready = threading.Event()

    def on_connect(c: Any, u: Any, f: Any, reason: Any, p: Any) -> None:
        answer.append(reason)
        ready.set()

    client.on_connect = on_connect
    client.connect(cfg.host, cfg.port, keepalive=10)
    no_delay(client.socket())  # our side never delays: what is measured is the broker's
    client.loop_start()
    if not ready.wait(5) or answer[0].is_failure:
        client.loop_stop()
        raise RuntimeError(f"the broker refused the connection ({answer[0]})" if answer
                           else "the broker did not answer the MQTT handshake")
    return client


def check_model(config: Config) -> tuple[bool, str]:
    from agent.interpret import ModelError, resolve, runtime_missing

    missing = runtime_missing()
    if missing:  # optional, unless a model file was asked for by name
        return not config.model.path, f"{missing}; meanwhile the matcher works alone"
    try:
        path, name = resolve(config)
    except (ModelError, OSError) as exc:
        return False, f"{exc}: run scripts/fetch_model.py, or fix model.path"
    return True, f"{name} at {path}"


def check_gpio(config: Config) -> tuple[bool, str]:
    if config.gpio.pin_factory == "mock":
        return True, "simulated pins (pin_factory = mock)"
    chips = sorted(glob.glob("/dev/gpiochip*"))
    if not chips:
        return False, "no /dev/gpiochip*: not a Pi? use pin_factory = \"mock\" to simulate"
    denied = [c for c in chips if not os.access(c, os.R_OK | os.W_OK)]
    if denied:
        return False, (f"no access to {', '.join(denied)}: add this user to the gpio group "
                       "(sudo usermod -aG gpio $USER) and log in again")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            factory = pins.default_factory()
        except Exception as exc:
            return False, (f"{', '.join(chips)} accessible, but no pin factory loads: "
                           f"{'; '.join([str(exc), *_passed_over(caught)])}; {INSTALL_LGPIO}")
    try:
        said = "; ".join([f"{', '.join(chips)} accessible", *_passed_over(caught)])
        return check_pin_factory(config, factory, f"{said}; ")
    finally:
        factory.close()


# What gpiozero needs on a Pi: deploy/install.sh installs it (pyproject.toml, aarch64 Linux).
INSTALL_LGPIO = ("install lgpio into robot-agent's venv (sudo /opt/robot-agent/venv/bin/pip "
                 "install lgpio; deploy/install.sh does it on a Pi), docs/wiring.md")


def check_pin_factory(config: Config, factory: Any, said: str = "") -> tuple[bool, str]:
    """The pin factory that loaded, named; a failure when a configured device needs PWM and
    it has none (gpiozero's native factory: the motors would not run)."""
    name = pins.name_of(factory)
    need = pins.needing_pwm(config.devices)
    if need and not pins.can_pwm(factory):
        return False, (f"{said}pin factory {name} has no PWM, which {', '.join(need)} need: "
                       f"{INSTALL_LGPIO}")
    pwm = "with PWM" if pins.can_pwm(factory) else "no PWM (no configured device needs it)"
    return True, f"{said}pin factory {name}, {pwm}"


def _passed_over(caught: list[warnings.WarningMessage]) -> list[str]:
    """gpiozero's reasons for passing over the factories it prefers."""
    return [str(w.message).replace("Falling back from ", "passed over ", 1) for w in caught
            if type(w.message).__name__ == "PinFactoryFallback"]


def check_cloud(config: Config) -> tuple[bool, str]:
    if not config.cloud.enabled:
        return True, "disabled"
    import httpx

    try:
        key = read_secret(config.cloud.api_key_file, CREDENTIALS["cloud_api_key"],
                          "ROBOT_AGENT_CLOUD_API_KEY")
    except SecretError as exc:
        return False, f"{exc}: check cloud.api_key_file"
    headers = {"Authorization": f"Bearer {key.decode().strip()}"} if key else {}
    url = config.cloud.base_url.rstrip("/") + "/models"
    try:
        response = httpx.get(url, headers=headers, timeout=min(config.cloud.timeout_s, 10))
    except httpx.HTTPError as exc:
        return False, f"{url}: {type(exc).__name__}: check the network and cloud.base_url"
    if response.status_code in (401, 403):
        return False, f"{url} says {response.status_code}: check the API key"
    if response.status_code >= 400:
        return False, f"{url} answered HTTP {response.status_code}"
    return True, f"{config.cloud.base_url} reachable"


def check_clock(config: Config) -> tuple[bool, str]:
    year = time.gmtime().tm_year
    if year < 2025:
        return False, (f"the clock says {year}: signed commands and timestamps will be "
                       "refused; enable NTP (timedatectl set-ntp true)")
    return True, time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


def check_state_dir(config: Config) -> tuple[bool, str]:
    """The directory the daemon would use, checked without creating it (doctor changes
    nothing): the daemon creates it at its first start if it can."""
    directory = state_dir()
    fix = ("the e-stop latch could not survive a restart; set ROBOT_AGENT_STATE_DIR (scripts/sim "
           "uses .state/) or install with deploy/install.sh")
    existing = next(p for p in (directory, *directory.parents) if p.exists())
    if not existing.is_dir():
        return False, f"{existing} is not a directory: {fix}"
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "is not writable" if existing == directory else f"cannot be created in {existing}"
        return False, f"{directory} {what}: {fix}"
    if existing != directory:
        return True, f"{directory} does not exist yet; the daemon will create it"
    latch = Path(directory) / "estop.json"
    return True, f"{directory} writable" + (" (latch file present)" if latch.exists() else "")


def check_signing(config: Config) -> tuple[bool, str]:
    try:
        key = read_secret(config.safety.signing_key_file, CREDENTIALS["signing_key"])
    except SecretError as exc:
        return False, f"{exc}: check safety.signing_key_file"
    if config.safety.require_signed_reset and key is None:
        return False, ("require_signed_reset is set but there is no signing key: the e-stop "
                       "could never be reset; set safety.signing_key_file")
    high = sorted(name for name, a in config.actions.items() if a.risk == "high")
    if key is None and high:  # optional: those actions are refused, everything else works
        return True, (f"no key: the high-risk actions ({', '.join(high)}) are refused until "
                      "safety.signing_key_file is set")
    problem, until = used_ids_problem(state_dir() / "signed-ids.json")
    if problem and time.time() < until:
        when = ("until it is repaired" if until == float("inf") else
                time.strftime("until %H:%M:%S", time.localtime(until)))
        return False, (f"signing_unavailable: {problem}: signed commands are refused {when} "
                       "(a minute after it was last written, no id it held can be replayed); "
                       "to repair sooner, stop the daemon, wait a minute, remove the file")
    return True, "key present" if key else "not needed (no high-risk actions, no signed reset)"


CHECKS: list[tuple[str, Check]] = [
    ("broker", check_broker), ("latency", check_latency), ("model", check_model),
    ("gpio", check_gpio),
    ("cloud", check_cloud), ("clock", check_clock), ("state", check_state_dir),
    ("signing", check_signing),
]


def doctor(config: Config, checks: list[tuple[str, Check]] = CHECKS) -> int:
    failed = 0
    for name, check in checks:
        try:
            ok, message = check(config)
        except Exception as exc:  # a check that breaks is a failed check, not a crash
            ok, message = False, f"{type(exc).__name__}: {exc}"
        failed += not ok
        state = "FAIL" if not ok else "WARN" if isinstance(message, Warn) else "ok  "
        print(f"{name:8} {state} {message}", flush=True)
    return 1 if failed else 0
