"""The local model in a process of its own, at idle scheduling priority.

The control path (e-stop, commands, sensors) is Python threads in the daemon; the model is a
large native library. In a process of its own the model cannot hold the daemon's GIL, cannot
take the daemon down when it crashes, and runs as SCHED_IDLE: it gets a core only when nothing
else wants it, so a waking e-stop never waits behind an inference. Measured in
docs/reliability.md: with the model in the daemon's process, e-stop p99 under load was 5-8 ms.

ModelProcess is the daemon's side and a Scorer. A worker that does not answer in time, answers
nonsense or dies is killed and the call raises ModelError: the interpreter then works as if it
had no model, and agent.text.service starts a new worker later.

Protocol, JSON lines over the worker's stdin and stdout: the daemon sends
{"path", "name", "threads", "actions"} (and "reading": {"adapter", "task", "listed"} to load the
reading adapter too), the worker answers {"ready": name} or {"error": why}; then each
{"text", "candidates"} is answered by {"scores": {candidate: p}}, each {"read": text} by
{"reading": {"answer", "logprob"}} (agent.interpret._reader), or {"error": why}.
"""

from __future__ import annotations

import json
import logging
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from agent.config import Config
from agent.interpret._catalogue import ModelError, adapter_path
from agent.interpret._frame import Listed, ModelReading, grammatical

log = logging.getLogger(__name__)

LOAD_TIMEOUT_S = 120.0  # a Pi reading a model from an SD card
SCORE_TIMEOUT_S = 10.0  # well under the daemon's hung-thread limit (30 s)


@dataclass(frozen=True)
class ReadingSetup:
    """The reading adapter to load beside the base model, its task and the config's actions."""

    adapter: Path
    task: str
    listed: tuple[Listed, ...] = ()


def reading_setup(config: Config, model_name: str) -> ReadingSetup | None:
    """The reading adapter the config names (model.adapter), for the model it runs; None when
    it names none, when it is missing or does not match its checksum, or when it was trained
    on another base (it loads only with its own): the model then runs without it, and the
    journal says why."""
    if not config.model.adapter:
        return None
    from agent.interpret._binder import listed

    try:
        file, entry = adapter_path(config.model.adapter)
    except ModelError as exc:  # missing, or not the file its checksum says: never loaded
        log.warning("%s: the model runs without the reading adapter", exc)
        return None
    if entry["base"] != model_name:
        log.warning("the adapter %s was trained on %s, not %s: the model runs without it "
                    "(set model.adapter = \"\" to say so)", config.model.adapter,
                    entry["base"], model_name)
        return None
    return ReadingSetup(file, str(entry["task"]),
                        tuple(listed(config)) if entry["task"] == "call" else ())


class ModelProcess:
    def __init__(self, path: Path, name: str, threads: int, actions: dict[str, str],
                 score_timeout_s: float = SCORE_TIMEOUT_S,
                 load_timeout_s: float = LOAD_TIMEOUT_S,
                 reading: ReadingSetup | None = None) -> None:
        self.name = name
        self.score_timeout_s = score_timeout_s
        self.lock = threading.Lock()  # one request at a time
        self.pending = b""
        self.proc = subprocess.Popen([sys.executable, "-m", "agent.interpret"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdin is not None and self.proc.stdout is not None  # asked for pipes
        self.requests, self.replies = self.proc.stdin, self.proc.stdout
        self.reading = reading
        setup: dict[str, Any] = {"path": str(path), "name": name, "threads": threads,
                                 "actions": actions}
        if reading:
            setup["reading"] = {"adapter": str(reading.adapter), "task": reading.task,
                                "listed": [asdict(a) for a in reading.listed]}
        reply = self._ask(setup, load_timeout_s)
        if "ready" not in reply:
            self.close()
            raise ModelError(str(reply.get("error", f"the model worker answered {reply!r}")))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def task(self) -> str:
        """The reading adapter's task ("" without one)."""
        return self.reading.task if self.reading else ""

    def score(self, text: str, candidates: list[str]) -> dict[str, float]:
        reply = self._ask({"text": text, "candidates": candidates}, self.score_timeout_s)
        scores = reply.get("scores")
        if (not isinstance(scores, dict) or sorted(scores) != sorted(candidates)
                or not all(isinstance(p, float) and math.isfinite(p) for p in scores.values())):
            self._stop()
            raise ModelError(str(reply.get("error", "the model worker answered nonsense")))
        return scores

    def read(self, text: str) -> ModelReading:
        """The reading adapter's answer for a request; an answer its grammar could not have
        produced is nonsense: the worker is stopped."""
        if self.reading is None:
            raise ModelError("this worker has no reading adapter")
        reply = self._ask({"read": text}, self.score_timeout_s).get("reading")
        if not isinstance(reply, dict) or not isinstance(reply.get("answer"), str) or \
                not isinstance(reply.get("logprob"), float) or reply["logprob"] > 0 or \
                not grammatical(reply["answer"], self.reading.task, list(self.reading.listed)):
            self._stop()
            raise ModelError("the model worker answered nonsense")
        return ModelReading(reply["answer"], reply["logprob"])

    def close(self) -> None:
        """Stop the worker (a request in flight fails at once) and release its pipes."""
        self._stop()
        with self.lock:
            self.requests.close()
            self.replies.close()

    def _stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def _ask(self, message: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        with self.lock:
            if self.proc.poll() is not None:
                raise ModelError(f"the model worker has exited ({self.proc.returncode})")
            try:
                self.requests.write(json.dumps(message).encode() + b"\n")
                self.requests.flush()
                line = self._read_line(time.monotonic() + timeout_s)
                reply = json.loads(line)
                if not isinstance(reply, dict):
                    raise ValueError("not an object")
                return reply
            except ModelError:
                self._stop()
                raise
            except (OSError, ValueError) as exc:
                self._stop()
                raise ModelError(f"the model worker failed: {exc}") from exc

    def _read_line(self, deadline: float) -> bytes:
        fd = self.replies.fileno()
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise ModelError("the model worker did not answer in time: stopped it")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise ModelError(f"the model worker exited ({self.proc.wait()})")
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return line


def idle_priority() -> None:
    """Run this process (and the threads llama.cpp starts) only on otherwise idle cores."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (OSError, AttributeError) as exc:  # not Linux, or forbidden: the next best
        log.warning("SCHED_IDLE refused (%s): using nice 19", exc)
        os.setpriority(os.PRIO_PROCESS, 0, 19)


def serve(requests: IO[bytes], replies: IO[bytes]) -> int:
    from agent.interpret._reader import Reader
    from agent.interpret._scorer import ModelScorer

    def reply(message: dict[str, Any]) -> None:
        replies.write(json.dumps(message).encode() + b"\n")
        replies.flush()

    setup = json.loads(requests.readline() or b"{}")
    try:
        scorer = ModelScorer(Path(setup["path"]), setup["name"], setup["threads"],
                             setup["actions"])
        wanted = setup.get("reading")
        reader = Reader(Path(setup["path"]), Path(wanted["adapter"]), setup["threads"],
                        wanted["task"], [Listed(a["name"], a["description"], tuple(a["values"]),
                                                a["numeric"]) for a in wanted["listed"]]
                        ) if wanted else None
    except (KeyError, TypeError, OSError, ValueError, RuntimeError) as exc:
        reply({"error": f"the model could not be loaded: {exc}"})
        return 1
    reply({"ready": scorer.name})
    for line in requests:
        try:
            request = json.loads(line)
            if "read" in request and reader is not None:
                reading = reader.read(str(request["read"]))
                reply({"reading": {"answer": reading.answer, "logprob": reading.logprob}})
                continue
            reply({"scores": scorer.score(str(request["text"]), list(request["candidates"]))})
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            reply({"error": f"{type(exc).__name__}: {exc}"})
    return 0  # the daemon closed the pipe: it has stopped or no longer wants this worker


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="model worker: %(levelname)s %(message)s")
    idle_priority()
    # Ctrl-C in a terminal reaches the whole process group: the daemon decides when this
    # worker ends (it closes the pipe, or kills it).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The replies get a descriptor of their own; fd 1 then points at stderr, so nothing the
    # native library might print can corrupt them.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    return serve(sys.stdin.buffer, replies)
