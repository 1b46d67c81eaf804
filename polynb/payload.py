"""Payloads: what a cell registers with a platform, compiled once and called many times.

A :class:`Payload` is the definition (platform, name, source, entry point, options) and its digest.
A :class:`PayloadVersion` is one registered, immutable version of it: the namespace its code runs
against (the notebook's globals, or its own with ``--isolated``) and a snapshot of the objects the cell
defined. Executions hold the version they started with, so replacing a payload never changes one in
flight.
"""
from __future__ import annotations

import ast
import builtins
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import CodeType
from typing import Any


class PayloadError(ValueError):
    """A cell that cannot become the payload it claims to be."""


@dataclass(frozen=True)
class Payload:
    platform: str
    name: str
    source: str
    entry: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    isolated: bool = False
    cell_id: str | None = None

    @property
    def digest(self) -> str:
        """Content hash: what decides whether a re-run cell is a new version."""
        material = json.dumps(
            [self.platform, self.name, self.source, self.entry, self.isolated, dict(self.options)],
            sort_keys=True, default=repr,
        )
        return hashlib.sha256(material.encode()).hexdigest()

    @property
    def filename(self) -> str:
        return f"<polynb {self.platform}:{self.name}>"


@dataclass(frozen=True)
class PayloadVersion:
    payload: Payload
    version: int
    code: CodeType
    namespace: dict[str, Any]
    exports: Mapping[str, Any]

    @property
    def name(self) -> str:
        return self.payload.name

    @property
    def platform(self) -> str:
        return self.payload.platform

    @property
    def entry(self) -> str:
        """The entry point's name (the platforms that call one function always have one)."""
        if self.payload.entry is None:
            raise PayloadError(f"payload {self.name!r} has no entry point")
        return self.payload.entry

    def entry_point(self) -> Callable[..., Any]:
        """The callable named by ``entry`` (or the cell's only function)."""
        entry: Callable[..., Any] = self.exports[self.entry]
        return entry

    def lookup(self, name: str) -> Any:
        """An object the cell defined, or ``None``."""
        return self.exports.get(name)


def defined_names(tree: ast.Module) -> list[str]:
    """Names a cell binds at its top level, in order."""
    names: list[str] = []

    def bind(target: ast.AST) -> None:
        for node in ast.walk(target):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.append(node.id)

    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(statement.name)
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            names.extend((alias.asname or alias.name).split(".")[0] for alias in statement.names
                         if alias.name != "*")
        elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            for target in statement.targets if isinstance(statement, ast.Assign) else [statement.target]:
                bind(target)
    return list(dict.fromkeys(names))


def functions_of(tree: ast.Module) -> list[str]:
    return [s.name for s in tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]


def resolve_entry(payload: Payload, python_source: str, required: bool) -> Payload:
    """Fill in the entry point: the one named, or (when the platform calls one function) the one named like
    the payload, or the only function."""
    tree = parse(payload, python_source)
    functions = functions_of(tree)
    names = defined_names(tree)
    entry = payload.entry
    if entry is None and required:
        if payload.name in functions:
            entry = payload.name
        elif len(functions) == 1:
            entry = functions[0]
    if entry is not None and entry not in names:
        raise PayloadError(f"the cell defines no {entry!r}; it defines: {', '.join(names) or 'nothing'}")
    if entry is None and required:
        raise PayloadError(f"payload {payload.name!r} needs an entry point: the cell defines "
                           f"{len(functions)} functions ({', '.join(functions) or 'none'}); name one with --entry")
    return Payload(payload.platform, payload.name, payload.source, entry, payload.options, payload.isolated,
                   payload.cell_id)


def parse(payload: Payload, python_source: str) -> ast.Module:
    try:
        return ast.parse(python_source, filename=payload.filename)
    except SyntaxError as exc:
        raise PayloadError(f"payload {payload.name!r} is not valid Python: {exc}") from exc


def materialize(payload: Payload, python_source: str, version: int, notebook_ns: dict[str, Any] | None,
                rerun: bool = False) -> PayloadVersion:
    """Compile the payload and bind its namespace.

    With the notebook's namespace, the cell has already run there, so the snapshot takes the objects
    it defined from it. Isolated payloads execute in a namespace of their own. ``rerun`` brings back an
    earlier version (a replay against it): its cell runs again in a copy of the notebook's namespace, so it
    reads today's notebook state without redefining anything the notebook has now.
    """
    tree = parse(payload, python_source)
    code = compile(tree, payload.filename, "exec")
    if payload.isolated or notebook_ns is None:
        namespace: dict[str, Any] = {"__name__": f"polynb.payload.{payload.name}", "__builtins__": builtins}
        exec(code, namespace)
    elif rerun:
        namespace = dict(notebook_ns)
        exec(code, namespace)
    else:
        namespace = notebook_ns
    exports = {name: namespace[name] for name in defined_names(tree) if name in namespace}
    if payload.entry is not None and not callable(exports.get(payload.entry)):
        raise PayloadError(f"{payload.entry!r} in payload {payload.name!r} is not callable")
    return PayloadVersion(payload, version, code, namespace, exports)
