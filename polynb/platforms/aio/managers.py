"""What the KAI managers set up before nodes start: the workflow stream, the KV buckets, the object store, app.yaml.

polynb plays the managers when it runs its own nats-server (``polynb up aio``, or the embedded default), from the
notebook's nodes or from a KRT file, with the naming of :mod:`.names`. ``replicas`` is how many servers of a NATS
cluster hold each stream, bucket and object store (``polynb up aio --cluster N`` sets it to N: :mod:`.clusters`).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, ObjectStoreConfig, RetentionPolicy, StreamConfig
from nats.js.errors import BucketNotFoundError, NotFoundError

from ...paths import inside
from . import appconfig, names
from .appconfig import NodeSpec


async def ensure_stream(js: JetStreamContext, stream: str, processes: Iterable[str], replicas: int = 1) -> None:
    """Create the workflow's stream, or widen its subjects to cover ``processes`` (Interest retention)."""
    wanted = names.stream_subjects(stream, list(dict.fromkeys(processes)))
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        await js.add_stream(StreamConfig(name=stream, subjects=wanted, retention=RetentionPolicy.INTEREST,
                                         num_replicas=replicas))
        return
    current = list(info.config.subjects or [])
    missing = [s for s in wanted if s not in current]
    if missing:
        info.config.subjects = current + missing
        await js.update_stream(info.config)


async def ensure_buckets(js: JetStreamContext, buckets: Iterable[str], replicas: int = 1) -> None:
    for bucket in buckets:
        try:
            await js.key_value(bucket)
        except BucketNotFoundError:
            await js.create_key_value(KeyValueConfig(bucket=bucket, replicas=replicas))


async def ensure_object_store(js: JetStreamContext, name: str, ttl_days: float = 5, replicas: int = 1) -> None:
    try:
        await js.object_store(name)
    except (BucketNotFoundError, NotFoundError):
        await js.create_object_store(name, ObjectStoreConfig(ttl=ttl_days * 86400, replicas=replicas))


def process_of(subject: str, stream: str) -> str:
    """The process a subject belongs to (``<stream>.etl.chan`` -> ``etl``)."""
    return subject[len(stream) + 1:].split(".")[0]


async def apply_node(js: JetStreamContext, spec: NodeSpec, replicas: int = 1) -> None:
    """Everything one node needs to exist before it starts."""
    await ensure_stream(js, spec.stream, [spec.process] + [process_of(s, spec.stream) for s in spec.inputs],
                        replicas)
    await ensure_buckets(js, spec.buckets.values(), replicas)
    if spec.object_store:
        await ensure_object_store(js, spec.object_store, replicas=replicas)


def write_app_config(folder: Path, spec: NodeSpec) -> Path:
    """The process's ``app.yaml`` where a KAI pod would find it (``<folder>/<workflow>/<process>/app.yaml``);
    a workflow or process name that leads outside ``folder`` is a :class:`PathEscape`."""
    path = inside(folder, f"{spec.workflow}/{spec.process}/app.yaml")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(appconfig.app_config(spec), sort_keys=False))
    return path


def specs_from_krt(krt: Mapping[str, Any], product: str, nats_url: str, ack_wait: float) -> list[NodeSpec]:
    """The nodes a KRT file describes, named the way the managers name them."""
    version = str(krt["version"])
    specs = []
    for workflow in krt.get("workflows") or []:
        for process in workflow.get("processes") or []:
            placement = appconfig.Placement(product, version, workflow["name"], workflow.get("type", "data"),
                                            (process.get("objectStore") or {}).get("name"), ack_wait)
            spec = appconfig.derive_spec(placement, process["name"], str(process["type"]).lower(),
                                         subscribe=tuple(process.get("subscriptions") or ()), nats_url=nats_url)
            store = process.get("objectStore") or {}
            if store.get("name") and store.get("scope", "workflow") == "product":
                spec = replace(spec, object_store=names.object_store(product, version, store["name"]))
            specs.append(spec)
    return specs


async def apply_krt(js: JetStreamContext, krt: Mapping[str, Any], product: str, nats_url: str,
                    config_dir: Path, ack_wait: float, replicas: int = 1) -> list[Path]:
    """Set up every workflow of a KRT file and write each process's app.yaml; return the files written."""
    specs = specs_from_krt(krt, product, nats_url, ack_wait)
    for spec in specs:
        await apply_node(js, spec, replicas)
    return [write_app_config(config_dir, spec) for spec in specs]
