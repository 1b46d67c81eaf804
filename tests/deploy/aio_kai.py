"""The KAI managers' side of a deployment, as the AIO deploy test plays it (fact sheet sections 3 and 6).

The nats-manager creates the workflow's stream, the four KV buckets and the object store when a product version
is deployed; the k8s-manager mounts each process's ``app.yaml`` and sets ``KAI_APP_CONFIG_PATH``. The names are
written out here as the fact sheet gives them, not taken from polynb, so the test checks polynb against them.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from nats.js import JetStreamContext
from nats.js.api import ObjectStoreConfig, RetentionPolicy, StreamConfig

STREAM = "demo_v1_0_0_wf"
PROCESSES = ("trig", "task1", "exit")
BUCKETS = {"global": "key-store_demo", "product": "key-store_demo_v1_0_0",
           "workflow": "key-store_demo_v1_0_0_wf", "process": "key-store_demo_v1_0_0_wf_task1"}
OBJECT_STORE = "demo_v1_0_0_wf_cache"
PROCESS_CONFIG = {"greeting": "hi"}


async def deploy_workflow(js: JetStreamContext) -> None:
    """What the nats-manager creates for product demo v1.0.0, workflow wf (trig -> task1 -> exit)."""
    subjects = [s for p in PROCESSES for s in (f"{STREAM}.{p}", f"{STREAM}.{p}.*")]
    await js.add_stream(StreamConfig(name=STREAM, subjects=subjects, retention=RetentionPolicy.INTEREST))
    for bucket in BUCKETS.values():
        await js.create_key_value(bucket=bucket)
    await js.create_object_store(OBJECT_STORE, ObjectStoreConfig(ttl=5 * 86400))


def mount_app_yaml(folder: Path, nats_url: str) -> Path:
    """The k8s-manager's app.yaml of task1 (subscribed to trig): the folder KAI_APP_CONFIG_PATH names."""
    config = {
        "metadata": {"product_id": "demo", "version_tag": "v1.0.0", "workflow_name": "wf", "workflow_type": "data",
                     "process_name": "task1", "process_type": "task"},
        "nats": {"url": nats_url, "stream": STREAM, "output": f"{STREAM}.task1", "inputs": [f"{STREAM}.trig"],
                 "object_store": OBJECT_STORE},
        "centralized_configuration": {
            **{scope: {"bucket": bucket} for scope, bucket in BUCKETS.items()},
            "process": {"bucket": BUCKETS["process"], "config": PROCESS_CONFIG},
        },
        "minio": {"endpoint": "minio:9000", "client_user": "task1", "client_password": "secret", "ssl": False,
                  "bucket": "demo-v1-0-0"},
        "auth": {"endpoint": "http://keycloak:8080", "client": "kai", "client_secret": "secret", "realm": "kai"},
        "predictions": {"endpoint": "redis:6379", "username": "kai", "password": "secret", "index": "demo"},
        "measurements": {"endpoint": "localhost:4317", "insecure": True, "timeout": 5, "metrics_interval": 60},
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "app.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
