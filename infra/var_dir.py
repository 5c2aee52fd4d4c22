"""The data directory (`VAR_DIR`): one owner at a time, and files only its user can read."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "borgerservice.lock"


class VarDirInUse(SystemExit):
    """Another process owns the data directory: a configuration error, never waited out; its
    message is the one line the process exits with."""


@contextmanager
def owning(var_dir: Path) -> Iterator[Path]:
    """Holds `var_dir` for this process while the block runs; `VarDirInUse` at once if another
    process holds it. The kernel drops the lock when its holder dies, however it dies, so
    holding it proves every earlier owner is gone (and what it left running is orphaned)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / LOCK_FILE
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by children
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "?"
            raise VarDirInUse(
                f"borgerservice: {var_dir.resolve()} is in use by another borgerservice "
                f"(pid {owner}); stop it or set VAR_DIR to another directory"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(descriptor)  # releases the lock


def write_private(path: Path, text: str) -> None:
    """Writes `text` to `path`, readable by this user only (mode 0600), never briefly wider."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
