"""Private keys polynb generates for its executors and its submitter, kept beside the journal.

A key file per identity (mode 0600) means a restarted kernel comes back as the same executor,
already approved, instead of leaving a stale executor behind in the colony.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from . import crypto


def key_file(directory: Path, name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return directory / "colonies" / "keys" / f"{safe}.key"


def load_or_create(directory: Path, name: str) -> str:
    """The key stored for ``name``, created on first use."""
    path = key_file(directory, name)
    if path.is_file():
        key = path.read_text().strip()
        crypto.identity(key)  # a damaged file is an error, not a silent new identity
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = crypto.generate_private_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key
