"""Every cloud call costs something visible, and a budget bounds it: usage and cost in the result,
the record, the journal and P/status; a call whose worst case would pass `budget_per_day` is
refused `budget_exceeded` before anything is sent; the day's total survives a restart."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from agent.cli.remote import status as remote_status
from agent.cloud.budget import FILE_NAME, Budget, BudgetExceeded
from agent.cloud.cost import MAX_TOKENS, Pricing, Prompt, Usage, image_tokens
from agent.config import ConfigError, ModelPrices
from agent.core.journal import fields
from tests.cloudstub import CloudStub
from tests.conftest import Broker, Client, Running, make_config, start_daemon
from tests.frames import CAMERA, camera_config, frame

PLAN = "robots/t/plan"
# Round prices, so the costs below can be checked by hand: a dollar per million tokens each
# way, a tenth of a cent an image.
PRICES = '''
[cloud.prices."stub"]
input_per_m = 1.0
output_per_m = 2.0
per_image = 0.001
vision = true
'''


def priced(port: int, base_url: str, extra: str = "") -> Any:
    return make_config(port, camera_config() + f'\n[cloud]\nenabled = true\nbase_url = '
                                               f'"{base_url}"\nmodel = "stub"\ntimeout_s = 2\n'
                                               f"{extra}" + PRICES)


def start(broker: Broker, client: Client, state: Path, stub: CloudStub, extra: str = ""
          ) -> Running:
    return start_daemon(priced(broker.port, stub.base_url, extra), state, client)


def planned(client: Client, stub: CloudStub, rid: str) -> dict[str, Any]:
    stub.script.append(("plan", [{"action": "lights_off", "params": {}}]))
    client.publish(PLAN, {"id": rid, "goal": "lights off"})
    client.final(rid)
    result: dict[str, Any] = client.wait_for(
        "robots/t/result", lambda r: r["id"] == rid and "usage" in r)
    return result


def test_cost_and_usage_in_the_result_record_journal_and_status_surviving_a_restart(
        broker: Broker, client: Client, tmp_path: Path, stub: CloudStub,
        capsys: pytest.CaptureFixture[str]) -> None:
    stub.usage = {"prompt_tokens": 1200, "completion_tokens": 30}
    running = start(broker, client, tmp_path / "state", stub, "send_images = true\n")
    try:
        client.publish(CAMERA, frame())
        client.wait_for("robots/t/state", lambda s: s["sensors"]["front_camera"]["fresh"])
        result = planned(client, stub, "p1")
        cost = 1200 * 1e-6 + 30 * 2e-6 + 0.001
        assert result["usage"] == {"input_tokens": 1200, "output_tokens": 30, "images": 1,
                                   "cost": pytest.approx(cost), "estimated": False}
        record = client.wait_for("robots/t/events", lambda e: e["id"] == "p1" and "usage" in e)
        assert record["usage"] == result["usage"]
        journal = fields(record)
        assert json.loads(journal["USAGE"]) == result["usage"]  # the journal's field
        assert '"cost":' in journal["MESSAGE"]  # and the line a technician reads
        status = client.wait_for("robots/t/status",
                                 lambda s: s.get("cloud_cost_today", 0) > 0)
        assert status["cloud_cost_today"] == pytest.approx(cost)
        assert status["cloud_budget_per_day"] is None
        assert remote_status(running.daemon.config) == 0
        assert f"cloud cost today: {cost:.6f} of no limit" in capsys.readouterr().out
    finally:
        running.stop()
    client.forget()
    again = start(broker, client, tmp_path / "state", stub)
    try:
        status = client.wait_for("robots/t/status", lambda s: s.get("state") == "online")
        assert status["cloud_cost_today"] == pytest.approx(cost)  # not forgotten
        planned(client, stub, "p2")
        status = client.wait_for("robots/t/status",
                                 lambda s: s.get("cloud_cost_today", 0) > cost)
        assert status["cloud_cost_today"] == pytest.approx(
            cost + 1200 * 1e-6 + 30 * 2e-6)  # no frame sent this time: no image
    finally:
        again.stop()


def test_usage_is_estimated_and_marked_so_when_the_api_gives_none(
        broker: Broker, client: Client, tmp_path: Path, stub: CloudStub) -> None:
    stub.usage = None
    running = start(broker, client, tmp_path / "state", stub)
    try:
        usage = planned(client, stub, "p1")["usage"]
        assert usage["estimated"] is True and usage["images"] == 0
        prompt_chars = sum(len(m["content"]) for m in stub.requests[0]["body"]["messages"])
        assert usage["input_tokens"] >= prompt_chars / 4  # errs high, never low
        assert 0 < usage["output_tokens"] < MAX_TOKENS
        assert usage["cost"] == pytest.approx(usage["input_tokens"] * 1e-6 +
                                              usage["output_tokens"] * 2e-6)
    finally:
        running.stop()


def test_a_call_past_the_budget_is_refused_before_anything_is_sent(
        broker: Broker, client: Client, tmp_path: Path, stub: CloudStub) -> None:
    """The first call's worst case fits; what it cost (as the API says) leaves too little for
    the second's worst case, which is refused without a request."""
    stub.usage = {"prompt_tokens": 9000, "completion_tokens": 0}
    running = start(broker, client, tmp_path / "state", stub, "budget_per_day = 0.01\n")
    try:
        assert planned(client, stub, "p1")["usage"]["cost"] == pytest.approx(0.009)
        for rid, topic, payload in (("p2", PLAN, {"id": "p2", "goal": "lights off"}),
                                    ("a", "robots/t/ask", {"id": "a", "text": "patrol the "
                                                                              "kitchen"})):
            client.publish(topic, payload)
            result = client.final(rid)
            assert (result["status"], result["reason"]) == ("refused", "budget_exceeded")
            assert "could cost up to" in result["detail"] and "budget" in result["detail"]
            assert "usage" not in result  # nothing was spent
        assert len(stub.requests) == 1
        status = client.wait_for("robots/t/status", lambda s: s.get("cloud_cost_today", 0) > 0)
        assert status["cloud_budget_per_day"] == 0.01
        client.publish("robots/t/cmd", {"id": "c", "action": "lights_off"})
        assert client.result("c")["status"] == "done"  # local work goes on
    finally:
        running.stop()


def test_a_budget_of_zero_sends_nothing(broker: Broker, client: Client, tmp_path: Path,
                                        stub: CloudStub) -> None:
    running = start(broker, client, tmp_path / "state", stub, "budget_per_day = 0\n")
    try:
        client.publish(PLAN, {"id": "p", "goal": "lights off"})
        assert client.final("p")["reason"] == "budget_exceeded"
        assert stub.requests == []
    finally:
        running.stop()


def test_the_start_up_log_says_whether_there_is_a_limit(
        broker: Broker, client: Client, tmp_path: Path, stub: CloudStub,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    start(broker, client, tmp_path / "a", stub).stop()
    assert "no cloud budget ([cloud] budget_per_day unset): cloud calls are not limited" in \
        caplog.text
    start(broker, client, tmp_path / "b", stub, "budget_per_day = 2.5\n").stop()
    assert "cloud budget 2.5 a day" in caplog.text


def test_a_budget_needs_the_prices_of_its_model() -> None:
    with pytest.raises(ConfigError) as error:
        make_config(1883, '[cloud]\nmodel = "unpriced"\nbudget_per_day = 1.0\n' + PRICES)
    assert error.value.problems[0].startswith(
        "cloud.budget_per_day: no prices for cloud.model 'unpriced'")
    make_config(1883, '[cloud]\nmodel = "stub"\nbudget_per_day = 1.0\n' + PRICES)  # fine


class Clock:
    def __init__(self, when: str) -> None:
        self.at = datetime.fromisoformat(when).timestamp()

    def monotonic(self) -> float:
        return self.at

    def time(self) -> float:
        return self.at


def spend(cost: float) -> Usage:
    return Usage(0, 0, 0, cost)


def test_the_day_runs_from_local_midnight_and_survives_a_restart(tmp_path: Path) -> None:
    clock = Clock("2026-12-07T23:59:00")
    budget = Budget(1.0, tmp_path, clock)
    budget.settle(budget.hold(spend(0.75)), spend(0.5))
    assert Budget(1.0, tmp_path, clock).today() == 0.5  # from the file
    with pytest.raises(BudgetExceeded):
        budget.hold(spend(0.6))
    clock.at += 120  # past local midnight: a new day
    assert budget.today() == 0.0 and Budget(1.0, tmp_path, clock).today() == 0.0
    budget.hold(spend(0.9))


def test_calls_under_way_hold_their_worst_case(tmp_path: Path) -> None:
    budget = Budget(1.0, tmp_path, Clock("2026-12-07T12:00:00"))
    held = budget.hold(spend(0.6))
    with pytest.raises(BudgetExceeded):
        budget.hold(spend(0.6))  # the first could still cost 0.6
    budget.settle(held, spend(0.1))
    budget.hold(spend(0.6))


def test_an_unreadable_cost_file_counts_from_zero_and_says_so(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / FILE_NAME).write_text("{not json")
    assert Budget(1.0, tmp_path, Clock("2026-12-07T12:00:00")).today() == 0.0
    assert "cannot read today's cloud cost" in caplog.text


def test_image_tokens_follow_llama_4_tiles() -> None:
    assert image_tokens(336, 336) == 147  # one tile: 144 and three markers
    assert image_tokens(320, 240) == 147
    assert image_tokens(640, 480) == 4 * 144 + 144 + 3 + 4  # 2x2 tiles, a global view
    assert image_tokens(768, 432) == 6 * 144 + 144 + 3 + 6  # 2x3
    assert image_tokens(4608, 2592) == image_tokens(1920, 1080)  # at most 16 tiles


def test_the_worst_case_counts_the_prompt_the_longest_answer_and_the_images() -> None:
    prices = Pricing(ModelPrices(input_per_m=1.0, output_per_m=2.0, per_image=0.001))
    prompt = Prompt([{"role": "user", "content": [
        {"type": "text", "text": "x" * 300},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64," + "A" * 9999}}]}],
        images=1, image_tokens=1017)
    worst = prices.worst_case(prompt)
    assert worst.input_tokens == 100 + 4 + 1017  # the image's data is not text
    assert worst.cost == pytest.approx((100 + 4 + 1017) * 1e-6 + MAX_TOKENS * 2e-6 + 0.001)
    assert prices.reported(prompt, {"prompt_tokens": 5, "completion_tokens": 1}, "{}") == \
        Usage(5, 1, 1, 5e-6 + 2e-6 + 0.001)
    assert prices.reported(prompt, {"prompt_tokens": "lots"}, "{}").estimated
