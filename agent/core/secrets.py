"""Secrets from files or systemd credentials; their contents are never logged.

A secret is the file's bytes without one trailing newline (LF or CRLF), as mosquitto_passwd,
`$(cat file)` in a shell and systemd's credentials read a file written with `echo`: a password
saved that way works, instead of being refused by the broker as "Not authorized".
"""

from __future__ import annotations

import os
from pathlib import Path

# The systemd credential names (LoadCredential=) the daemon looks for.
CREDENTIALS = {"mqtt_password": "mqtt-password", "signing_key": "signing-key",
               "cloud_api_key": "cloud-api-key"}


class SecretError(Exception):
    pass


def without_final_newline(value: bytes) -> bytes:
    if value.endswith(b"\r\n"):
        return value[:-2]
    return value[:-1] if value.endswith(b"\n") else value


def read_secret(path: str, credential: str, env: str = "", *,
                keep_newline: bool = False) -> bytes | None:
    """The configured file, else the systemd credential, else an environment variable, without
    one trailing newline (keep_newline: as stored, for doctor to tell the difference).

    An empty secret is no secret (the installer leaves empty credential files for what is
    not configured, because LoadCredential= needs the file to exist)."""
    value: bytes | None = None
    if path:
        try:
            value = Path(path).read_bytes()
        except OSError as exc:
            raise SecretError(f"cannot read {path}: {exc.strerror or exc}") from exc
    else:
        cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
        if cred_dir and (Path(cred_dir) / credential).is_file():
            value = (Path(cred_dir) / credential).read_bytes()
        elif env and os.environ.get(env):
            value = os.environ[env].encode()
    if not value or not value.strip():
        return None
    return value if keep_newline else without_final_newline(value)
