"""Virtual environments for the real peer libraries, one per peer, never polynb's own.

The peers install modules with generic names (pycolonies: ``crypto``, ``model``; kai-runner: ``runner``,
``sdk``), so each lives in ``.peers/<name>`` at the project root (git-ignored), made on first use by the
test that needs it and reused afterwards. Tests run the peer as a subprocess with that venv's Python.
"""
from __future__ import annotations

import fcntl
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / ".peers"


def peer_python(name: str, requirements: list[str], python: str | None = None) -> Path:
    """The Python of a venv holding exactly ``requirements`` (installed once, under a file lock)."""
    PEERS.mkdir(exist_ok=True)
    home = PEERS / name
    stamp = home / ".requirements"
    wanted = "\n".join(requirements) + "\n"
    with open(PEERS / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.is_file() or stamp.read_text() != wanted:
            if python:
                subprocess.run([python, "-m", "venv", "--clear", str(home)], check=True)
            else:
                venv.EnvBuilder(clear=True, with_pip=True).create(home)
            pip = [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            subprocess.run(pip + requirements, check=True)
            stamp.write_text(wanted)
    return home / "bin" / "python"


if __name__ == "__main__":
    print(peer_python(sys.argv[1], sys.argv[2:]))
