"""KGrid: polynb as a KGrid Python runtime, ``%%kgrid_ko`` Knowledge Objects, and a local activator.

The folder splits by job: ``wire`` (the protocol's shapes), ``ko`` (KO files), ``shelf`` (the
runtime's pyshelf), ``runtime`` (the HTTP server polynb plays), ``activator`` (the local stand-in),
``binding`` (what the service drives), ``api`` and ``magics`` (what a notebook uses).
"""
from __future__ import annotations

from ...config import Setting
from ..base import Platform, UpOption
from .activator import LocalActivator
from .binding import KgridBinding
from .magics import KgridMagics


def _flag(text: str) -> bool:
    return text.strip().lower() == "true"


SETTINGS = (
    Setting("adapter_url", "KGRID_PROXY_ADAPTER_URL", None,
            help="the activator (its proxy adapter); unset: polynb starts its local activator"),
    Setting("env_url", "KGRID_PYTHON_ENV_URL", None,
            help="the runtime's URL as the activator reaches it (default http://<bind host>:<port>)"),
    Setting("runtime_port", "POLYNB_KGRID_PORT", None, cast=int,
            help="the runtime's port (0: a free one); wins over PORT and KGRID_PYTHON_ENV_PORT"),
    Setting("port_override", "PORT", None, cast=int,
            help="overrides KGRID_PYTHON_ENV_PORT, as in the real runtime, unless another platform took PORT first"),
    Setting("port", "KGRID_PYTHON_ENV_PORT", None, cast=int,
            help="the runtime's port (default: a free one; 5000, the real runtime's, when KGRID_PYTHON_ENV_URL is set)"),
    Setting("cache_strategy", "KGRID_PYTHON_CACHE_STRATEGY", "never", help="never, always or use_checksum"),
    Setting("heartbeat", "KGRID_PROXY_HEARTBEAT_INTERVAL", 30, cast=int,
            help="seconds between re-registrations; below 5 disables the heartbeat"),
    Setting("debug", "DEBUG", False, cast=_flag, help="true: debug logging of the runtime"),
    Setting("shelf_dir", "KGRID_PYTHON_SHELF_DIR", None, help="the runtime's pyshelf (default <journal>/kgrid/pyshelf)"),
    Setting("activator_port", "KGRID_ACTIVATOR_PORT", 0, cast=int, help="the local activator's port (default: free)"),
    Setting("activator_shelf", "KGRID_ACTIVATOR_SHELF", None,
            help="the local activator's shelf (default <journal>/kgrid/activator)"),
    Setting("kos_dir", "KGRID_KOS_DIR", None, help="a folder of KO folders and zips the local activator loads at start"),
)

PLATFORM = Platform(name="kgrid", title="KGrid", binding=KgridBinding, settings=SETTINGS, magics=KgridMagics,
                    stand_in=LocalActivator,
                    up_options=(UpOption("--kos", "KGRID_KOS_DIR", "KGrid: load every KO folder and zip in DIR at start"),),
                    client_env=lambda info: {"KGRID_PROXY_ADAPTER_URL": info["url"]})
