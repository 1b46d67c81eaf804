"""polynb: notebook cells as live workers for KGrid, Vantiq, ColonyOS, KAI and CloudState.

``%load_ext polynb`` registers the magics; the kernel-side service starts on first need and stops on
``%unload_ext polynb`` or when the kernel exits.
"""
from __future__ import annotations

import atexit
import importlib.abc
import importlib.util
import json
import sys
import threading
from typing import Any

__version__ = "0.1.0"

_lock = threading.RLock()
_state: dict[str, Any] = {"shell": None, "service": None, "journal": None, "updater": None, "views": {}}


def _jupyter_server_extension_points() -> list[dict]:
    """jupyter-server finds the REST API of the lab panel here."""
    return [{"module": "polynb.server_extension"}]


def _jupyter_labextension_paths() -> list[dict]:
    return [{"src": "labextension", "dest": "polynb"}]


def load_ipython_extension(ipython) -> None:
    """Register every polynb magic with this IPython shell, and name ``polynb`` in the notebook.

    A snippet such as ``polynb.kgrid.call(...)`` then runs right after ``%load_ext polynb``, as copied.
    """
    from . import platforms
    from .magics import PolynbMagics

    _state["shell"] = ipython
    ipython.push({"polynb": sys.modules[__name__]}, interactive=False)
    ipython.register_magics(PolynbMagics)
    for platform in platforms.available().values():
        if platform.magics is not None:
            ipython.register_magics(platform.magics)


def unload_ipython_extension(ipython) -> None:
    """Stop the service cleanly: drain executions, stop platform bindings, close the journal."""
    shutdown()
    _state["shell"] = None


def get_journal():
    """The journal of this kernel (opened on first need; the service writes to the same one)."""
    with _lock:
        if _state["journal"] is None:
            from .journal import Journal, default_directory
            from .service import load_settings

            directory = load_settings().core.journal_dir
            _state["journal"] = Journal(directory or default_directory())
        return _state["journal"]


def get_service():
    """The kernel-side service, started on first need."""
    with _lock:
        if _state["service"] is None or _state["service"].stopped:
            from .service import Service

            shell = _state["shell"]
            _state["service"] = Service(journal=get_journal(), notebook_ns=shell.user_ns if shell is not None else None)
        return _state["service"]


def get_updater():
    """The one throttled updater that drives every polynb widget of this kernel."""
    with _lock:
        if _state["updater"] is None:
            from .widgets import Updater

            _state["updater"] = Updater(get_journal())
        return _state["updater"]


def show(key: Any, view: Any) -> None:
    """Display a live widget and keep it updating; a later view with the same key (a re-run cell) replaces it."""
    from IPython.display import display

    with _lock:
        _state["views"][key] = view
    get_updater().add(view)
    display(view)


def records(all_notebooks: bool = False, **filters: Any) -> list:
    """This notebook's journal records, newest first; filters: platform, payload, status, since, limit.

    Notebooks in one folder share a journal; ``all_notebooks=True`` includes the others' records. A kernel
    that does not know its notebook (run by nbclient or papermill, or plain IPython) means its own records.
    """
    journal = get_journal()
    return journal.records(**{**journal.scope(folder=all_notebooks), **filters})


def cancel(record_id: str, reason: str = "cancelled from the notebook") -> str:
    """Cancel an execution in flight (its id or a unique prefix): in this kernel at once, in another kernel
    through the journal it watches. Returns the full id; KeyError when no open execution has that id."""
    cancelled = get_service().cancel(record_id, reason)
    if cancelled is None:
        raise KeyError(f"no open execution {record_id!r} in {get_journal().path}")
    return cancelled


def serving() -> str:
    """What this kernel serves, as JSON (``polynb serve`` reads it from the kernel): each payload with its
    signature (input and output shape) where its platform has one."""
    running = _state["service"]
    if running is None or running.stopped:
        return json.dumps({"payloads": [], "platforms": {}})
    rows = {(row.platform, row.name, row.version): row for row in running.journal.payloads(active_only=False)}
    return json.dumps({
        "payloads": [{"platform": v.platform, "name": v.name, "version": v.version,
                      "address": running.address(v.platform, v.name),
                      "signature": getattr(rows.get((v.platform, v.name, v.version)), "signature", None)}
                     for v in running.payloads()],
        "platforms": {name: {"state": s.state, "address": s.address} for name, s in running.statuses().items()},
    })


def shutdown(timeout: float | None = None) -> int:
    """Stop the service (drains in-flight executions up to the drain timeout); returns how many were cut."""
    with _lock:
        running, _state["service"] = _state["service"], None
        ui, _state["updater"] = _state["updater"], None
        _state["views"].clear()
        opened, _state["journal"] = _state["journal"], None
    interrupted = running.stop(timeout) if running is not None else 0
    if ui is not None:
        ui.close()
    if opened is not None:
        opened.close_db()
    return interrupted


# At kernel exit jupyter_client sends SIGTERM 2.5 s after the shutdown request: drain for 1 s only, so the
# journal is closed properly before that. Explicit stops (%unload_ext, polynb serve) use drain_timeout.
from . import journal_writer  # noqa: E402,F401 (its exit hook, registered first, commits after shutdown's)

atexit.register(shutdown, 1.0)


def _platform_api(name: str) -> str | None:
    """The module name of a platform's notebook API, when ``name`` is a platform that has one."""
    import importlib.util

    if name.startswith("_") or importlib.util.find_spec(f"polynb.platforms.{name}") is None:
        return None
    api = f"polynb.platforms.{name}.api"
    return api if importlib.util.find_spec(api) is not None else None


def __getattr__(name: str) -> Any:
    """``polynb.kgrid``, ``polynb.colonies``, ...: each platform's notebook API (its ``api`` module)."""
    api = _platform_api(name)
    if api is None:
        raise AttributeError(f"module 'polynb' has no attribute {name!r}")
    import importlib

    return importlib.import_module(api)


class _PlatformApiAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes ``from polynb.cloudstate import command`` import ``polynb.platforms.cloudstate.api``."""

    def find_spec(self, fullname: str, path: Any, target: Any = None):
        package, _, name = fullname.rpartition(".")
        if package != __name__ or _platform_api(name) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        # the import system hands out whatever sys.modules holds once this returns: the API module itself
        api = _platform_api(module.__name__.rpartition(".")[2])
        if api is None:  # find_spec has just found it
            raise ImportError(f"{module.__name__} is no platform's notebook API")
        sys.modules[module.__name__] = importlib.import_module(api)


sys.meta_path.append(_PlatformApiAlias())
