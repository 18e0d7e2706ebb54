"""A beep that counts: `times` from a command and from text, on the mock pin, within bounds."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from agent.config import ConfigError
from agent.devices import kind_of
from tests.conftest import Broker, Client, Running, make_config, start_daemon, wait_until

HORN = """
[devices.horn]
kind = "buzzer"
pin = 16
[actions.honk]
description = "sound the horn"
examples = ["honk", "beep the horn"]
device = "horn"
op = "beep"
max_duration_s = 1.0
params.duration_s = { type = "number", minimum = 0.02, maximum = 0.5, default = 0.05 }
params.times = { type = "integer", minimum = 1, maximum = 5, default = 1 }
"""


def beeps(pin: Any) -> int:
    """How many times the pin went from off to on."""
    values = [s.state for s in pin.states]
    return sum(1 for before, after in itertools.pairwise(values)
               if not before and after)


@pytest.fixture
def horn(broker: Broker, client: Client, tmp_path: Path) -> Any:
    running = start_daemon(make_config(broker.port, HORN), tmp_path / "state", client)
    yield running
    running.stop()


def finished(client: Client, rid: str) -> Any:
    return client.wait_for("robots/t/result", lambda r: r.get("id") == rid and
                           r.get("status") not in ("running", None), timeout=5)


def test_times_from_a_command_beeps_that_many_times(horn: Running, client: Client) -> None:
    client.publish("robots/t/cmd", {"id": "b1", "action": "honk", "params": {"times": 2}})
    running = client.result("b1", "running")
    assert running["params"] == {"duration_s": 0.05, "times": 2}
    assert "0.20 s" in running["detail"]  # 2 x (beep + gap)
    assert finished(client, "b1")["status"] == "done"
    assert beeps(horn.pin(16)) == 2
    assert horn.pin(16).state == 0


def test_beep_twice_from_text_beeps_twice(horn: Running, client: Client) -> None:
    client.publish("robots/t/ask", {"id": "a1", "text": "beep twice"})
    assert client.result("a1", "running")["params"]["times"] == 2
    assert finished(client, "a1")["status"] == "done"
    assert beeps(horn.pin(16)) == 2


def test_one_beep_by_default(horn: Running, client: Client) -> None:
    client.publish("robots/t/cmd", {"id": "b0", "action": "honk"})
    assert finished(client, "b0")["status"] == "done"
    assert beeps(horn.pin(16)) == 1


@pytest.mark.parametrize("params, reason", [
    ({"times": 6}, "out_of_bounds"),  # over the action's maximum
    ({"times": 5, "duration_s": 0.5}, "out_of_bounds"),  # 5 s of beeping > max_duration_s 1
    ({"times": 0}, "out_of_bounds"),
    ({"times": 1.5}, "invalid_params"),
    ({"times": "two"}, "invalid_params"),
    ({"times": True}, "invalid_params"),
])
def test_counts_are_bounded(horn: Running, client: Client, params: dict[str, Any],
                            reason: str) -> None:
    client.publish("robots/t/cmd", {"id": "bad", "action": "honk", "params": params})
    result = client.result("bad")
    assert (result["status"], result["reason"]) == ("refused", reason)
    assert beeps(horn.pin(16)) == 0


def test_estop_silences_a_beep_at_once(horn: Running, client: Client) -> None:
    client.publish("robots/t/cmd", {"id": "long", "action": "honk",
                                    "params": {"times": 3, "duration_s": 0.15}})
    client.result("long", "running")
    assert wait_until(lambda: horn.pin(16).state == 1)
    client.publish("robots/t/estop", "")
    ended = finished(client, "long")
    assert (ended["status"], ended["reason"]) == ("failed", "estop_engaged")
    assert horn.pin(16).state == 0
    heard = beeps(horn.pin(16))
    assert not wait_until(lambda: beeps(horn.pin(16)) > heard, timeout=0.6)  # it stays quiet


def test_a_beeps_duration_counts_every_beep_and_gap() -> None:
    config = make_config(1883, HORN)
    horn = config.devices["horn"]
    duration = kind_of(horn.kind).duration_s
    assert duration(horn, "beep", {"duration_s": 0.2, "times": 3}) == pytest.approx(1.2)
    assert duration(horn, "beep", {"duration_s": 0.2, "times": 1}) == pytest.approx(0.4)
    assert kind_of("buzzer").value_problem("beep", "times", 2) is None
    assert kind_of("buzzer").value_problem("beep", "times", 2.0) is None
    for bad in (0, -1, 1.5, True, "3", float("nan")):
        assert kind_of("buzzer").value_problem("beep", "times", bad), bad


def test_a_config_whose_default_count_is_no_count_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        make_config(1883, HORN.replace("default = 1 }", "default = 0 }").replace(
            "minimum = 1, maximum = 5, ", ""))
    assert any("actions.honk.params.times.default: times must be a whole number" in p
               for p in err.value.problems), err.value.problems
