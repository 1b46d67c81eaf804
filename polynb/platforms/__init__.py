"""Discovery of platforms: every subpackage here that exposes ``PLATFORM``, plus plug-ins.

A platform issue adds a folder with ``PLATFORM = Platform(...)`` in its ``__init__`` and touches
nothing else. Modules named in ``POLYNB_PLUGINS`` (comma-separated) are imported too and may call
:func:`register`; the core's tests use that for a fake platform.
"""
from __future__ import annotations

import importlib
import logging
import os
import pkgutil

from .base import Binding, BindingStatus, Platform, StandIn, UpOption

__all__ = ["Binding", "BindingStatus", "Platform", "StandIn", "UpOption", "available", "get", "register"]

log = logging.getLogger("polynb")
_registered: dict[str, Platform] = {}
_broken: dict[str, str] = {}
_discovered = False


def register(platform: Platform) -> None:
    """Make a platform known (plug-ins call this when imported)."""
    _registered[platform.name] = platform


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    for module in pkgutil.iter_modules(__path__):
        if module.ispkg:
            try:
                spec = getattr(importlib.import_module(f"{__name__}.{module.name}"), "PLATFORM", None)
            except Exception as exc:  # one broken platform must not hide the others
                _broken[module.name] = f"{type(exc).__name__}: {exc}"
                log.warning("polynb: the %s platform failed to load: %s", module.name, _broken[module.name])
                continue
            if isinstance(spec, Platform):
                register(spec)
    for name in filter(None, (part.strip() for part in os.environ.get("POLYNB_PLUGINS", "").split(","))):
        importlib.import_module(name)


def available() -> dict[str, Platform]:
    """Every known platform by name."""
    _discover()
    return dict(sorted(_registered.items()))


def get(name: str) -> Platform:
    platforms = available()
    if name in _broken:
        raise KeyError(f"the {name} platform failed to load: {_broken[name]}")
    if name not in platforms:
        raise KeyError(f"unknown platform {name!r}; polynb knows: {', '.join(platforms) or 'none'}")
    return platforms[name]
