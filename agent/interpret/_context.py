"""One llama.cpp context whose fixed prompt prefix stays evaluated: decode at a position, rewind
to the prefix, log-probabilities of what comes next. Shared by the scorer
(agent.interpret._scorer) and the reader (agent.interpret._reader).

A model with a recurrent state (LFM2's short convolutions, Mamba) cannot rewind its cache to an
earlier position: for those, the state of the sequence is saved at the positions it will be
rewound to, and restored (tests/test_lfm2.py).

This uses llama-cpp-python's batch and context objects directly (pinned version in
scripts/setup) to get logits for exactly the tokens that need them.
"""

from __future__ import annotations

import ctypes
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

# Read by libgomp when llama.cpp loads: inference threads spin a short while (tens of
# microseconds) at each of a token's barriers, then sleep. Sleeping at once (OMP_WAIT_POLICY
# PASSIVE) made a token on 2 threads 4 times slower (62 ms against 10.5: docs/performance.md);
# spinning without end (the default) burns a core between requests.
os.environ.setdefault("GOMP_SPINCOUNT", "30000")


class LlamaContext:
    def __init__(self, path: Path, threads: int, lora: Path | None = None,
                 n_ctx: int = 1024) -> None:
        import llama_cpp
        from llama_cpp import Llama

        extra: dict[str, Any] = {"lora_path": str(lora)} if lora else {}
        self.llm = Llama(str(path), n_ctx=n_ctx, n_batch=512, n_threads=threads,
                         n_threads_batch=threads, verbose=False, **extra)
        self.n_vocab = self.llm.n_vocab()
        native = self.llm._model.model
        # An attention cache rewinds to any position; a recurrent state only to a saved one
        self.rewinds = not (llama_cpp.llama_model_is_recurrent(native) or
                            llama_cpp.llama_model_is_hybrid(native))
        self.saved: dict[int, Any] = {}  # position -> the sequence's state there
        self.base = 0  # where the fixed prefix ends

    def tokens(self, text: str, special: bool = False) -> list[int]:
        return self.llm.tokenize(text.encode(), add_bos=False, special=special)

    def set_prefix(self, tokens: list[int]) -> None:
        """Evaluate the fixed prefix once; every request starts after it."""
        self.llm.eval(tokens)
        self.base = self.llm.n_tokens
        self.save(self.base)

    def save(self, position: int) -> None:
        """Keep the sequence's state at this position, for a model that cannot rewind."""
        if self.rewinds:
            return
        import llama_cpp

        ctx = self.llm._ctx.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        state = (ctypes.c_uint8 * size)()
        llama_cpp.llama_state_seq_get_data(ctx, state, size, 0)
        self.saved = {p: s for p, s in self.saved.items() if p <= self.base}  # prefix stays
        self.saved[position] = state

    def rewind(self, position: int) -> None:
        """Forget every token from this position on."""
        if self.rewinds:
            self.llm._ctx.kv_cache_seq_rm(-1, position, -1)
            return
        import llama_cpp

        state = self.saved[position]
        if not llama_cpp.llama_state_seq_set_data(self.llm._ctx.ctx, state, len(state), 0):
            raise RuntimeError(f"could not restore the model's state at {position}")

    def logits(self, tokens: list[int], position: int, all_logits: bool) -> list[Any]:
        """Decode tokens at a position (rewinding to it first when needed); the raw logits
        rows for each (or only the last) token."""
        ctx, batch = self.llm._ctx, self.llm._batch
        if self.rewinds or position in self.saved:
            self.rewind(position)
        batch.set_batch(tokens, position, all_logits)
        ctx.decode(batch)
        wanted = range(len(tokens)) if all_logits else [len(tokens) - 1]
        return [np.ctypeslib.as_array(ctx.get_logits_ith(i), shape=(self.n_vocab,)).copy()
                for i in wanted]

    def decode(self, tokens: list[int], position: int, all_logits: bool) -> list[Any]:
        """As logits(), as log-softmax rows."""
        return [log_softmax(row) for row in self.logits(tokens, position, all_logits)]


def log_softmax(row: Any) -> Any:
    top = float(row.max())
    return row - top - math.log(float(np.exp(row - top).sum()))
