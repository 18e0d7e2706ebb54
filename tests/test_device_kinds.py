"""A device kind lives in one place: a made-up kind, defined here in one class, is accepted by the
config check, the gate, the interpreter, the answers, `safe-outputs` and the simulated world,
with nothing else changed; and no kind that moves may stay on."""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from agent.cli.safe_outputs import safe_outputs
from agent.config import ConfigError, parse_config
from agent.core.clock import SystemClock
from agent.devices import KINDS, Ops, OpSpec, Output, Params, Publish, Wiring, build_outputs
from agent.interpret import Interpreter
from agent.safety.gate import Gate
from agent.sensing.sim_world import SimWorld
from agent.state.answers import answer
from tests.conftest import ROOT

CONFIG = {
    "device": {"id": "crawly"},
    "devices": {"tracks": {"kind": "crawler", "forward": 20, "backward": 21, "speed_mps": 0.5}},
    "actions": {
        "crawl": {"device": "tracks", "op": "crawl", "description": "crawl forward or back",
                  "params": {"direction": {"enum": ["forward", "backward"],
                                           "default": "forward"},
                             "distance_m": {"type": "number", "minimum": 0.1, "maximum": 2}}},
        "creep": {"device": "tracks", "op": "creep", "description": "creep slowly until stopped"},
        "halt": {"device": "tracks", "op": "halt", "description": "stop the tracks"},
    },
}


@pytest.fixture
def crawler() -> Iterator[type[Output]]:
    """A tracked base that only goes straight: the whole kind, in one class."""

    class Crawler(Output):
        kind = "crawler"
        ops: ClassVar[Ops] = {"crawl": OpSpec({"direction": "forward", "speed": 1.0},
                               frozenset({"distance_m"}), timed=True,
                               choices={"direction": frozenset({"forward", "backward"})}),
               "creep": OpSpec(),
               "halt": OpSpec(safe=True)}
        wiring = ("forward", "backward")
        moves = True
        concept = "crawler"

        @classmethod
        def create(cls, name: str, config: Wiring, pin_factory: Any,
                   publish: Publish) -> Output:
            import gpiozero

            return cls(name, config, gpiozero.Motor(config.forward, config.backward,
                                                    pin_factory=pin_factory))

        @classmethod
        def duration_s(cls, device: Wiring, op: str, params: Params) -> float | None:
            if op != "crawl":
                return None
            return float(params["distance_m"]) / (device.speed_mps * params.get("speed", 1.0))

        @classmethod
        def said(cls, shown: str, be: str, state: Mapping[str, Any], then: str) -> str:
            return f"The {shown} {be} {'crawling' if state.get('value') else 'still'}."

        def drive(self, op: str, p: Params) -> None:
            if op == "halt":
                self.hw.stop()
            elif p.get("direction") == "backward":
                self.hw.backward(0.3 if op == "creep" else p["speed"])
            else:
                self.hw.forward(0.3 if op == "creep" else p["speed"])

        def safe(self) -> None:
            self.hw.stop()
            self.last_op = "safe"

        def motion(self) -> tuple[float, float]:
            return self.config.speed_mps * self.hw.value, 0.0

        def details(self) -> dict[str, Any]:
            return {"value": round(self.hw.value, 3)}

    yield Crawler
    del KINDS["crawler"]


def test_the_config_check_and_the_gate_accept_it(crawler: type[Output]) -> None:
    config = parse_config(CONFIG)
    verdict = Gate.static(config).check_static("crawl", {"distance_m": 1.0})
    assert (verdict.allowed, verdict.duration_s, verdict.safe) == (True, 2.0, False)
    assert Gate.static(config).check_static("halt", {}).safe
    refused = Gate.static(config).check_static("crawl", {"distance_m": 1.0, "direction": "up"})
    assert refused.reason == "invalid_params"


def test_the_interpreter_reads_it(crawler: type[Output]) -> None:
    interpreter = Interpreter(parse_config(CONFIG))
    crawl = interpreter.interpret("crawl forward half a metre")
    assert (crawl.action, crawl.params) == ("crawl", {"direction": "forward", "distance_m": 0.5})
    assert interpreter.interpret("stop").action == "halt"  # the stop of the kind that moves


def test_answers_say_its_state_and_the_sim_world_moves_it(crawler: type[Output]) -> None:
    config = parse_config(CONFIG)
    outputs = build_outputs(config.devices, MockFactory(pin_class=MockPWMPin), lambda t, p: None)
    outputs["tracks"].apply("crawl", {"distance_m": 1.0})
    state = {"estop": False, "devices": {"tracks": outputs["tracks"].state()}, "sensors": {},
             "running": []}
    assert answer(config, state, devices=["tracks"])[0] == "The tracks are crawling."
    world = SimWorld(config, outputs, lambda topic, payload: None, clock=SystemClock(),
                     stopping=threading.Event())
    ahead = world.pose.ahead()
    world.step(1.0)
    assert world.pose.ahead() == pytest.approx(ahead - 0.5)


def test_safe_outputs_makes_it_safe(crawler: type[Output], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    factory = MockFactory(pin_class=MockPWMPin)
    factory.pin(20).drive_high()  # as a dead daemon left it: crawling
    assert safe_outputs(parse_config(CONFIG), factory, state_dir=tmp_path) == 0
    assert factory.pin(20).state == 0 and factory.pin(21).state == 0
    assert "tracks: safe" in capsys.readouterr().out


def test_no_kind_that_moves_may_stay_on(crawler: type[Output]) -> None:
    for name, kind in KINDS.items():
        if not kind.moves:
            continue
        for op, spec in kind.ops.items():
            if spec.safe:
                continue
            raw = {"device": {"id": "r"}, "devices": {"d": {
                "kind": name, "forward": 20, "backward": 21, "left": [4, 14],
                "right": [17, 18], "pin": 5, "pins": [6, 13, 19], "topic": "t"}},
                "actions": {"a": {"device": "d", "op": op, "stays_on": True, "params": {
                    p: {"type": "number", "default": 1} for p in spec.required}}}}
            with pytest.raises(ConfigError) as refused:
                parse_config(raw)
            assert "actions.a.stays_on" in str(refused.value), (name, op)


def test_no_module_outside_the_devices_tests_a_kind_name() -> None:
    """Knowing what a kind is, is the kind's own business: no `kind == "robot"` elsewhere."""
    names = set(KINDS)
    found = []
    for path in sorted((ROOT / "agent").rglob("*.py")):
        if path.parent.name == "devices":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            about_kind = any((isinstance(s, ast.Attribute) and s.attr == "kind") or
                             (isinstance(s, ast.Name) and s.id == "kind") for s in sides)
            constants = {c.value for s in sides for c in ast.walk(s)
                         if isinstance(c, ast.Constant) and isinstance(c.value, str)}
            if about_kind and constants & names:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
