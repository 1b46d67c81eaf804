"""Settings of the AIO platform: the KAI SDK's variables, plus polynb's own (``POLYNB_AIO_*``)."""
from __future__ import annotations

from ...config import Field, TypedSection, flag
from .clusters import cluster_size


class AioSettings(TypedSection):
    nats_url = Field[str | None]("KAI_NATS_URL", None,
                                 help="NATS of a KAI installation; none uses app.yaml's nats.url, else starts the "
                                      "local setup")
    standin_url = Field[str | None]("POLYNB_AIO_STANDIN_URL", None,
                                    help="NATS of a running `polynb up aio` (binder/start exports it): set up like "
                                         "the kernel's own")
    standin_config_dir = Field[str | None]("POLYNB_AIO_STANDIN_CONFIG_DIR", None,
                                           help="where that stand-in keeps each node's app.yaml")
    product = Field[str]("KAI_PRODUCT_ID", "polynb", help="product id the notebook's nodes belong to")
    version = Field[str]("KAI_VERSION_TAG", "v1.0.0", help="product version tag (dots become _ in names)")
    workflow = Field[str]("KAI_WORKFLOW_NAME", "notebook", help="workflow of nodes that name none")
    workflow_type = Field[str]("KAI_WORKFLOW_TYPE", "data", help="data, training, feedback or serving")
    object_store = Field[str]("KAI_OBJECT_STORE", "ephemeral",
                              help="workflow object store for sdk.storage.ephemeral (empty: none)")
    ack_wait = Field[float]("POLYNB_AIO_ACK_WAIT", 30.0, cast=float,
                            help="seconds before an unacked message goes to another replica (the SDK waits 22 h)")
    manage = Field[bool | None]("POLYNB_AIO_MANAGE", None, cast=flag,
                                help="create streams, KV buckets and object stores for the nodes (default: only with "
                                     "the local setup)")
    concurrency = Field[int]("POLYNB_AIO_CONCURRENCY", 1, cast=int,
                             help="messages a node handles at once; 1, as the SDK, keeps delivery order and lets "
                                  "handlers share state (more: no order within a subject, which KAI does not promise)")
    log_to_stdout = Field[bool]("POLYNB_AIO_LOG_STDOUT", True, cast=flag,
                                help="a handler's output also as JSON log lines on the process's stdout, KAI's log "
                                     "channel (with the request id)")
    krt = Field[str | None]("POLYNB_AIO_KRT", None, help="a KRT yaml file the local setup creates at start")
    local_port = Field[int]("POLYNB_AIO_LOCAL_PORT", 0, cast=int, help="port of the local nats-server (0: free)")
    cluster = Field[int]("POLYNB_AIO_CLUSTER", 1, cast=cluster_size,
                         help="members of the local NATS cluster (polynb up aio --cluster N; 1: one nats-server)")
    replicas = Field[int]("POLYNB_AIO_REPLICAS", 1, cast=int,
                          help="servers that hold each stream, KV bucket and object store polynb creates (a cluster's "
                               "size; polynb up aio --cluster N exports N)")
    request_timeout = Field[float | None]("POLYNB_AIO_REQUEST_TIMEOUT", None, cast=float,
                                          help="seconds polynb.aio.request waits for the exit node's answer (default: "
                                               "core.call_timeout)")
