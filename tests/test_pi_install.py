"""On a Raspberry Pi the install pulls the GPIO library gpiozero needs (lgpio), on nothing else.

pip cannot show this from here: `pip download --platform manylinux_2_34_aarch64 .` evaluates
environment markers against the interpreter it runs on ("Ignoring lgpio: markers ... don't
match your environment" on x86), so the dependencies are resolved against a Pi's environment
with `packaging`, the library pip's own resolver uses for markers and versions. Which wheel the
registry has for a Pi was checked by hand (docs/wiring.md)."""

from __future__ import annotations

import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.conftest import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pulled(machine: str, system: str = "linux") -> dict[str, Requirement]:
    """The project's dependencies installed on a machine with Python 3.11."""
    env = {"platform_machine": machine, "sys_platform": system, "python_version": "3.11",
           "python_full_version": "3.11.2", "platform_system": system.capitalize(),
           "os_name": "posix", "implementation_name": "cpython", "extra": "systemd"}
    reqs = [Requirement(line) for line in PROJECT["dependencies"]]
    return {r.name: r for r in reqs if r.marker is None or r.marker.evaluate(env)}


@pytest.mark.parametrize("machine", ["aarch64", "armv7l", "armv6l"])
def test_a_pi_gets_lgpio_and_not_the_empty_placeholder(machine: str) -> None:
    deps = pulled(machine)
    assert "gpiozero" in deps and "lgpio" in deps
    versions = deps["lgpio"].specifier
    assert Version("0.2.2.0") in versions  # the release with cp311 wheels (aarch64, armv7l)
    assert Version("0.0.0.2") not in versions  # an empty lgpio.py on the registry: never wanted


@pytest.mark.parametrize("machine, system", [("x86_64", "linux"), ("arm64", "darwin"),
                                             ("aarch64", "win32")])
def test_nothing_else_gets_it(machine: str, system: str) -> None:
    deps = pulled(machine, system)
    assert "lgpio" not in deps and "gpiozero" in deps


def test_the_unit_gives_lgpio_a_writable_directory_for_its_pipes() -> None:
    """lgpio makes a FIFO for each input with a callback (the e-stop button) in $LG_WD, else
    in the working directory: / in the unit, read-only under ProtectSystem=strict."""
    unit = (ROOT / "systemd/robot-agent.service").read_text().splitlines()
    assert "ProtectSystem=strict" in unit
    assert "RuntimeDirectory=robot-agent" in unit
    assert "Environment=LG_WD=/run/robot-agent" in unit
