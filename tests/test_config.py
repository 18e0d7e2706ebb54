"""check-config: a valid file passes quietly; every problem is named by key path, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli.main import main
from tests.conftest import ROOT

BAD = """
[device]
id = "r"
[sensors.front]
topic = "r/front"
[devices.drive]
kind = "robot"
left = [4, 14]
right = [4, 18]
[devices.lamp]
kind = "rgb_led"
pins = [5, 6]
[devices.arm]
kind = "servo"
[actions.move]
device = "drive"
op = "fly"
[actions.turn]
device = "drive"
op = "turn"
params.direction = { enum = ["left", "up"] }
params.degrees = { type = "number", minimum = 10, maximum = 1, default = 500 }
params.distance_cm = { type = "number" }
[[actions.turn.interlocks]]
sensor = "nope"
[actions.ghost]
device = "nothing"
op = "on"
[actions.spin]
device = "drive"
op = "move"
"""

EXPECTED = [
    "devices.drive: pin 4 is already used by devices.drive",
    "devices.lamp.pins: an rgb_led needs three pins",
    "devices.arm.pin: a servo device needs it",
    "actions.move.op: a robot device has no operation 'fly'",
    "actions.turn.params.direction.enum: direction must be one of ['left', 'right']",
    "actions.turn.params.degrees.minimum: greater than maximum",
    "actions.turn.params.degrees.default: 500 is greater than the maximum of 1.0",
    "actions.turn.params.distance_cm: robot.turn does not use it",
    "actions.turn.interlocks.0.sensor: no sensor named 'nope'",
    "actions.turn.interlocks.0: needs min, max or both",
    "actions.ghost.device: no device named 'nothing'",
    "actions.spin.params: robot.move needs a parameter 'distance_m'",
]


def test_every_cross_check_problem_is_named(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    assert main(["check-config", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    for expected in EXPECTED:
        assert expected in err, expected
    assert len(err.strip().splitlines()) == len(EXPECTED)


TYPE_ERRORS = """
[mqtt]
port = "x"
[devices.horn]
kind = "buzzer"
pin = "sixteen"
[actions.honk]
device = "horn"
op = "beep"
[actions.bad_rate]
device = "drive"
op = "stop"
rate_per_min = "often"
[reactions.beep_when_close]
when = { sensor = "front", below = 0.2, clear = 0.3 }
do = { action = "honk" }
"""


def test_type_errors_and_cross_checks_are_all_named_in_one_pass(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A second kind of error does not wait for the first to be fixed: the cross-checks run on
    every entry without an error of its own, and say nothing of entries that only name one
    with an error (the action of the horn, the reaction of that action)."""
    path = tmp_path / "bad.toml"
    path.write_text(BAD + TYPE_ERRORS)
    assert main(["check-config", "--config", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    types = ["mqtt.port: Input should be a valid integer",
             "devices.horn.pin: Input should be a valid integer",
             "actions.bad_rate.rate_per_min: Input should be a valid integer"]
    for expected in types + EXPECTED:
        assert sum(expected in line for line in lines) == 1, (expected, lines)
    assert len(lines) == len(types) + len(EXPECTED), lines
    assert not any("horn" in line or "honk" in line for line in lines if "devices.horn" not in line)


@pytest.mark.parametrize("text, expected", [
    ('[device]\nid = "Bad Id"\n', "device.id: String should match pattern"),
    ('[device]\nid = "r"\n[mqtt]\nport = "x"\n', "mqtt.port: Input should be a valid integer"),
    ('[device]\nid = "r"\n[mqtt]\ncolour = 1\n', "mqtt.colour: unknown key"),
    ('[device]\nid = "r"\n[actions.m]\ndevice = "d"\nop = "on"\nparams.x = { maximum = "a" }\n',
     "actions.m.params.x.maximum: Input should be a valid number"),
    ("[device\n", "not valid TOML"),
    ("", "device: Field required"),
    ('[device]\nid = "r"\n[mqtt]\nsite_estop_topic = "site/#"\n',
     "mqtt.site_estop_topic: Value error, an MQTT topic without wildcards"),
    ('[device]\nid = "r"\n[mqtt]\nestop_link_timeout_s = 0.1\n',
     "mqtt.estop_link_timeout_s: Input should be greater than or equal to 0.2"),
    ('[device]\nid = "r"\n[safety]\nlink_loss_stop_s = -1\n',
     "safety.link_loss_stop_s: Input should be greater than or equal to 0"),
    ('[device]\nid = "r"\n[sim]\nworld = "maybe"\n', "sim.world: Input should be a valid boolean"),
])
def test_type_errors_are_named_by_key_path(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           text: str, expected: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    assert main(["check-config", "--config", str(path)]) == 2
    assert expected in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--config", str(tmp_path / "none.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err


SHIPPED = [*sorted((ROOT / "deploy/examples").glob("*.toml")),
           ROOT / "scripts/eval-data/home-rover.toml"]


@pytest.mark.parametrize("path", SHIPPED)
def test_shipped_configs_are_valid_and_quiet(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is not beside this checkout")
    done = subprocess.run([sys.executable, "-m", "agent.cli", "check-config", "--config",
                           str(path)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.count("\n") == 1


def test_escalate_threshold_above_execute_threshold_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[device]\nid = "r"\n[model]\nexecute_threshold = 0.8\n'
                    'escalate_threshold = 0.85\n')
    assert main(["check-config", "--config", str(path)]) == 2
    assert "model.escalate_threshold: 0.85 is above execute_threshold 0.8" in \
        capsys.readouterr().err
    path.write_text('[device]\nid = "r"\n[model]\nexecute_threshold = 0.8\n'
                    'escalate_threshold = 0.8\n')
    assert main(["check-config", "--config", str(path)]) == 0
