"""The fine-tuned model's reading of a request, decoded under a grammar, with its probability.

The base model with the reading adapter (models/README.md) is one llama.cpp context whose fixed
prefix (the task's prompt, with the config's actions for the call task) stays evaluated; a
request costs its own tokens and a few answer tokens. Every answer token is chosen greedily
among the tokens the grammar allows at that point (llama.cpp's GBNF sampler masks the rest), and
the reading's probability is the product, over its tokens, of each token's probability
renormalized over the allowed ones: a real probability of this answer under the grammar, never
a number the model says about itself. What the reading means for a config is
agent.interpret._binder's; what it may change is the interpreter's.
"""

from __future__ import annotations

import ctypes
import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from agent.interpret._context import LlamaContext
from agent.interpret._frame import (
    CALL_SUFFIX,
    FRAME_PREFIX,
    FRAME_SUFFIX,
    Listed,
    ModelReading,
    call_grammar,
    call_prefix,
    frame_grammar,
    request_part,
)

# The longest grammatical answer is under this even one byte a token (a byte-level vocabulary);
# an answer not finished by then is no reading.
MAX_ANSWER_TOKENS = 64
SHORTLIST = 64  # tokens the grammar is checked on first


class Reader:
    """task "frame": the prompt holds no config; "call": it lists `actions`."""

    def __init__(self, base: Path, adapter: Path, threads: int, task: str,
                 actions: list[Listed] | None = None) -> None:
        import llama_cpp

        if task == "call" and not actions:
            raise ValueError("the call task lists the config's actions: none given")
        self.task = task
        self.lock = threading.Lock()  # one request at a time on one context
        self.context = LlamaContext(base, threads, lora=adapter, n_ctx=1024)
        self.llm = self.context.llm
        prefix = call_prefix(actions or []) if task == "call" else FRAME_PREFIX
        self.suffix = CALL_SUFFIX if task == "call" else FRAME_SUFFIX
        self.context.set_prefix(self.context.tokens(prefix))
        grammar = call_grammar(actions or []) if task == "call" else frame_grammar()
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            self.llm._model.vocab, grammar.encode(), b"root")
        if not self.grammar:
            raise ValueError("the reading grammar did not parse")
        n = self.context.n_vocab
        self.candidates = (llama_cpp.llama_token_data * n)()
        self.view = np.ctypeslib.as_array(self.candidates).view(
            np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)]))
        self.array = llama_cpp.llama_token_data_array(
            data=self.candidates, size=n, selected=-1, sorted=False)
        self.ids = np.arange(n, dtype=np.int32)
        self.end_tokens = {self.llm.token_eos()}

    def read(self, text: str) -> ModelReading:
        import llama_cpp

        request = self.context.tokens(request_part(text, self.suffix))
        with self.lock:
            llama_cpp.llama_sampler_reset(self.grammar)
            position = self.context.base
            row = self.context.logits(request, position, all_logits=False)[-1]
            position += len(request)
            pieces: list[bytes] = []
            logprob = 0.0
            for _ in range(MAX_ANSWER_TOKENS):
                token, step = self._next(row)
                logprob += step
                llama_cpp.llama_sampler_accept(self.grammar, token)
                piece = self.llm.detokenize([token])
                pieces.append(piece)
                if token in self.end_tokens or piece.endswith(b"\n"):
                    break
                row = self.context.logits([token], position, all_logits=False)[-1]
                position += 1
            else:
                raise RuntimeError("the reading did not finish")
        return ModelReading(b"".join(pieces).decode(errors="replace"), logprob)

    def _next(self, logits: Any) -> tuple[int, float]:
        """The likeliest token the grammar allows, and its log-probability among those.

        The grammar is checked on the likeliest SHORTLIST tokens first (checking all 49,152 cost
        13 ms a token, most of a reading's CPU); only when it allows none of them, on all. The
        probability is then renormalized over the allowed tokens of the shortlist: the mass of
        allowed tokens less likely than every one of them is left out (what calibration
        measures is this number)."""
        finite, allowed, ids = self._allowed(np.argpartition(logits, -SHORTLIST)[-SHORTLIST:],
                                             logits)
        if not finite.any():
            finite, allowed, ids = self._allowed(self.ids, logits)
        if not finite.any():
            raise RuntimeError("the grammar allows no token")
        kept, kept_ids = allowed[finite], ids[finite]
        best = int(kept.argmax())
        top = float(kept[best])
        total = math.log(float(np.exp(kept - top).sum()))
        return int(kept_ids[best]), -total

    def _allowed(self, ids: Any, logits: Any) -> tuple[Any, Any, Any]:
        """Which of these tokens the grammar allows here: (mask, logits, ids)."""
        import llama_cpp

        n = len(ids)
        self.view["id"][:n] = ids
        self.view["logit"][:n] = logits[ids]
        self.view["p"][:n] = 0.0
        self.array.size, self.array.selected, self.array.sorted = n, -1, False
        llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(self.array))
        allowed = self.view["logit"][: self.array.size]
        return np.isfinite(allowed), allowed, self.view["id"][: self.array.size]
