"""The robot-agent command line (CONTRACT section 4). Exit codes: 0 ok, 1 runtime failure,
2 bad usage or bad configuration."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent import __version__
from agent.config import Config, ConfigError, config_path, load_config, stays_on
from agent.core.journal import setup_logging
from agent.core.secrets import CREDENTIALS, SecretError, read_secret

if TYPE_CHECKING:
    from agent.daemon import Daemon

log = logging.getLogger("agent")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="robot-agent", description=__doc__)
    parser.add_argument("--version", action="version", version=f"robot-agent {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the daemon")
    run.add_argument("--sim", action="store_true", help="simulate GPIO (pin_factory = mock)")
    run.add_argument("--no-world", action="store_true",
                     help="no simulated sensor readings under --sim (as [sim] world = false)")
    check = sub.add_parser("check-config", help="validate a configuration file")
    interpret = sub.add_parser("interpret", help="interpret text with no MQTT and no GPIO")
    interpret.add_argument("--offline", action="store_true", help="as if the cloud were down")
    interpret.add_argument("--jsonl", type=Path, metavar="IN",
                           help="one request a line: {\"text\": ...} or plain text; - is stdin")
    interpret.add_argument("--no-model", action="store_true", help="the matcher alone")
    interpret.add_argument("text", nargs="*", help="a request, if no --jsonl")
    estop = sub.add_parser("estop", help="engage the e-stop of a running daemon")
    estop.add_argument("--reason", default="robot-agent estop from the command line")
    estop.add_argument("--site", action="store_true",
                       help="every robot's: publish on [mqtt] site_estop_topic")
    fleet = sub.add_parser("fleet", help="every robot on the broker")
    fleet.add_argument("what", choices=["status"])
    fleet.add_argument("--prefix", default="robots/+",
                       help="the robots' prefixes, + for any one level (default robots/+)")
    fleet.add_argument("--wait", type=float, default=2.0, metavar="S",
                       help="wait at most this long for the retained messages")
    for p in (estop, fleet):
        p.add_argument("--username", help="connect as this MQTT user, not the config's "
                                          "(an operator: the site's e-stop topic is theirs)")
        p.add_argument("--password-file", default="", metavar="FILE",
                       help="that user's password")
    reset = sub.add_parser("reset", help="release the e-stop (nothing resumes)")
    reset.add_argument("--reason", required=True, help="who checked what, e.g. 'area clear, Ana'")
    reset.add_argument("--sign", action="store_true", help="sign with the configured key")
    status = sub.add_parser("status", help="the daemon's status and e-stop state")
    send = sub.add_parser("send", help="send a structured command and wait for its result")
    send.add_argument("action")
    send.add_argument("params", nargs="*", metavar="NAME=VALUE",
                      help="parameters; values are JSON where they parse (0.5, true), else text")
    send.add_argument("--sign", action="store_true", help="sign with the configured key")
    schedules = sub.add_parser("schedules", help="list the pending scheduled actions, or cancel")
    cancel = schedules.add_mutually_exclusive_group()
    cancel.add_argument("--cancel", metavar="SCHEDULE_ID", help="cancel this schedule")
    cancel.add_argument("--cancel-all", action="store_true", help="cancel every schedule")
    doctor = sub.add_parser("doctor", help="check config, broker, model, GPIO, cloud, clock")
    discovery = sub.add_parser("discovery", help="print the Home Assistant discovery message")
    discovery.add_argument("--remove", action="store_true",
                           help="remove it from the broker (Home Assistant forgets the robot)")
    safe = sub.add_parser("safe-outputs", help="drive every output safe after the daemon has "
                                               "exited (the unit's ExecStopPost)")
    safe.add_argument("--sim", action="store_true", help="simulated pins, as run --sim")
    for p in (run, check, interpret, estop, reset, status, send, schedules, doctor,
              discovery, safe, fleet):
        p.add_argument("--config", type=Path, metavar="FILE",
                       help="default: $ROBOT_AGENT_CONFIG, else ./robot-agent.toml, else "
                            "/etc/robot-agent/config.toml")
    args = parser.parse_args(argv)
    setup_logging()
    try:
        args.config = config_path(args.config)
        config = load_config(args.config)
    except ConfigError as exc:
        where = f"{args.config}: " if args.config else ""
        for problem in exc.problems:
            if args.command == "doctor":
                print(f"config   FAIL {where}{problem}")
            else:
                print(f"{where or 'robot-agent: '}{problem}", file=sys.stderr)
        return 2
    if args.command == "check-config":
        indefinite = stays_on(config)
        print(f"{args.config}: ok ({len(config.devices)} devices, {len(config.actions)} "
              f"actions, {len(config.sensors)} sensors); "
              + ("may stay on indefinitely (stays_on): " + ", ".join(indefinite) if indefinite
                 else "every output goes safe at its action's max_duration_s at the latest"))
        return 0
    if args.command == "interpret":
        return interpret_texts(config, args)
    if args.command == "run":
        return run_daemon(config, sim=args.sim, world=not args.no_world)
    if args.command == "safe-outputs":
        return make_outputs_safe(config, sim=args.sim)
    return remote_command(config, args)


def remote_command(config: Config, args: argparse.Namespace) -> int:
    import json

    from agent.cli import remote
    from agent.cli.doctor import doctor
    from agent.cli.fleet import fleet_status

    if args.command == "doctor":
        print(f"config   ok   {args.config}")
        return doctor(config)
    identity = (remote.Identity(args.username, args.password_file)
                if getattr(args, "username", None) else None)
    try:
        if args.command == "estop":
            return remote.estop(config, args.reason, args.site, identity)
        if args.command == "fleet":
            return fleet_status(config, args.prefix, args.wait, identity)
        if args.command == "reset":
            return remote.reset(config, args.reason, args.sign)
        if args.command == "status":
            return remote.status(config)
        if args.command == "discovery":
            return remote.discovery(config, remove=args.remove)
        if args.command == "schedules":
            return remote.schedules(config, args.cancel, args.cancel_all)
        params: dict[str, Any] = {}
        for item in args.params:
            name, sep, value = item.partition("=")
            if not sep:
                print(f"send: {item!r} is not NAME=VALUE", file=sys.stderr)
                return 2
            try:
                params[name] = json.loads(value)
            except json.JSONDecodeError:
                params[name] = value
        return remote.send(config, args.action, params, args.sign)
    except (OSError, RuntimeError, SecretError) as exc:
        print(f"{args.command}: {exc}", file=sys.stderr)
        return 1


EXTRAS = ("question", "answer", "at", "recurring", "plan", "cancel")  # shown when present


def interpret_texts(config: Config, args: argparse.Namespace) -> int:
    """One JSON line per request, in order; judged against the static policy only."""
    import json

    from agent.interpret import (
        Interpreter,
        ModelError,
        RuntimeMissing,
        load_reader,
        load_scorer,
    )
    from agent.safety.gate import Gate
    from agent.text.decide import decide_statically

    if args.jsonl is None and not args.text:
        print("interpret: give a TEXT or --jsonl IN", file=sys.stderr)
        return 2
    scorer = None
    if not args.no_model:
        try:
            scorer = load_scorer(config)
        except RuntimeMissing as exc:  # the model is optional: say so once, then go on
            print(f"interpret: {exc}; until then the matcher works alone", file=sys.stderr)
        except ModelError as exc:
            log.error("%s", exc)
            return 1
    interpreter = Interpreter(config, scorer)
    if scorer is not None and config.model.adapter:
        try:
            interpreter.reader = load_reader(config, config.model.adapter)
        except ModelError as exc:  # another base: as the daemon, without the adapter
            print(f"interpret: {exc}; reading without the adapter", file=sys.stderr)
    gate = Gate.static(config)
    cloud = "offline" if args.offline else "disabled"
    for text in _requests(args):
        out = decide_statically(interpreter.interpret(text), config, gate, cloud=cloud)
        line = {"text": text, "action": out.action, "params": out.params,
                "confidence": out.confidence, "route": out.route, "decision": out.decision,
                "reason": out.reason, "latency_ms": round(out.latency_ms, 3)}
        line.update({key: out.extra[key] for key in EXTRAS if out.extra.get(key)})
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return 0


def _requests(args: argparse.Namespace) -> Any:
    import json

    if args.jsonl is None:
        yield " ".join(args.text)
        return
    lines = (sys.stdin.read() if str(args.jsonl) == "-"
             else args.jsonl.read_text(encoding="utf-8")).splitlines()
    for raw in lines:
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError:
            item = raw.strip()
        yield str(item.get("text", "")) if isinstance(item, dict) else str(item)


def load_secrets(config: Config) -> dict[str, bytes]:
    found = {
        "mqtt_password": read_secret(config.mqtt.password_file, CREDENTIALS["mqtt_password"]),
        "signing_key": read_secret(config.safety.signing_key_file, CREDENTIALS["signing_key"]),
    }
    return {name: value for name, value in found.items() if value is not None}


def pin_factory(config: Config, sim: bool) -> Any:
    if sim or config.gpio.pin_factory == "mock":
        from agent.devices.sim_pins import sim_factory

        safety = config.safety
        nc_button = safety.estop_button_pin and safety.estop_button_contact == "nc"
        return sim_factory(closed=(safety.estop_button_pin,) if nc_button else ())
    return None  # gpiozero picks the Pi's own


def make_outputs_safe(config: Config, sim: bool) -> int:
    from agent.cli.safe_outputs import safe_outputs
    from agent.config import state_dir

    try:
        code = safe_outputs(config, pin_factory(config, sim), state_dir=state_dir(),
                            service_result=os.environ.get("SERVICE_RESULT", ""),
                            exit_status=os.environ.get("EXIT_STATUS", ""))
    except (SecretError, OSError) as exc:
        print(f"safe-outputs: {exc}", file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # Without gpiozero's clean-up at exit, which would release every line as a floating input:
    # they stay driven at their safe level.
    os._exit(code)


def run_daemon(config: Config, sim: bool, world: bool = True) -> int:
    """world: False for `--no-world` (the config's `[sim] world` is read as well)."""
    from agent.cli.systemd import Service, systemd_notify, watchdog_interval
    from agent.config import state_dir
    from agent.core.journal import DecisionLog, journal_sender
    from agent.daemon import Daemon

    try:
        secrets = load_secrets(config)
        notify = systemd_notify()
        daemon = Daemon(config, pin_factory=pin_factory(config, sim), state_dir=state_dir(),
                        secrets=secrets, decision_log=DecisionLog(journal_sender()))
        if notify is not None:
            service = Service(daemon, notify, watchdog_interval())
            daemon.on_stopping = service.stopping
            service.start()
    except SecretError as exc:
        log.error("%s", exc)
        return 2
    except Exception as exc:  # e.g. no GPIO on this machine: say so plainly
        log.error("cannot start: %s: %s (on a machine without GPIO, use --sim)",
                  type(exc).__name__, exc)
        return 1

    def stop(signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        log.info("received %s: stopping (outputs go safe first)", name)
        daemon.request_stop(f"received {name}" + (" from systemd" if name == "SIGTERM" and
                                                  os.environ.get("INVOCATION_ID") else ""))

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        daemon.start()
        if world and wants_sim_world(config, sim):
            start_sim_world(daemon)
        return daemon.run_until_stopped()
    except BaseException as exc:
        log.exception("fatal error")
        daemon.fail(f"fatal error: {type(exc).__name__}: {exc}")
        return 1


def wants_sim_world(config: Config, sim: bool) -> bool:
    """Simulated readings and camera frames: on mock pins, unless `[sim] world = false`."""
    return (sim or config.gpio.pin_factory == "mock") and config.sim.world


def start_sim_world(daemon: Daemon) -> None:
    """Simulated sensors for the simulated robot: a room, a battery, a bumper, cameras
    (agent.sensing.sim_world)."""
    from agent.sensing.sim_world import SimWorld

    SimWorld(daemon.config, daemon.outputs,
             lambda topic, payload: daemon.connection.publish(topic, payload, qos=0),
             clock=daemon.clock, stopping=daemon.stopping).start()
    log.info("simulation: the robot is in a 2.5 m room, 2 m from a wall; simulated sensors "
             "publish ten times a second, cameras a frame a second (agent/sensing/sim_world.py;"
             " [sim] world = false turns it off)")

