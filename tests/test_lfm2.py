"""Any LFM2 GGUF by path is a fact, not a hope: the pinned llama-cpp-python loads an
LFM2-architecture file (Liquid's hybrid of short convolutions and attention) and the scorer
scores with it, in this process and in the daemon's model worker.

The file is written here, tiny and random, with the `gguf` package: the tensor names and shapes
are those llama.cpp's loader reads for `lfm2` (gguf-py's MODEL_TENSORS[LFM2]; llama.cpp
src/models/lfm2.cpp). It proves the architecture and the scoring path, not any quality.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")
llama_cpp = pytest.importorskip("llama_cpp")

from agent.interpret import ModelProcess  # noqa: E402
from agent.interpret._scorer import ModelScorer  # noqa: E402

ACTIONS = {"turn_left": "turn on the spot to the left", "honk": "sound the horn"}
EMBD, FF, HEADS, KV_HEADS, L_CACHE = 64, 128, 4, 2, 3
LAYERS = (0, KV_HEADS)  # key/value heads per layer: 0 is a short-convolution layer


def byte_level_tokens() -> list[str]:
    """GPT-2's byte-to-character table: any text tokenizes, one token per byte."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    chars = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def write_tiny_lfm2(path: Path) -> None:
    rng = np.random.default_rng(12)
    tokens = [*byte_level_tokens(), "<|startoftext|>", "<|im_end|>"]
    writer = gguf.GGUFWriter(str(path), "lfm2")
    writer.add_context_length(256)
    writer.add_embedding_length(EMBD)
    writer.add_block_count(len(LAYERS))
    writer.add_feed_forward_length(FF)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(list(LAYERS))
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_shortconv_l_cache(L_CACHE)
    writer.add_vocab_size(len(tokens))
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.NORMAL] * 256 + [gguf.TokenType.CONTROL] * 2)
    writer.add_token_merges(["Ġ t"])
    writer.add_bos_token_id(256)
    writer.add_eos_token_id(257)

    def weights(name: str, *shape: int) -> None:  # numpy shape: ggml's dimensions reversed
        writer.add_tensor(name, (rng.standard_normal(shape) * 0.05).astype(np.float32))

    def norm(name: str, size: int) -> None:
        writer.add_tensor(name, np.ones(size, dtype=np.float32))

    head = EMBD // HEADS
    weights("token_embd.weight", len(tokens), EMBD)  # also the output: tied
    norm("token_embd_norm.weight", EMBD)
    for i, kv_heads in enumerate(LAYERS):
        norm(f"blk.{i}.attn_norm.weight", EMBD)
        norm(f"blk.{i}.ffn_norm.weight", EMBD)
        weights(f"blk.{i}.ffn_gate.weight", FF, EMBD)
        weights(f"blk.{i}.ffn_up.weight", FF, EMBD)
        weights(f"blk.{i}.ffn_down.weight", EMBD, FF)
        if kv_heads == 0:
            weights(f"blk.{i}.shortconv.conv.weight", EMBD, L_CACHE)
            weights(f"blk.{i}.shortconv.in_proj.weight", 3 * EMBD, EMBD)
            weights(f"blk.{i}.shortconv.out_proj.weight", EMBD, EMBD)
        else:
            norm(f"blk.{i}.attn_q_norm.weight", head)
            norm(f"blk.{i}.attn_k_norm.weight", head)
            weights(f"blk.{i}.attn_q.weight", EMBD, EMBD)
            weights(f"blk.{i}.attn_k.weight", kv_heads * head, EMBD)
            weights(f"blk.{i}.attn_v.weight", kv_heads * head, EMBD)
            weights(f"blk.{i}.attn_output.weight", EMBD, EMBD)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


@pytest.fixture(scope="module")
def tiny_lfm2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lfm2") / "tiny-lfm2.gguf"
    write_tiny_lfm2(path)
    return path


def test_the_runtime_loads_lfm2_as_a_hybrid_model(tiny_lfm2: Path) -> None:
    llm = llama_cpp.Llama(str(tiny_lfm2), n_ctx=128, verbose=False)
    assert llm.metadata["general.architecture"] == "lfm2"
    assert llama_cpp.llama_model_is_hybrid(llm._model.model)  # convolution and attention


def test_the_scorer_scores_lfm2_exactly(tiny_lfm2: Path) -> None:
    scorer = ModelScorer(tiny_lfm2, "tiny-lfm2", 1, ACTIONS)
    assert not scorer.context.rewinds  # a recurrent state: restored, not rewound
    probs = scorer.score("turn left please", ["turn_left", "honk"])
    assert math.isclose(sum(probs.values()), 1.0) and all(0 < p < 1 for p in probs.values())
    assert scorer.score("turn left please", ["turn_left", "honk"]) == probs
    three = scorer.score("turn left please", ["turn_left", "honk", "none"])  # two finished
    assert math.isclose(sum(three.values()), 1.0) and sorted(three.values())[0] == 0.0
    scorer.score("sound the horn", ["honk"])  # another request in between
    raw = scorer._raw_scores("turn left please", ["honk"], 1)["honk"]
    assert raw == pytest.approx(whole_sequence_log_probability(scorer, "turn left please",
                                                               "honk"), abs=1e-3)


def whole_sequence_log_probability(scorer: ModelScorer, text: str, answer: str) -> float:
    """The same score, from one fresh evaluation of prefix, request and answer."""
    llm = llama_cpp.Llama(str(scorer.llm.model_path), n_ctx=1024, logits_all=True,
                          verbose=False)
    request = llm.tokenize(text.encode(), add_bos=False, special=False)
    tail = llm.tokenize(scorer.suffix.encode(), add_bos=False, special=True)
    said = llm.tokenize((" " if not scorer.suffix.endswith("\n") else "").encode() +
                        answer.encode(), add_bos=False, special=False)
    said += llm.tokenize(scorer.end.encode(), add_bos=False, special=True)
    context = [*scorer.prefix_tokens, *request, *tail]
    llm.eval(context + said[:-1])
    logits = np.array(llm.scores[:llm.n_tokens])
    total = 0.0
    for i, token in enumerate(said):
        row = logits[len(context) - 1 + i]
        top = row.max()
        total += float(row[token] - top - math.log(np.exp(row - top).sum()))
    return total


def test_the_model_worker_serves_lfm2(tiny_lfm2: Path) -> None:
    worker = ModelProcess(tiny_lfm2, "tiny-lfm2", 1, ACTIONS)
    try:
        probs = worker.score("honk twice", ["turn_left", "honk", "none"])
        assert math.isclose(sum(probs.values()), 1.0)
    finally:
        worker.close()
