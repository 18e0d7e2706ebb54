"""Signed messages: the documented recipes produce signatures the daemon accepts."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from agent.core.secrets import read_secret
from agent.safety.seen_ids import SeenIds
from agent.safety.signing import REMEMBER_S, Verifier, sign


def test_python_recipe_verifies_and_replays_are_refused() -> None:
    key = b"k" * 32
    msg = {"id": "w-1", "action": "water_plants", "params": {"duration_s": 5}, "ts": time.time()}
    msg["sig"] = sign(msg, key)
    verifier = Verifier(key)
    assert verifier.verify(msg, time.time()) == (None, "")
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
    assert Verifier(key).verify(msg, time.time()) == (None, "")


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
    assert Verifier(key_file.read_bytes()).verify(message, time.time()) == (None, "")


def test_a_key_written_with_echo_works_with_either_recipe(tmp_path: Path) -> None:
    """echo leaves a newline: the key is the file without it (as $(cat key) in a shell reads
    it), and a signature made with the newline included (the old contract) still verifies."""
    key_file = tmp_path / "signing.key"
    subprocess.run(f"echo 0123456789abcdef > {key_file}", shell=True, check=True)
    key = read_secret(str(key_file), "signing-key")
    assert key == b"0123456789abcdef"
    verifier = Verifier(key)
    for i, used in enumerate((b"0123456789abcdef", key_file.read_bytes())):
        msg = {"id": f"e-{i}", "action": "water_plants", "ts": time.time()}
        msg["sig"] = sign(msg, used)
        assert verifier.verify(msg, time.time()) == (None, ""), used
    msg = {"id": "e-x", "action": "water_plants", "ts": time.time()}
    msg["sig"] = sign(msg, b"0123456789abcde")
    assert verifier.verify(msg, time.time())[0] == "bad_signature"


def test_a_corrupt_file_of_used_ids_fails_closed_until_replays_are_impossible(
        tmp_path: Path) -> None:
    key = b"k" * 32
    path = tmp_path / "signed-ids.json"
    first = Verifier(key, path)
    msg = {"id": "s-1", "action": "water_plants", "ts": time.time()}
    msg["sig"] = sign(msg, key)
    assert first.verify(msg, time.time()) == (None, "")
    path.write_text('{"s-1": 17')  # torn, e.g. a disk that filled up mid-write
    now = time.time()
    second = Verifier(key, path)
    assert second.verify(msg, now)[0] == "signing_unavailable"  # not an empty memory
    fresh = {"id": "s-2", "action": "water_plants", "ts": now}
    fresh["sig"] = sign(fresh, key)
    reason, detail = second.verify(fresh, now)
    assert reason == "signing_unavailable" and "signed-ids.json" in detail
    # A minute after the file was last written, no id it held can be replayed: start over.
    later = now + REMEMBER_S + 1
    fresh["ts"] = later
    fresh["sig"] = sign(fresh, key)
    assert second.verify(fresh, later) == (None, "")
    assert Verifier(key, path).verify(fresh, later)[0] == "replayed"  # the file is good again


def test_ids_of_unsigned_requests_survive_a_restart_within_a_bounded_window(
        tmp_path: Path) -> None:
    path = tmp_path / "seen-ids.jsonl"
    first = SeenIds(path, keep=100)
    assert first.claim("c-1") and first.claim('odd "id"\nwith a newline')
    assert not first.claim("c-1")
    first.close()
    with path.open("a") as f:
        f.write('"torn')  # a crash mid-line
    second = SeenIds(path, keep=100)
    assert not second.claim("c-1") and not second.claim('odd "id"\nwith a newline')
    for i in range(1000):
        assert second.claim(f"n-{i}")
    second.close()
    assert len(path.read_text().splitlines()) <= 200  # rewritten, never more than twice keep
    third = SeenIds(path, keep=100)
    assert not third.claim("n-999") and third.claim("c-1")  # only the newest 100 are kept
