"""The package shows its layers: every module lives in a sub-package whose face says what it
holds and what it may import (docs/architecture.md); only the daemon and the package's own face
stand at the top."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

AGENT = ROOT / "agent"
TOP_LEVEL = {"__init__.py", "daemon.py"}


def test_no_module_is_left_at_the_top_level() -> None:
    stray = sorted(p.name for p in AGENT.glob("*.py") if p.name not in TOP_LEVEL)
    assert stray == [], f"move {stray} into the sub-package of its layer (docs/architecture.md)"


def test_every_package_says_what_it_holds_and_may_import() -> None:
    for face in sorted(AGENT.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(face.read_text())) or ""
        assert doc, f"{face.relative_to(ROOT)} has no docstring"
        if face.parent.name not in ("cli", "interpret"):  # the top, and a library of its own
            assert "May import" in doc, f"{face.relative_to(ROOT)} does not say what it may import"
