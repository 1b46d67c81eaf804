"""CloudState: notebook entities (event-sourced and CRDT) served as a user function, and a local proxy.

``wire`` (Any encoding, reply shapes), ``protolib`` (run-time proto compilation), ``crdts`` (the CRDT
kinds), ``entities`` (the decorators a cell uses), ``eventsourced``/``crdtentity`` (entity rules),
``userfunction`` (the gRPC user function), ``binding``, ``proxy`` with ``proxydrivers``, ``proxystore`` and
``proxyhttp`` (the local proxy), ``standin`` (``polynb up cloudstate``), ``settings``, ``api``/``magics``.
"""
from __future__ import annotations

from ..base import Platform
from .binding import CloudStateBinding
from .magics import CloudStateMagics
from .settings import CloudStateSettings


def _stand_in(settings: CloudStateSettings):
    """Imported on use: the proxy and its modules load only in the process that runs ``polynb up cloudstate``."""
    from .standin import LocalProxy

    return LocalProxy(settings)


PLATFORM = Platform(name="cloudstate", title="CloudState", binding=CloudStateBinding, settings=CloudStateSettings,
                    magics=CloudStateMagics, stand_in=_stand_in)
