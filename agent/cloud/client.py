"""The cloud: an OpenAI-compatible chat-completions client, and whether the cloud is reachable.

Structured output is asked for as a JSON schema where the endpoint takes it, else as a JSON
object with the schema attached (the llama-cpp-python server answers 500 to json_schema); either
way the answer is parsed and validated here, never trusted. A circuit breaker makes an outage
cost one timeout, not one per request: after a failure the cloud is offline, requests fail at
once, and a cheap probe (GET /models) brings it back. The API key goes into the Authorization
header and nowhere else: not into logs, events, results or error messages.
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

from agent.config import CloudConfig
from agent.core.clock import Clock
from agent.core.protocol import Reason

log = logging.getLogger(__name__)

PROBE_EVERY_S = 15.0


class CloudError(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason  # offline | cloud_error
        self.detail = detail


@dataclass
class Usage:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, usage: dict[str, Any]) -> None:
        self.requests += 1
        self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.completion_tokens += int(usage.get("completion_tokens") or 0)


@dataclass
class Answer:
    data: dict[str, Any]
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float


@dataclass
class CloudClient:
    config: CloudConfig
    api_key: str | None
    clock: Clock
    transport: httpx.BaseTransport | None = None  # injected by tests, like httpx does itself
    on_state: Callable[[str], None] = lambda state: None
    usage: Usage = field(default_factory=Usage)
    state: str = "online"  # online | offline (disabled clouds get no client)
    schema_mode: str = "json_schema"  # falls back to json_object once the endpoint refuses it
    retry_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self.http = httpx.Client(base_url=self.config.base_url.rstrip("/") + "/",
                                 headers=headers, timeout=self.config.timeout_s,
                                 transport=self.transport)

    def chat_json(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> Answer:
        """A JSON object valid against schema, or CloudError(offline | cloud_error)."""
        if self.state == "offline" and self.clock.monotonic() < self.retry_at:
            raise CloudError(Reason.OFFLINE, "the cloud was unreachable a moment ago; not retrying "
                                        "until it answers a probe")
        started = self.clock.monotonic()
        response = self._post(messages, schema)
        if response.status_code in (400, 422, 500) and self.schema_mode == "json_schema":
            self.schema_mode = "json_object"  # this endpoint does not take json_schema
            response = self._post(messages, schema)
        if response.status_code >= 400:
            raise CloudError(Reason.CLOUD_ERROR, f"the cloud answered HTTP {response.status_code}")
        usage: dict[str, Any] = {}
        try:
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("usage"), dict):
                usage = body["usage"]  # tokens spent count, even on an answer we cannot use
            content = body["choices"][0]["message"]["content"]
            data = json.loads(content)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise CloudError(Reason.CLOUD_ERROR, f"the cloud's answer is not the JSON asked for "
                                            f"({type(exc).__name__})") from exc
        finally:
            with self.lock:
                self.usage.add(usage)
        errors = sorted(Draft202012Validator(schema).iter_errors(data), key=str)
        if errors:
            raise CloudError(Reason.CLOUD_ERROR, f"the cloud's answer does not fit the schema: "
                                            f"{errors[0].message[:160]}")
        return Answer(data, int(usage.get("prompt_tokens") or 0),
                      int(usage.get("completion_tokens") or 0),
                      (self.clock.monotonic() - started) * 1000)

    def _post(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> httpx.Response:
        fmt: dict[str, Any] = (
            {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema,
                                                    "strict": True}}
            if self.schema_mode == "json_schema" else {"type": "json_object", "schema": schema})
        body = {"model": self.config.model, "messages": messages, "response_format": fmt,
                "temperature": 0, "max_tokens": 400}
        for attempt in (1, 2):
            try:
                response = self.http.post("chat/completions", json=body)
            except httpx.ConnectError as exc:
                # Nothing reached the cloud: safe to try once more before giving up.
                if attempt == 1:
                    continue
                self._went_offline(f"cannot connect ({type(exc).__name__})")
            except httpx.TimeoutException:
                self._went_offline(f"no answer within {self.config.timeout_s:g} s")
            except httpx.HTTPError as exc:
                self._went_offline(type(exc).__name__)
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

    def _went_offline(self, why: str) -> None:
        self.retry_at = self.clock.monotonic() + PROBE_EVERY_S
        if self.state != "offline":
            self.state = "offline"
            log.warning("cloud %s is offline: %s", self.config.base_url, why)
            self.on_state("offline")
        raise CloudError(Reason.OFFLINE, f"the cloud is unreachable: {why}")

    def _back_online(self) -> None:
        if self.state != "online":
            self.state = "online"
            log.info("cloud %s is back online", self.config.base_url)
            self.on_state("online")
