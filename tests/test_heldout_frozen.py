"""A held-out set is frozen before any rule sees its misses: its hash is recorded, and a change
to it fails here (scripts/eval-data/heldout/README.md)."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.conftest import ROOT

HELDOUT = ROOT / "scripts" / "eval-data" / "heldout"
FROZEN = json.loads((HELDOUT / "FROZEN.json").read_text())


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_a_frozen_file_is_unchanged(name: str) -> None:
    digest = hashlib.sha256((HELDOUT / name).read_bytes()).hexdigest()
    assert digest == FROZEN[name]["sha256"], (
        f"{name} changed after it was frozen on {FROZEN[name]['frozen']}: a held-out set is "
        "never edited; write a new one (README.md)")


def test_every_set_file_is_frozen() -> None:
    on_disk = {str(p.relative_to(HELDOUT)) for p in HELDOUT.glob("set-*/*")}
    assert on_disk == set(FROZEN)
