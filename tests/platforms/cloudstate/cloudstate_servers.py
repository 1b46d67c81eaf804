"""Servers the CloudState tests and the benchmark start: polynb's user function and the official library's.

Shared by ``conftest.py`` and ``benchmarks/cloudstate.py`` so that both measure and test the same set-up.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cloudstate_cells
import grpc
from peers import peer_python
from support import Standin, free_port, stop

from polynb.payload import Payload
from polynb.platforms.cloudstate.protolib import LIBRARY, ProtoModule, file_name
from polynb.service import Service

#: the official library's pins that install on Python 3.11 (its own metadata asks for no versions)
PEER_REQUIREMENTS = ["--no-deps", "cloudstate==0.1.1", "protobuf==3.20.3", "grpcio==1.59.3",
                     "googleapis-common-protos==1.56.4", "attrs"]


@contextmanager
def environment(**values: str):
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def add_proto(namespace: dict, name: str, text: str | None = None) -> None:
    """What a ``%%cloudstate_proto NAME`` cell does: compile it and bind its module in the notebook."""
    LIBRARY.add(name, text if text is not None else (cloudstate_cells.PROTOS / file_name(name)).read_text())
    namespace[Path(file_name(name)).stem] = ProtoModule(LIBRARY, name)


def register(service: Service, namespace: dict, service_name: str, source: str, options: dict) -> None:
    """What a ``%%cloudstate_entity`` cell does: run the cell in the notebook, then register it."""
    exec(compile(source, f"<cell {service_name}>", "exec"), namespace)
    protos = {file_name(name): LIBRARY.source(name) for name in options["protos"]}
    service.register(Payload("cloudstate", service_name, source, None, {**options, "protos": protos}))


def start_service(journal_dir: Path, namespace: dict, **env: str) -> Service:
    with environment(PORT="0", POLYNB_JOURNAL_DIR=str(journal_dir), **env):
        return Service(notebook_ns=namespace)


@contextmanager
def polynb_cart(journal_dir: Path, namespace: dict) -> Iterator[tuple[Service, str]]:
    """polynb serving the notebook shopping cart (no proxy); yields (service, user function address)."""
    service = start_service(journal_dir, namespace, CLOUDSTATE_PROXY="127.0.0.1:9")
    try:
        register(service, namespace, cloudstate_cells.CART_SERVICE, cloudstate_cells.SHOPPING_CART,
                 {"kind": "event_sourced", "protos": cloudstate_cells.CART_PROTOS})
        yield service, service.call(service.binding("cloudstate")).address
    finally:
        service.stop()


@contextmanager
def peer_cart(folder: Path) -> Iterator[str]:
    """The official cloudstate 0.1.1 library serving the same cart, in its own venv; yields its address.

    Needs the cart's protos in the notebook library (``add_proto``) first.
    """
    python = peer_python("cloudstate", PEER_REQUIREMENTS)
    descriptors = folder / "cart.pb"
    descriptors.write_bytes(LIBRARY.compiled.descriptor_set([cloudstate_cells.CART_SERVICE,
                                                             "com.example.shoppingcart.persistence.Cart"])
                            .SerializeToString())
    port = free_port()
    process = subprocess.Popen([str(python), str(Path(__file__).parent / "cloudstate_peer_cart.py"), str(descriptors)],
                               env={**os.environ, "HOST": "127.0.0.1", "PORT": str(port)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    address = f"127.0.0.1:{port}"
    try:
        with grpc.insecure_channel(address) as channel:
            grpc.channel_ready_future(channel).result(timeout=60)
        yield address
    finally:
        stop(process, 10)


@contextmanager
def local_proxy(user_function: str, db: Path) -> Iterator[dict]:
    """``polynb up cloudstate --json`` in front of ``user_function`` (host:port), which it finds through
    USER_FUNCTION_HOST/PORT as the real proxy does; yields what it prints (``grpc``, ``http``, ...)."""
    host, port = user_function.rsplit(":", 1)
    with Standin("cloudstate", env={**os.environ, "USER_FUNCTION_HOST": host, "USER_FUNCTION_PORT": port,
                                    "CLOUDSTATE_PROXY_PORT": "0", "CLOUDSTATE_PROXY_HTTP_PORT": "0",
                                    "CLOUDSTATE_PROXY_DB": str(db)}) as proxy:
        yield proxy.info
