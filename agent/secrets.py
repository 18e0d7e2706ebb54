"""Secrets from files or systemd credentials; their contents are never logged."""

from __future__ import annotations

import os
from pathlib import Path

# The systemd credential names (LoadCredential=) the daemon looks for.
CREDENTIALS = {"mqtt_password": "mqtt-password", "signing_key": "signing-key",
               "cloud_api_key": "cloud-api-key"}


class SecretError(Exception):
    pass


def read_secret(path: str, credential: str, env: str = "") -> bytes | None:
    """The configured file, else the systemd credential, else an environment variable.

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
    return value if value and value.strip() else None
