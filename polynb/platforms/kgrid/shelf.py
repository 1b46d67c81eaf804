"""The runtime's ``pyshelf``: downloaded artifacts per endpoint key, ``context.json``, and imports.

It lives under the journal folder (``<journal>/kgrid/pyshelf``) or ``KGRID_PYTHON_SHELF_DIR``, never in
the working directory. Modules are imported as ``pyshelf.<key>.<entry>`` like the real runtime does,
through package objects made here, so nothing is added to ``sys.path``.
"""
from __future__ import annotations

import importlib
import json
import shutil
import sys
import threading
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...paths import inside
from .wire import entry_module

ROOT_PACKAGE = "pyshelf"
_import_lock = threading.Lock()


class Shelf:
    """Files and ``context.json`` of one runtime; the context maps endpoint key -> endpoint entry."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.context_path = self.directory / "context.json"
        self.context: dict[str, dict] = self._read_context()
        self.functions: dict[str, Callable] = {}

    def _read_context(self) -> dict[str, dict]:
        try:
            data = json.loads(self.context_path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save(self) -> None:
        """Written after every state change (indent 4, sorted keys), so a restart finds every endpoint."""
        temporary = self.context_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.context, indent=4, sort_keys=True, default=str))
        temporary.replace(self.context_path)

    def folder(self, key: str) -> Path:
        """The endpoint's own folder; a key that is no folder inside the shelf is a :class:`PathEscape`."""
        return inside(self.directory, key)

    def clear(self, key: str) -> None:
        shutil.rmtree(self.folder(key), ignore_errors=True)

    def write(self, key: str, artifact: str, data: bytes) -> None:
        target = inside(self.folder(key), artifact)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def requirements(self, key: str) -> Path | None:
        path = self.folder(key) / "requirements.txt"
        return path if path.is_file() else None

    def import_function(self, key: str, entry: str, function: str) -> Callable:
        """Import ``pyshelf.<key>.<entry>`` afresh (dropping an earlier import) and return the function.

        A missing folder raises FileNotFoundError with the path the real runtime names.
        """
        folder = self.folder(key)
        if not folder.is_dir():
            raise FileNotFoundError(2, "No such file or directory", f"{ROOT_PACKAGE}/{key}")
        prefix = f"{ROOT_PACKAGE}.{key}"
        with _import_lock:
            for name in [name for name in sys.modules if name == prefix or name.startswith(prefix + ".")]:
                del sys.modules[name]
            self._package(ROOT_PACKAGE, self.directory)
            self._package(prefix, folder)
            importlib.invalidate_caches()
            module = importlib.import_module(f"{prefix}.{entry_module(entry)}")
        target: Any = module
        for part in function.split("."):
            target = getattr(target, part)
        return target

    @staticmethod
    def _package(name: str, path: Path) -> None:
        """A namespace-like package at ``path`` (re-pointed when another shelf imported before)."""
        package = sys.modules.get(name)
        if package is None or list(getattr(package, "__path__", [])) != [str(path)]:
            package = types.ModuleType(name)
            package.__path__ = [str(path)]
            sys.modules[name] = package
