"""Every stable reason code is explained where its readers look: the integrators' contract and
the technicians' operations guide."""

from __future__ import annotations

import pytest

from agent.core.protocol import Reason
from tests.conftest import ROOT


@pytest.mark.parametrize("doc", ["docs/CONTRACT.md", "docs/operations.md"])
def test_every_reason_code_is_documented(doc: str) -> None:
    text = (ROOT / doc).read_text()
    missing = sorted(code for code in Reason if f"`{code}`" not in text)
    assert missing == [], f"{doc} does not explain {missing}"
