"""A hobbyist's first hour: finding the config, errors that say what to do, doctor on the
example, the model runtime not installed, refusals that show what was expected."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agent.cli.doctor import check_signing, check_state_dir, doctor
from agent.config import load_config
from tests.conftest import ROOT, Broker, Client, Running, make_config, start_daemon

ROVER = ROOT / "deploy/examples/rover.toml"
# Run the command line as an installation without the `model` extra would: importing either
# module fails, and importlib.util.find_spec says it is not there.
WITHOUT_RUNTIME = ("import sys; sys.modules['llama_cpp'] = None; sys.modules['numpy'] = None; "
                   "from agent.cli.main import main; sys.exit(main(sys.argv[1:]))")


def robot_agent(*args: str, cwd: Path, env: dict[str, str] | None = None,
                code: str = "from agent.cli import main; import sys; sys.exit(main(sys.argv[1:]))"
                ) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "ROBOT_AGENT_CONFIG"}
    environ["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=cwd, env={**environ, **(env or {})}, timeout=60)


def test_without_a_config_it_says_where_it_looked_and_what_to_do(tmp_path: Path) -> None:
    done = robot_agent("status", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "--config FILE" in lines[0] and "ROBOT_AGENT_CONFIG" in lines[0]
    assert "deploy/examples/rover.toml" in lines[0]


def test_the_config_is_found_in_the_environment_then_the_current_directory(
        tmp_path: Path) -> None:
    by_env = robot_agent("check-config", cwd=tmp_path, env={"ROBOT_AGENT_CONFIG": str(ROVER)})
    assert by_env.returncode == 0 and f"{ROVER}: ok" in by_env.stdout
    (tmp_path / "robot-agent.toml").write_text(ROVER.read_text())
    here = robot_agent("check-config", cwd=tmp_path)
    assert here.returncode == 0 and "robot-agent.toml: ok" in here.stdout


@pytest.mark.parametrize("content, expected", [
    (None, "cannot read it: No such file or directory"),
    ("[device\n", "not valid TOML: Expected ']'"),
])
def test_a_bad_file_is_named_once(tmp_path: Path, content: str | None, expected: str) -> None:
    path = tmp_path / "mine.toml"
    if content is not None:
        path.write_text(content)
    done = robot_agent("check-config", "--config", str(path), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count(str(path)) == 1, done.stderr
    assert f"{path}: {expected}" in done.stderr


def test_doctor_on_the_example_fails_nothing_optional_and_creates_nothing(
        broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "not" / "yet"
    monkeypatch.setenv("ROBOT_AGENT_STATE_DIR", str(state))
    rover = load_config(ROVER)
    config = rover.model_copy(update={"mqtt": rover.mqtt.model_copy(
        update={"port": broker.port})})
    assert doctor(config) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "FAIL" not in out
    assert "signing  ok   no key: the high-risk actions (water_plants) are refused" in out
    assert f"state    ok   {state} does not exist yet" in out
    assert not state.exists() and not state.parent.exists()


def test_doctor_fails_a_state_dir_the_daemon_could_not_create(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    monkeypatch.setenv("ROBOT_AGENT_STATE_DIR", str(locked / "state"))
    try:
        ok, message = check_state_dir(load_config(ROVER))
    finally:
        locked.chmod(0o700)
    if os.geteuid() == 0:  # root may write anywhere: the check rightly passes
        assert ok
    else:
        assert not ok and "cannot be created" in message and "ROBOT_AGENT_STATE_DIR" in message
    assert not (locked / "state").exists()


def test_a_signed_reset_without_a_key_is_still_a_failure() -> None:
    rover = load_config(ROVER)
    config = rover.model_copy(update={"safety": rover.safety.model_copy(
        update={"require_signed_reset": True})})
    ok, message = check_signing(config)
    assert not ok and "could never be reset" in message


def test_interpret_without_the_model_runtime_answers_with_the_matcher(tmp_path: Path) -> None:
    done = robot_agent("interpret", "--config", str(ROVER), "lights on", cwd=tmp_path,
                       code=WITHOUT_RUNTIME)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert '"action": "headlight_on"' in done.stdout and '"decision": "execute"' in done.stdout
    warning = done.stderr.strip().splitlines()
    assert len(warning) == 1 and "scripts/setup --model" in warning[0]
    assert "matcher works alone" in warning[0]


def test_doctor_without_the_model_runtime_says_what_to_install(tmp_path: Path) -> None:
    done = robot_agent("doctor", "--config", str(ROVER), cwd=tmp_path, code=WITHOUT_RUNTIME,
                       env={"ROBOT_AGENT_STATE_DIR": str(tmp_path / "state")})
    model = next(line for line in done.stdout.splitlines() if line.startswith("model"))
    assert model.startswith("model    ok") and "scripts/setup --model" in model


def test_the_daemon_without_the_model_runtime_says_unavailable(
        broker: Broker, client: Client, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agent.text.service.runtime_missing", lambda: "no llama_cpp module")
    running = start_daemon(make_config(broker.port), tmp_path / "state", client,
                           load_model=True)
    try:
        assert client.wait_for("robots/t/status")["model"] == "unavailable"
        assert running.daemon.text.model is None
        client.publish("robots/t/sensors/front", "2.0")
        client.publish("robots/t/ask", {"id": "a1", "text": "turn left"})
        assert client.result("a1", "running")["action"] == "turn"
    finally:
        running.stop()


@pytest.mark.parametrize("topic, expected", [
    ("robots/t/estop/reset", 'expected a reset is {"id","reason"}'),
    ("robots/t/cmd", 'expected a command is {"id","action","params"?}'),
])
def test_a_request_that_is_not_json_is_shown_what_was_expected(
        daemon: Running, client: Client, topic: str, expected: str) -> None:
    client.publish(topic, "reset please")
    result: Any = client.wait_for("robots/t/result", lambda r: r.get("reason") == "malformed")
    assert result["detail"].startswith("not valid JSON")
    assert expected in result["detail"]


def test_an_unknown_action_lists_the_known_ones(daemon: Running, client: Client) -> None:
    client.publish("robots/t/cmd", {"id": "u1", "action": "fly"})
    result = client.result("u1", "refused")
    assert result["reason"] == "unknown_action"
    assert ("this robot has: lights_color, lights_off, move, stop, turn, water"
            in result["detail"])
