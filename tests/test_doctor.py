"""`robot-agent doctor` on what a real robot gets wrong: a broker anyone may use, and a pin
factory that cannot drive the configured devices (gpiozero's native one has no PWM)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from agent.cli.doctor import Warn, check_broker, check_pin_factory, doctor
from agent.config import Config
from agent.devices import pins
from agent.devices.sim_pins import sim_factory
from tests.conftest import Broker, make_config


def on_the_pi(config: Config) -> Config:
    """The config as on a robot: real pins (gpiozero's default factory)."""
    return config.model_copy(update={"gpio": config.gpio.model_copy(
        update={"pin_factory": "auto"})})


def with_user(config: Config, tmp_path: Path, user: str, password: str) -> Config:
    secret = tmp_path / "mqtt-password"
    secret.write_text(password + "\n")
    return config.model_copy(update={"mqtt": config.mqtt.model_copy(
        update={"username": user, "password_file": str(secret)})})


@pytest.fixture
def readable() -> Iterator[Path]:
    """World-readable: mosquitto started as root runs as its own user."""
    d = Path(tempfile.mkdtemp(prefix="robot-agent-doctor-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d)


def password_broker(directory: Path, anonymous: bool) -> Broker:
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(directory / "passwd"), "robot", "pw"],
                   check=True, capture_output=True)
    (directory / "passwd").chmod(0o644)
    return Broker.configured(directory, f"allow_anonymous {str(anonymous).lower()}\n"
                                        f"password_file {directory}/passwd\npersistence false\n")


def test_an_anonymous_broker_is_a_warning_with_the_fix_on_a_real_robot(broker: Broker) -> None:
    sim = make_config(broker.port)
    assert check_broker(sim) == (True, f"127.0.0.1:{broker.port} accepts anonymous")
    assert not isinstance(check_broker(sim)[1], Warn)  # a simulation drives nothing real
    ok, message = check_broker(on_the_pi(sim))
    assert ok and isinstance(message, Warn)
    assert "anyone who can reach it can drive this robot" in message
    assert "allow_anonymous false" in message and "password_file" in message


@pytest.mark.parametrize("anonymous", [True, False])
def test_a_broker_with_passwords_is_only_a_warning_while_it_lets_anyone_in(
        tmp_path: Path, readable: Path, anonymous: bool) -> None:
    broker = password_broker(readable, anonymous)
    try:
        config = with_user(on_the_pi(make_config(broker.port)), tmp_path, "robot", "pw")
        ok, message = check_broker(config)
    finally:
        broker.stop()
    assert ok and message.startswith(f"127.0.0.1:{broker.port} accepts robot")
    assert isinstance(message, Warn) == anonymous
    assert ("and anonymous clients too" in message) == anonymous


def test_doctor_prints_a_warning_as_warn_and_still_exits_0(
        broker: Broker, capsys: pytest.CaptureFixture[str]) -> None:
    config = on_the_pi(make_config(broker.port))
    assert doctor(config, [("broker", check_broker)]) == 0
    assert capsys.readouterr().out.startswith(f"broker   WARN 127.0.0.1:{broker.port} accepts "
                                              "anonymous: anyone")


def test_the_pin_factory_is_named_and_fails_without_pwm_for_devices_that_need_it(
        broker: Broker) -> None:
    config = on_the_pi(make_config(broker.port))  # a robot drive and a colour lamp: PWM
    assert pins.needing_pwm(config.devices) == ["drive", "lamp"]
    ok, message = check_pin_factory(config, MockFactory())  # MockPin: no PWM, as native
    assert not ok
    assert "pin factory MockFactory (MockPin) has no PWM, which drive, lamp need" in message
    assert "install lgpio" in message and "docs/wiring.md" in message
    assert check_pin_factory(config, MockFactory(pin_class=MockPWMPin)) == (
        True, "pin factory MockFactory (MockPWMPin), with PWM")
    relay_only = config.model_copy(update={"devices": {"pump": config.devices["pump"]},
                                           "actions": {}})
    assert check_pin_factory(relay_only, MockFactory()) == (
        True, "pin factory MockFactory (MockPin), no PWM (no configured device needs it)")


def test_gpiozeros_native_factory_is_known_to_have_no_pwm_and_the_others_to_have_it() -> None:
    from gpiozero.pins.native import Native2711Pin, Native2835Pin

    class Factory:
        def __init__(self, pin_class: type) -> None:
            self.pin_class = pin_class

    assert not pins.can_pwm(Factory(Native2711Pin)) and not pins.can_pwm(Factory(Native2835Pin))
    assert pins.can_pwm(sim_factory())  # the simulation's pins
    assert pins.name_of(sim_factory()) == "MockFactory (SimPin)"
    assert pins.name_of(None) == "none loaded (no GPIO device)"
