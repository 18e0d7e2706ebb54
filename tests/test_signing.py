"""Signed messages: the documented recipes produce signatures the daemon accepts."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from agent.signing import Verifier, sign


def test_python_recipe_verifies_and_replays_are_refused() -> None:
    key = b"k" * 32
    msg = {"id": "w-1", "action": "water_plants", "params": {"duration_s": 5}, "ts": time.time()}
    msg["sig"] = sign(msg, key)
    verifier = Verifier(key)
    assert verifier.verify(msg, time.time()) == ("", "")
    assert verifier.verify(msg, time.time())[0] == "replayed"
    assert Verifier(b"other").verify(msg, time.time())[0] == "bad_signature"
    assert Verifier(key).verify(msg, time.time() + 31)[0] == "replayed"


def test_non_ascii_text_verifies_in_either_json_spelling() -> None:
    key = b"k" * 32
    msg = {"id": "é-1", "reason": "vérifié", "ts": time.time()}
    raw = json.dumps(msg, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    import hashlib
    import hmac

    msg["sig"] = hmac.new(key, raw.encode(), hashlib.sha256).hexdigest()
    assert Verifier(key).verify(msg, time.time()) == ("", "")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_shell_recipe_in_the_contract_doc_verifies(tmp_path: Path) -> None:
    key_file = tmp_path / "signing.key"
    subprocess.run(f"head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' > {key_file}",
                   shell=True, check=True)
    script = """
ts=$(date +%s)
body='{"action":"water_plants","id":"w-2","params":{"duration_s":5},"ts":'$ts'}'
sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$(cat signing.key)" -r | cut -d' ' -f1)
echo "${body%\\}},\\"sig\\":\\"$sig\\"}"
"""
    out = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         check=True).stdout
    message = json.loads(out)
    assert Verifier(key_file.read_bytes()).verify(message, time.time()) == ("", "")
