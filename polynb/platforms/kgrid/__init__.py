"""KGrid: polynb as a KGrid Python runtime, ``%%kgrid_ko`` Knowledge Objects, and a local activator.

The folder splits by job: ``wire`` (the protocol's shapes), ``ko`` (KO files), ``shelf`` (the
runtime's pyshelf), ``runtime`` (the HTTP server polynb plays), ``binding`` (what the service drives),
``activator`` (the local activator) and ``standin`` (``polynb up kgrid``), ``settings``, ``api`` and
``magics`` (what a notebook uses).
"""
from __future__ import annotations

from ..base import Platform, UpOption
from .binding import KgridBinding
from .magics import KgridMagics
from .settings import KgridSettings
from .standin import LocalActivator

PLATFORM = Platform(name="kgrid", title="KGrid", binding=KgridBinding, settings=KgridSettings, magics=KgridMagics,
                    stand_in=LocalActivator,
                    up_options=(UpOption("--kos", "KGRID_KOS_DIR", "KGrid: load every KO folder and zip in DIR at start"),),
                    client_env=lambda info: {"KGRID_PROXY_ADAPTER_URL": info["url"]})
