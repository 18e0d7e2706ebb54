"""Every Python script in scripts/ runs as the docs say (`.venv/bin/python scripts/NAME.py`),
from any directory: a benchmark that no longer starts is found here, not on the day someone
needs its figures."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

SCRIPTS = sorted(p.name for p in (ROOT / "scripts").glob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_starts_as_documented(name: str) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / name), "--help"], cwd="/",
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage:" in done.stdout
