"""Files the daemon keeps in its state directory, replaced atomically: a temporary file, fsync,
rename, fsync of the directory, so a crash or a power cut leaves the old content or the new,
never half of one."""

from __future__ import annotations

import os
from pathlib import Path


def replace_atomically(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write data as path's whole content; OSError when it cannot be written.

    Not durable: renamed into place without waiting for the disk, which a crash of this process
    survives but a power cut may not, until sync(path)."""
    temporary = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(temporary, "wb") as f:
        f.write(data)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.replace(temporary, path)
    if durable:
        sync_directory(path.parent)


def sync(path: Path) -> None:
    """Make the last write of path durable (FileNotFoundError when there is none)."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())
    sync_directory(path.parent)


def sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
