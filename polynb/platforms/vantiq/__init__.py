"""Vantiq: polynb as a Python Execution Connector (an extension source), ``%%vantiq_exec`` and a local server.

Fact sheet: ``shared/protocols/vantiq.md``. Modules: :mod:`.wire` (the frames), :mod:`.connection` (one
source's websocket), :mod:`.execution` and :mod:`.documents` (running queries, fetching their documents),
:mod:`.binding`, :mod:`.server` (the local Vantiq server) and :mod:`.standin` (``polynb up vantiq``),
:mod:`.settings` with :mod:`.serverconfig` (the real connector's ``server.config`` in the working directory
wins over them), :mod:`.magics` and :mod:`.api` (``polynb.vantiq``).
"""
from __future__ import annotations

from ..base import Platform, UpOption
from .binding import PLATFORM as NAME
from .binding import VantiqBinding
from .magics import VantiqMagics
from .settings import VantiqSettings
from .standin import LocalVantiq

PLATFORM = Platform(
    name=NAME, title="Vantiq", binding=VantiqBinding, settings=VantiqSettings, magics=VantiqMagics,
    stand_in=LocalVantiq,
    up_options=(UpOption("--documents", "VANTIQ_DOCUMENTS",
                         "Vantiq: serve each file of DIR as a document (for script queries)"),),
    client_env=lambda info: {"VANTIQ_TARGET_SERVER": info["url"], "CONNECTOR_AUTH_TOKEN": info["token"]},
)
