"""A node's configuration: the real SDK's ``config.yaml``/``app.yaml`` files, or polynb's settings (fact sheet 6).

In a KAI deployment the manager mounts the process's ``app.yaml`` at ``KAI_APP_CONFIG_PATH``; polynb reads it the
way the SDK does when its ``metadata.process_name`` is the cell's process. Otherwise the node's names derive
from the ``aio`` settings (``polynb.yaml`` or environment) with the managers' naming rules.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import names

RUNNERS = ("trigger", "task", "exit")
SDK_ACK_WAIT_HOURS = 22
MANDATORY = ("metadata.product_id", "metadata.version_tag", "metadata.workflow_name", "metadata.workflow_type",
             "metadata.process_name", "metadata.process_type", "nats.url", "nats.stream", "nats.output",
             "centralized_configuration.global.bucket", "centralized_configuration.product.bucket",
             "centralized_configuration.workflow.bucket", "centralized_configuration.process.bucket")


class AppConfigError(ValueError):
    """The SDK's FailedLoadingConfigError: a file that misses mandatory keys."""


@dataclass(frozen=True)
class NodeSpec:
    """Everything a node needs to run: names, subjects, buckets and delivery settings."""

    product: str
    version: str
    workflow: str
    workflow_type: str
    process: str
    runner: str
    nats_url: str | None
    stream: str
    output: str
    inputs: tuple[str, ...]
    buckets: Mapping[str, str]
    object_store: str | None
    ack_wait: float
    process_config: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Placement:
    """Where a node named by a cell or a KRT file lives: product, version, default workflow, delivery."""

    product: str
    version: str
    workflow: str
    workflow_type: str = "data"
    object_store: str | None = None
    ack_wait: float = 30.0


def lookup(data: Mapping[str, Any], dotted: str) -> Any:
    """A dotted key of a nested mapping, or None."""
    value: Any = data
    for part in dotted.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _merge(base: dict, over: Mapping) -> dict:
    merged = dict(base)
    for key, value in over.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, Mapping) and isinstance(merged.get(key), dict) else value
    return merged


def _first_file(name: str, folders: list[str]) -> dict:
    for folder in folders:
        path = Path(folder) / name
        if path.is_file():
            return yaml.safe_load(path.read_text()) or {}
    return {}


def read_app_config(environ: Mapping[str, str] | None = None, cwd: str = ".") -> dict:
    """The SDK's view: ``config.yaml`` (config path, then cwd) with ``app.yaml`` (cwd, then config path) over it.

    Environment variables ``KAI_<dotted.key>`` (the SDK's automatic env, no key replacer) win over both.
    """
    environ = os.environ if environ is None else environ
    config_path = environ.get("KAI_APP_CONFIG_PATH")
    folders = [config_path] if config_path else []
    data = _merge(_first_file("config.yaml", folders + [cwd]), _first_file("app.yaml", [cwd] + folders))
    for key, value in environ.items():
        if key.startswith("KAI_") and "." in key:
            node: dict = {}
            parts = key[4:].lower().split(".")
            cursor = node
            for part in parts[:-1]:
                cursor = cursor.setdefault(part, {})
            cursor[parts[-1]] = value
            data = _merge(data, node)
    return data


def spec_from_app_config(data: Mapping[str, Any], ack_wait: float | None = None,
                         subscribe: tuple[str, ...] = ()) -> NodeSpec:
    """A node from an SDK configuration; ``ack_wait`` (seconds) applies unless the file sets its own (hours),
    and ``subscribe`` (processes, as a cell's ``--subscribe``) only when it names no ``nats.inputs``."""
    missing = [key for key in MANDATORY if lookup(data, key) in (None, "")]
    if missing:
        raise AppConfigError(f"the KAI app configuration misses mandatory keys: {', '.join(missing)}")
    inputs = lookup(data, "nats.inputs") or []
    if isinstance(inputs, str):
        inputs = [part.strip() for part in inputs.split(",") if part.strip()]
    if not inputs:
        inputs = [names.input_subject(str(lookup(data, "nats.stream")), process) for process in subscribe]
    hours = lookup(data, "runner.subscriber.ack_wait_time")
    wait = float(hours) * 3600 if hours is not None else (ack_wait if ack_wait is not None else SDK_ACK_WAIT_HOURS * 3600)
    runner = str(lookup(data, "metadata.process_type")).lower()
    if runner not in RUNNERS:
        raise AppConfigError(f"metadata.process_type is {runner!r}; KAI knows {', '.join(RUNNERS)}")
    return NodeSpec(
        product=str(lookup(data, "metadata.product_id")), version=str(lookup(data, "metadata.version_tag")),
        workflow=str(lookup(data, "metadata.workflow_name")),
        workflow_type=str(lookup(data, "metadata.workflow_type")),
        process=str(lookup(data, "metadata.process_name")), runner=runner,
        nats_url=str(lookup(data, "nats.url")), stream=str(lookup(data, "nats.stream")),
        output=str(lookup(data, "nats.output")), inputs=tuple(inputs),
        buckets={scope: str(lookup(data, f"centralized_configuration.{scope}.bucket")) for scope in names.SCOPES},
        object_store=lookup(data, "nats.object_store") or None, ack_wait=wait,
        process_config={str(k): str(v) for k, v in (lookup(data, "centralized_configuration.process.config") or {}).items()},
    )


def derive_spec(placement: Placement, process: str, runner: str, workflow: str | None = None,
                subscribe: tuple[str, ...] = (), nats_url: str | None = None) -> NodeSpec:
    """A node named by a cell (or a KRT file), with the managers' names under the placement's product and version."""
    names.check_process_name(process)
    if runner not in RUNNERS:
        raise ValueError(f"--runner must be one of {', '.join(RUNNERS)}, not {runner!r}")
    product, version = placement.product, placement.version
    workflow = workflow or placement.workflow
    stream = names.stream(product, version, workflow)
    store = placement.object_store
    return NodeSpec(
        product=product, version=version, workflow=workflow, workflow_type=placement.workflow_type,
        process=process, runner=runner, nats_url=nats_url, stream=stream, output=names.subject(stream, process),
        inputs=tuple(names.input_subject(stream, sub) for sub in subscribe),
        buckets=names.kv_buckets(product, version, workflow, process),
        object_store=names.object_store(product, version, store, workflow) if store else None,
        ack_wait=placement.ack_wait,
    )


def nats_servers(url: str) -> list[str]:
    """The servers a NATS URL setting names: one URL, or a cluster's comma-separated URLs (as the Go client takes
    them); nats-py wants them as a list to fail over along."""
    servers = [part.strip() for part in url.split(",") if part.strip()]
    if not servers:
        raise ValueError(f"AIO: no NATS server in {url!r}; give nats://HOST:PORT, or several separated by commas")
    return servers


def app_config(spec: NodeSpec, ack_wait_hours: float | None = None) -> dict:
    """The ``app.yaml`` the KAI manager writes for a process, with placeholder MinIO, auth, predictions and
    measurements entries (mandatory for the real SDK; unused until those backends are configured). Of a cluster's
    URLs it holds the first: the SDK hands ``nats.url`` to nats-py as one URL, and learns the other members from the
    server it reaches."""
    url = nats_servers(spec.nats_url)[0] if spec.nats_url else spec.nats_url
    nats: dict[str, Any] = {"url": url, "stream": spec.stream, "output": spec.output, "inputs": list(spec.inputs)}
    if spec.object_store:
        nats["object_store"] = spec.object_store
    config: dict[str, Any] = {
        "metadata": {"product_id": spec.product, "version_tag": spec.version, "workflow_name": spec.workflow,
                     "workflow_type": spec.workflow_type, "process_name": spec.process, "process_type": spec.runner},
        "nats": nats,
        "centralized_configuration": {scope: {"bucket": bucket} for scope, bucket in spec.buckets.items()},
        "minio": {"endpoint": "localhost:9000", "client_user": "kai", "client_password": "kai", "ssl": False,
                  "bucket": spec.product},
        "auth": {"endpoint": "http://localhost:8080", "client": "kai", "client_secret": "kai", "realm": "kai"},
        "predictions": {"endpoint": "localhost:6379", "username": "kai", "password": "kai", "index": spec.product},
        "measurements": {"endpoint": "localhost:4317", "insecure": True, "timeout": 5, "metrics_interval": 60},
    }
    if spec.process_config:
        config["centralized_configuration"]["process"]["config"] = dict(spec.process_config)
    if ack_wait_hours is not None:
        config["runner"] = {"subscriber": {"ack_wait_time": ack_wait_hours}}
    return config
