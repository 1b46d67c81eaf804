"""AIO (Konstellation KAI): notebook cells as KAI nodes on NATS JetStream, ``%%aio_node``, and a local KAI setup.

Fact sheet: ``shared/protocols/aio.md``. Modules: :mod:`.wire` (the protobuf message, gzip, error texts),
:mod:`.names` and :mod:`.appconfig` (the managers' names, the SDK's configuration), :mod:`.node` and
:mod:`.context` (the node polynb plays and the ``sdk`` its handlers get), :mod:`.binding`, :mod:`.local`
(``polynb up aio``), :mod:`.managers`, :mod:`.magics` and :mod:`.api` (``polynb.aio``).
"""
from __future__ import annotations

from ...config import Setting
from ..base import Platform
from .binding import AioBinding
from .local import LocalKai
from .magics import AioMagics
from .node import PLATFORM as NAME

PLATFORM = Platform(
    name=NAME, title="AIO (Konstellation KAI)", binding=AioBinding, magics=AioMagics, stand_in=LocalKai,
    settings=(
        Setting("nats_url", "KAI_NATS_URL", None,
                help="NATS of a KAI installation; none uses app.yaml's nats.url, else starts the local setup"),
        Setting("standin_url", "POLYNB_AIO_STANDIN_URL", None,
                help="NATS of a running `polynb up aio` (binder/start exports it): set up like the kernel's own"),
        Setting("standin_config_dir", "POLYNB_AIO_STANDIN_CONFIG_DIR", None,
                help="where that stand-in keeps each node's app.yaml"),
        Setting("product", "KAI_PRODUCT_ID", "polynb", help="product id the notebook's nodes belong to"),
        Setting("version", "KAI_VERSION_TAG", "v1.0.0", help="product version tag (dots become _ in names)"),
        Setting("workflow", "KAI_WORKFLOW_NAME", "notebook", help="workflow of nodes that name none"),
        Setting("workflow_type", "KAI_WORKFLOW_TYPE", "data", help="data, training, feedback or serving"),
        Setting("object_store", "KAI_OBJECT_STORE", "ephemeral",
                help="workflow object store for sdk.storage.ephemeral (empty: none)"),
        Setting("ack_wait", "POLYNB_AIO_ACK_WAIT", 30.0, cast=float,
                help="seconds before an unacked message goes to another replica (the SDK waits 22 h)"),
        Setting("manage", "POLYNB_AIO_MANAGE", None, cast=lambda text: text.lower() in ("1", "true", "yes"),
                help="create streams, KV buckets and object stores for the nodes (default: only with the local setup)"),
        Setting("krt", "POLYNB_AIO_KRT", None, help="a KRT yaml file the local setup creates at start"),
        Setting("local_port", "POLYNB_AIO_LOCAL_PORT", 0, cast=int, help="port of the local nats-server (0: free)"),
        Setting("request_timeout", "POLYNB_AIO_REQUEST_TIMEOUT", None, cast=float,
                help="seconds polynb.aio.request waits for the exit node's answer (default: core.call_timeout)"),
    ),
    # The URL alone would read as a KAI installation, whose managers create streams and buckets; the stand-in
    # variables say that this NATS is polynb's, which each kernel sets up for its own nodes.
    client_env=lambda info: {"KAI_NATS_URL": info["url"], "POLYNB_AIO_STANDIN_URL": info["url"],
                             "POLYNB_AIO_STANDIN_CONFIG_DIR": info["config_dir"]},
)
