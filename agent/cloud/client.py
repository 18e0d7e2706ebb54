"""The cloud: an OpenAI-compatible chat-completions client, and whether the cloud is reachable.

Structured output is asked for as a JSON schema where the endpoint takes it, else as a JSON
object with the schema attached (the llama-cpp-python server answers 500 to json_schema); either
way the answer is parsed and validated here, never trusted. A circuit breaker makes an outage
cost one timeout, not one per request: after a failure the cloud is offline, requests fail at
once, and a cheap probe (GET /models) brings it back. The API key goes into the Authorization
header and nowhere else: not into logs, events, results or error messages.

Every call is priced (agent.cloud.cost) and held against the day's budget (agent.cloud.budget)
before it is sent: a call whose worst case would pass the budget is refused `budget_exceeded`
and never sent. Its usage (from the API, else estimated) comes back with its answer, or with
the CloudError that ended it: tokens spent on an answer that cannot be used still count, and a
call that got no answer at all (a timeout) counts at its worst case, as it may have run.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from jsonschema import Draft202012Validator

from agent.cloud.budget import Budget, BudgetExceeded
from agent.cloud.cost import MAX_TOKENS, Pricing, Prompt, Usage
from agent.config import CloudConfig
from agent.core.clock import Clock
from agent.core.protocol import Reason

log = logging.getLogger(__name__)

PROBE_EVERY_S = 15.0
NOTHING_SPENT = Usage(0, 0, 0, 0.0)


class CloudError(Exception):
    def __init__(self, reason: Reason, detail: str, usage: Usage | None = None) -> None:
        super().__init__(detail)
        self.reason = reason  # offline | cloud_error | budget_exceeded
        self.detail = detail
        self.usage = usage  # what the call cost; None when nothing was sent


@dataclass
class Totals:
    """Every call since the start (status `cloud_usage`)."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    images: int = 0

    def add(self, usage: Usage) -> None:
        self.requests += 1
        self.prompt_tokens += usage.input_tokens
        self.completion_tokens += usage.output_tokens
        self.images += usage.images


@dataclass
class Answer:
    data: dict[str, Any]
    usage: Usage
    latency_ms: float


@dataclass
class CloudClient:
    config: CloudConfig
    api_key: str | None
    clock: Clock
    budget: Budget
    transport: httpx.BaseTransport | None = None  # injected by tests, like httpx does itself
    on_state: Callable[[str], None] = lambda state: None
    on_spent: Callable[[], None] = lambda: None  # the day's cost changed
    usage: Totals = field(default_factory=Totals)
    state: str = "online"  # online | offline (disabled clouds get no client)
    schema_mode: str = "json_schema"  # falls back to json_object once the endpoint refuses it
    retry_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self.http = httpx.Client(base_url=self.config.base_url.rstrip("/") + "/",
                                 headers=headers, timeout=self.config.timeout_s,
                                 transport=self.transport)
        self.pricing = Pricing(self.config.price)

    def chat_json(self, prompt: Prompt, schema: dict[str, Any]) -> Answer:
        """A JSON object valid against schema, or CloudError(offline | cloud_error |
        budget_exceeded)."""
        if self.state == "offline" and self.clock.monotonic() < self.retry_at:
            raise CloudError(Reason.OFFLINE, "the cloud was unreachable a moment ago; not retrying "
                                        "until it answers a probe")
        worst = self.pricing.worst_case(prompt)
        try:
            held = self.budget.hold(worst)
        except BudgetExceeded as exc:
            raise CloudError(Reason.BUDGET_EXCEEDED, str(exc)) from None
        spent: Usage | None = None
        try:
            answer = self._ask(prompt, schema, worst)
            spent = answer.usage
            return answer
        except CloudError as exc:
            spent = exc.usage
            raise
        finally:
            self.budget.settle(held, spent)
            if spent is not None:
                with self.lock:
                    self.usage.add(spent)
                self.on_spent()

    def _ask(self, prompt: Prompt, schema: dict[str, Any], worst: Usage) -> Answer:
        started = self.clock.monotonic()
        response = self._post(prompt, schema, worst)
        if response.status_code in (400, 422, 500) and self.schema_mode == "json_schema":
            self.schema_mode = "json_object"  # this endpoint does not take json_schema
            response = self._post(prompt, schema, worst)
        body: Any = None
        content: str | None = None
        try:
            body = response.json()
            content = body["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            problem = f"not the JSON asked for ({type(exc).__name__})"
        else:
            problem = ""
        reported = body.get("usage") if isinstance(body, dict) else None
        # Tokens spent count, even on an answer that cannot be used; an error without usage
        # ran nothing.
        usage = (self.pricing.reported(prompt, reported, str(content or ""))
                 if response.status_code < 400 or isinstance(reported, dict) else NOTHING_SPENT)
        if response.status_code >= 400:
            raise CloudError(Reason.CLOUD_ERROR, f"the cloud answered HTTP {response.status_code}",
                             usage)
        try:
            data = json.loads(str(content)) if not problem else None
        except ValueError as exc:
            problem = f"not the JSON asked for ({type(exc).__name__})"
        if problem or not isinstance(data, dict):
            raise CloudError(Reason.CLOUD_ERROR, f"the cloud's answer is "
                                                 f"{problem or 'not a JSON object'}", usage)
        errors = sorted(Draft202012Validator(schema).iter_errors(data), key=str)
        if errors:
            raise CloudError(Reason.CLOUD_ERROR, f"the cloud's answer does not fit the schema: "
                                            f"{errors[0].message[:160]}", usage)
        return Answer(data, usage, (self.clock.monotonic() - started) * 1000)

    def _post(self, prompt: Prompt, schema: dict[str, Any], worst: Usage) -> httpx.Response:
        fmt: dict[str, Any] = (
            {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema,
                                                    "strict": True}}
            if self.schema_mode == "json_schema" else {"type": "json_object", "schema": schema})
        body = {"model": self.config.model, "messages": prompt.messages, "response_format": fmt,
                "temperature": 0, "max_tokens": MAX_TOKENS}
        for attempt in (1, 2):
            try:
                response = self.http.post("chat/completions", json=body)
            except httpx.ConnectError as exc:
                # Nothing reached the cloud: safe to try once more before giving up.
                if attempt == 1:
                    continue
                self._went_offline(f"cannot connect ({type(exc).__name__})", None)
            except httpx.TimeoutException as exc:
                # Sent, unless the connection itself timed out: it may have run, and be billed.
                self._went_offline(f"no answer within {self.config.timeout_s:g} s",
                                   None if isinstance(exc, httpx.ConnectTimeout) else worst)
            except httpx.HTTPError as exc:
                self._went_offline(type(exc).__name__, worst)
            else:
                self._back_online()
                return response
        raise AssertionError("unreachable")

    def probe(self) -> bool:
        """A cheap request that says whether the cloud answers at all."""
        try:
            response = self.http.get("models", timeout=min(5.0, self.config.timeout_s))
        except httpx.HTTPError:
            return False
        if response.status_code < 500:
            self._back_online()
            return True
        return False

    def _went_offline(self, why: str, usage: Usage | None) -> None:
        self.retry_at = self.clock.monotonic() + PROBE_EVERY_S
        if self.state != "offline":
            self.state = "offline"
            log.warning("cloud %s is offline: %s", self.config.base_url, why)
            self.on_state("offline")
        raise CloudError(Reason.OFFLINE, f"the cloud is unreachable: {why}", usage)

    def _back_online(self) -> None:
        if self.state != "online":
            self.state = "online"
            log.info("cloud %s is back online", self.config.base_url)
            self.on_state("online")
