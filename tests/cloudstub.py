"""A scripted OpenAI-compatible server on loopback: exact plans, answers to questions, what a
vision model was shown, what each call reports as its usage, and every failure mode."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image


class CloudStub:
    """Each POST to /v1/chat/completions takes the next scripted answer:
    ("plan", steps) | ("slow", seconds, steps) | ("status", code) | ("content", text) |
    ("answer", text) (a question's). `usage` is what every answer reports (None: no usage)."""

    def __init__(self, reject_json_schema: bool = False) -> None:
        self.script: deque[tuple[Any, ...]] = deque()
        self.requests: list[dict[str, Any]] = []
        self.reject_json_schema = reject_json_schema
        self.usage: dict[str, Any] | None = {"prompt_tokens": 100, "completion_tokens": 20}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._send(200, {"object": "list", "data": [{"id": "stub"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append({"headers": dict(self.headers), "body": body})
                if stub.reject_json_schema and body["response_format"]["type"] == "json_schema":
                    self._send(500, {"error": "json_schema is not supported"})
                    return
                step = stub.script.popleft() if stub.script else ("plan", [])
                if step[0] == "slow":
                    time.sleep(step[1])
                    step = ("plan", step[2])
                if step[0] == "status":
                    self._send(step[1], {"error": "scripted"})
                    return
                content = (step[1] if step[0] == "content" else
                           json.dumps({"answer": step[1]}) if step[0] == "answer" else
                           json.dumps({"steps": step[1], "say": "ok"}))
                answer: dict[str, Any] = {"choices": [{"message": {"role": "assistant",
                                                                   "content": content}}]}
                if stub.usage is not None:
                    answer["usage"] = stub.usage
                self._send(200, answer)

            def _send(self, code: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)  # the client gave up waiting: fine

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def images(self, index: int = -1) -> list[Image.Image]:
        """The images a request carried (image_url data URLs after its text), decoded."""
        found: list[Image.Image] = []
        for message in self.requests[index]["body"]["messages"]:
            content = message["content"]
            if isinstance(content, list):
                assert content[0]["type"] == "text"  # the text first, then the image
                for part in content[1:]:
                    assert part["type"] == "image_url"
                    head, data = part["image_url"]["url"].split(",", 1)
                    assert head == "data:image/jpeg;base64"
                    found.append(Image.open(io.BytesIO(base64.b64decode(data))))
        return found

    def text(self, index: int = -1) -> str:
        """A request's last message as text (without its images)."""
        content = self.requests[index]["body"]["messages"][-1]["content"]
        return content if isinstance(content, str) else content[0]["text"]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
