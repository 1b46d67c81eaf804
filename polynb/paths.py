"""The one rule for names that come from a request or a cell: they stay inside the folder they are for.

A KO zip entry, an artifact, a ``.proto`` cell name, a workflow name or a document name is a name, never a
way out: ``..``, an absolute path, or a symlink that leads elsewhere is refused with :class:`PathEscape`
before anything is written or removed.
"""
from __future__ import annotations

import os
import posixpath
from pathlib import Path, PurePosixPath
from typing import overload


class PathEscape(ValueError):
    """A name that would lead outside its folder (or to the folder itself)."""


@overload
def inside(folder: str | Path, name: str) -> Path: ...


@overload
def inside(folder: PurePosixPath, name: str) -> PurePosixPath: ...


def inside(folder: str | os.PathLike[str], name: str) -> Path | PurePosixPath:
    """``folder / name`` when it lies strictly inside ``folder``, else :class:`PathEscape`.

    A real folder is resolved, so a symlink inside it that points elsewhere does not count as inside; a
    :class:`PurePosixPath` folder (a URL path such as ``/docs``) is checked by its text alone.
    """
    text = str(name)
    if not text or "\0" in text:
        raise PathEscape(f"{name!r} is not a usable name inside {folder}")
    if isinstance(folder, PurePosixPath) and not isinstance(folder, Path):
        base_text = posixpath.normpath(str(folder))
        target_text = posixpath.normpath(posixpath.join(base_text, text))
        if target_text == base_text or not target_text.startswith(base_text.rstrip("/") + "/"):
            raise PathEscape(f"{name!r} leads outside {folder}")
        return PurePosixPath(target_text)
    base = Path(folder).resolve()
    target = (base / text).resolve()
    if target == base or not target.is_relative_to(base):
        raise PathEscape(f"{name!r} leads outside {folder}")
    return target
