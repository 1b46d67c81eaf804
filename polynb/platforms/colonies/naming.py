"""Executor names that are unique per kernel, yet readable: the notebook, a short kernel id and the type.

Executor names are unique per colony, and every kernel on a machine used to take the same one, so
two notebooks (or a notebook and its own second run) fought over one executor. A kernel's name now
says which notebook serves it and which kernel, e.g. ``colonies-3f2a9c1d-polynb``. Where the colony
owner approves executors by hand, a name per notebook (``colonies-polynb``) is approved once instead.
"""
from __future__ import annotations

import functools
import re
import uuid
from pathlib import Path

from ...config import notebook_path


@functools.lru_cache(maxsize=1)
def kernel_id() -> str:
    """The first 8 characters of this kernel's id (from its connection file), else of a random id.

    Computed once, so a kernel keeps its name for as long as it runs.
    """
    try:
        from ipykernel.kernelapp import IPKernelApp

        if IPKernelApp.initialized():
            stem = Path(IPKernelApp.instance().connection_file).stem.removeprefix("kernel-")
            if re.fullmatch(r"[0-9a-f-]{8,}", stem):
                return stem.replace("-", "")[:8]
    except ImportError:
        pass
    return uuid.uuid4().hex[:8]


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.") or "polynb"


def executor_name(executortype: str, per_kernel: bool = True, notebook: Path | None = None) -> str:
    """``NOTEBOOK-KERNELID-TYPE`` (this kernel's own executor), or ``NOTEBOOK-TYPE`` shared by the notebook's
    kernels when ``per_kernel`` is False; ``polynb`` stands for the notebook outside Jupyter."""
    notebook = notebook if notebook is not None else notebook_path()
    stem = _safe(notebook.stem) if notebook is not None else "polynb"
    return "-".join([stem, kernel_id(), _safe(executortype)] if per_kernel else [stem, _safe(executortype)])


__all__ = ["executor_name", "kernel_id"]
