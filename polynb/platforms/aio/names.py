"""How the KAI managers and the SDK name streams, subjects, consumers, KV buckets and object stores (fact sheet 3, 6).

Pure functions: the stand-in that plays the managers and the node that plays the SDK use the same names.
"""
from __future__ import annotations

import re
import uuid

SCOPES = ("process", "workflow", "product", "global")  # the order a scopeless get_config searches
PROCESS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _flat(text: str) -> str:
    return text.replace(".", "_")


def stream(product: str, version: str, workflow: str) -> str:
    """The workflow's one stream, e.g. ``demo_v1_0_0_wf``."""
    return f"{_flat(product)}_{_flat(version)}_{_flat(workflow)}"


def subject(stream_name: str, process: str) -> str:
    """A process's output subject, which is also the input subject of whoever subscribes to it."""
    return f"{stream_name}.{process}"


def stream_subjects(stream_name: str, processes: list[str]) -> list[str]:
    """What the stream captures: every process's subject and its channels."""
    return [s for process in processes for s in (subject(stream_name, process), f"{subject(stream_name, process)}.*")]


def input_subject(stream_name: str, subscription: str) -> str:
    """A KRT subscription (``etl`` or ``etl.chan``) as a subject."""
    return f"{stream_name}.{subscription}"


def durable(input_subj: str, process: str) -> str:
    """The durable (and queue group) of a task or exit node on one input subject."""
    return f"{input_subj.replace('.', '-')}-{process.replace('.', '-').replace(' ', '-')}"


def trigger_durable(input_subj: str, process: str) -> str:
    """A trigger's durable: a fresh one per start, so every trigger replica sees every reply."""
    return f"{durable(input_subj, process)}{uuid.uuid4()}"


def kv_buckets(product: str, version: str, workflow: str, process: str) -> dict[str, str]:
    """The four centralized-configuration buckets, by scope."""
    product_scope = f"key-store_{_flat(product)}_{_flat(version)}"
    return {
        "global": f"key-store_{_flat(product)}",
        "product": product_scope,
        "workflow": f"{product_scope}_{_flat(workflow)}",
        "process": f"{product_scope}_{_flat(workflow)}_{_flat(process)}",
    }


def object_store(product: str, version: str, name: str, workflow: str | None = None) -> str:
    """An object store of product scope, or of workflow scope when ``workflow`` is given."""
    parts = [product, version] + ([workflow] if workflow else []) + [name]
    return "_".join(_flat(part) for part in parts)


def check_process_name(name: str) -> None:
    """KRT's rule for process names; the node refuses others before touching NATS."""
    if not PROCESS_NAME.match(name) or len(name) > 20:
        raise ValueError(f"{name!r} is not a KAI process name: use at most 20 lowercase letters, digits and "
                         "dashes, starting and ending with a letter or digit")
