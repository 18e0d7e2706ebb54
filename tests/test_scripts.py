"""The scripts in scripts/ import against today's package: a benchmark that no longer runs is
found here, not on the day someone needs its figures."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("name", ["bench_core", "bench_cloud", "eval_interpreter", "soak",
                                  "compare_models", "fetch_model"])
def test_script_imports(name: str) -> None:
    importlib.import_module(f"scripts.{name}")
