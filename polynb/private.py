"""Files that hold secrets (the env file `polynb up` writes, the local Colonies server's keys): owner-only, 0600."""
from __future__ import annotations

import os
from pathlib import Path


def private_file(path: str | os.PathLike) -> Path:
    """``path`` created (empty) or narrowed to mode 0600 before anything secret is written to it.

    SQLite gives its ``-wal`` and ``-shm`` files the mode of the database, so a database made here stays private.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)
    return path
