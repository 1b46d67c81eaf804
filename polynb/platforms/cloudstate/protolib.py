"""The notebook's .proto files, compiled at run time with grpcio-tools into one descriptor pool.

Every ``%%cloudstate_proto`` cell and every ``--proto`` file joins one library, compiled together, so
one message type has one Python class whether a cell, an entity or the proxy client made it. The
library also yields what discovery sends: a file's descriptor with every transitive import.
"""
from __future__ import annotations

import functools
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

from ...paths import PathEscape, inside

PROTOCOL_PROTOS = Path(__file__).resolve().parent / "protos"
LIBRARY_ROOT = PurePosixPath("/protos")  # where import paths live: a name must stay inside it


class ProtoError(ValueError):
    """A .proto that does not compile, or a name the library does not hold."""


def _well_known_protos() -> str:
    import grpc_tools

    return str(Path(grpc_tools.__file__).parent / "_proto")


def file_name(name: str) -> str:
    """The import path a proto cell's text is known under (``shoppingcart`` → ``shoppingcart.proto``)."""
    name = name.strip().strip("/")
    if not name:
        raise ProtoError("a proto needs a name")
    name = name if name.endswith(".proto") else f"{name}.proto"
    try:
        inside(LIBRARY_ROOT, name)
    except PathEscape:
        raise ProtoError(f"the proto name {name!r} leads outside the notebook's proto library") from None
    return name


def compile_files(sources: dict[str, str]) -> descriptor_pb2.FileDescriptorSet:
    """Compile proto texts (import path → text) with protoc; every import is included in the result."""
    from grpc_tools import protoc

    with tempfile.TemporaryDirectory(prefix="polynb-cloudstate-") as folder:
        root = Path(folder)
        for path, text in sources.items():
            target = inside(root, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        out = root / "set.pb"
        errors = root / "errors.txt"
        args = ["protoc", f"-I{root}", f"-I{PROTOCOL_PROTOS}", f"-I{_well_known_protos()}",
                f"--descriptor_set_out={out}", "--include_imports", *sorted(sources)]
        code = _run_protoc(protoc, args, errors)
        if code != 0:
            detail = errors.read_text().replace(f"{root}/", "").strip() if errors.exists() else ""
            raise ProtoError(f"protoc could not compile {', '.join(sorted(sources))}: {detail or f'exit {code}'}")
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


_protoc_lock = threading.Lock()


def _run_protoc(protoc, args: list[str], errors: Path) -> int:
    """protoc prints its errors on fd 2; catch them in a file so the notebook shows them in one line."""
    import os

    with _protoc_lock, open(errors, "w") as sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            return protoc.main(args)
        finally:
            os.dup2(saved, 2)
            os.close(saved)


@dataclass(frozen=True)
class Compiled:
    """One compilation of the library: its descriptor set and the pool built from it."""

    files: descriptor_pb2.FileDescriptorSet
    pool: descriptor_pool.DescriptorPool

    def message_class(self, full_name: str) -> type[Message]:
        try:
            return message_factory.GetMessageClass(self.pool.FindMessageTypeByName(full_name))
        except KeyError:
            raise ProtoError(f"no message type {full_name!r} in the notebook's protos") from None

    def service(self, full_name: str):
        try:
            return self.pool.FindServiceByName(full_name)
        except KeyError:
            raise ProtoError(f"no service {full_name!r} in the notebook's protos "
                             f"(they define: {', '.join(self.service_names()) or 'none'})") from None

    def service_names(self) -> list[str]:
        return [f"{f.package}.{s.name}" if f.package else s.name for f in self.files.file for s in f.service]

    def descriptor_set(self, roots: Iterable[str]) -> descriptor_pb2.FileDescriptorSet:
        """The files declaring ``roots`` (services or messages) and all their transitive imports, imports first."""
        by_name = {f.name: f for f in self.files.file}
        wanted: set[str] = set()

        def visit(name: str) -> None:
            if name in wanted:
                return
            wanted.add(name)
            for dependency in by_name[name].dependency:
                visit(dependency)

        for root in roots:
            visit(self.pool.FindFileContainingSymbol(root).name)
        result = descriptor_pb2.FileDescriptorSet()
        result.file.extend(f for f in self.files.file if f.name in wanted)
        return result


class ProtoLibrary:
    """The protos a notebook holds, recompiled together whenever one changes."""

    def __init__(self) -> None:
        self._sources: dict[str, str] = {}
        self._compiled: Compiled | None = None
        self._lock = threading.Lock()

    def add(self, name: str, text: str) -> Compiled:
        """Add or replace one file; the library is recompiled, and a file that breaks it is refused."""
        path = file_name(name)
        with self._lock:
            sources = {**self._sources, path: text}
            compiled = _compile(sources)
            self._sources, self._compiled = sources, compiled
            return compiled

    def add_path(self, path: Path) -> str:
        """Add a .proto file from disk under its own file name; returns that name."""
        if not path.is_file():
            raise ProtoError(f"{path} is not a .proto file, and no %%cloudstate_proto cell is named so")
        self.add(path.name, path.read_text())
        return file_name(path.name)

    def has(self, name: str) -> bool:
        return file_name(name) in self._sources

    def source(self, name: str) -> str:
        return self._sources[file_name(name)]

    @property
    def compiled(self) -> Compiled:
        if self._compiled is None:
            raise ProtoError("no proto is known yet: run a %%cloudstate_proto cell or pass --proto PATH")
        return self._compiled


def _compile(sources: dict[str, str]) -> Compiled:
    files = compile_files(sources)
    pool = descriptor_pool.DescriptorPool()
    for proto in files.file:
        pool.Add(proto)
    return Compiled(files, pool)


class ProtoModule:
    """What a ``%%cloudstate_proto NAME`` cell binds: the file's messages as attributes (``cart.AddLineItem``)."""

    def __init__(self, library: ProtoLibrary, name: str) -> None:
        self._library = library
        self._file = file_name(name)

    def _descriptor(self):
        return self._library.compiled.pool.FindFileByName(self._file)

    def __getattr__(self, attribute: str) -> type[Message]:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        descriptor = self._descriptor()
        if attribute in descriptor.message_types_by_name:
            return message_factory.GetMessageClass(descriptor.message_types_by_name[attribute])
        raise AttributeError(f"{self._file} defines no message {attribute!r} "
                             f"(it has: {', '.join(descriptor.message_types_by_name) or 'none'})")

    def __dir__(self) -> list[str]:
        return sorted(self._descriptor().message_types_by_name)

    @property
    def services(self) -> list[str]:
        return [s.full_name for s in self._descriptor().services_by_name.values()]

    def __repr__(self) -> str:
        return f"<cloudstate proto {self._file}: {', '.join(dir(self))}>"


_STANDARD_IMPORTS = ["cloudstate/entity_key.proto", "cloudstate/eventing.proto", "google/api/annotations.proto",
                     "google/api/httpbody.proto", "google/protobuf/any.proto", "google/protobuf/empty.proto",
                     "google/protobuf/timestamp.proto", "google/protobuf/duration.proto",
                     "google/protobuf/wrappers.proto", "google/protobuf/struct.proto", "google/protobuf/field_mask.proto"]


@functools.cache
def standard_files() -> dict[str, descriptor_pb2.FileDescriptorProto]:
    """The files every proxy knows without being sent them: the protocol's options and protobuf's own types."""
    imports = "".join(f'import "{name}";\n' for name in _STANDARD_IMPORTS)
    compiled = compile_files({"polynb_standard.proto": f'syntax = "proto3";\n{imports}'})
    return {f.name: f for f in compiled.file if f.name != "polynb_standard.proto"}


LIBRARY = ProtoLibrary()
