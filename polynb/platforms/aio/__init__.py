"""AIO (Konstellation KAI): notebook cells as KAI nodes on NATS JetStream, ``%%aio_node``, and a local KAI setup.

Fact sheet: ``shared/protocols/aio.md``. Modules: :mod:`.wire` (the protobuf message, gzip, error texts),
:mod:`.names` and :mod:`.appconfig` (the managers' names, the SDK's configuration), :mod:`.node`,
:mod:`.handlers` and :mod:`.context` (the node polynb plays and the ``sdk`` its handlers get), :mod:`.binding`,
:mod:`.natsserver` and :mod:`.managers` (a nats-server child, the managers' setup) with :mod:`.standin`
(``polynb up aio``), :mod:`.settings`, :mod:`.magics` and :mod:`.api` (``polynb.aio``).
"""
from __future__ import annotations

from ..base import Platform, UpOption
from .binding import AioBinding
from .magics import AioMagics
from .node import PLATFORM as NAME
from .settings import AioSettings
from .standin import LocalKai

PLATFORM = Platform(
    name=NAME, title="AIO (Konstellation KAI)", binding=AioBinding, settings=AioSettings, magics=AioMagics,
    stand_in=LocalKai,
    up_options=(UpOption("--cluster", "POLYNB_AIO_CLUSTER", "AIO: run a cluster of N nats-servers whose streams are "
                         "replicated N times (3 survives the loss of any one)", kind="value"),),
    # The URL alone would read as a KAI installation, whose managers create streams and buckets; the stand-in
    # variables say that this NATS is polynb's, which each kernel sets up for its own nodes (replicated on every
    # member of a cluster).
    client_env=lambda info: {"KAI_NATS_URL": info["url"], "POLYNB_AIO_STANDIN_URL": info["url"],
                             "POLYNB_AIO_STANDIN_CONFIG_DIR": info["config_dir"],
                             "POLYNB_AIO_REPLICAS": str(info.get("replicas", 1))},
)
