"""Knowledge Objects as files: built from a cell, loaded from a folder or zip, written in KGrid layouts.

KGrid 1.x (what an activator loads): ``metadata.json``, ``service.yaml`` (OpenAPI 3), ``deployment.yaml``
and the payload files. KGrid 2.0 (``--format kgrid2``): a Python package with a JSON-LD ``metadata.json``
and a ``pyproject.toml``. No HTTP here: the activator and the magics use these.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ...paths import inside
from .wire import ENGINE, endpoint_id

METADATA, SERVICE, DEPLOYMENT, REQUIREMENTS = "metadata.json", "service.yaml", "deployment.yaml", "requirements.txt"
KOIO_CONTEXT = "http://kgrid.org/koio/contexts/knowledgeobject.jsonld"
KOIO2_CONTEXT = "https://kgrid-objects.github.io/KOIO/contexts/koio-2.1.jsonld"


class KoError(ValueError):
    """A Knowledge Object that is incomplete or inconsistent, with what to fix."""


@dataclass(frozen=True)
class Ark:
    """``naan/name/version``: what names a KO (the version is the API version of its endpoints)."""

    naan: str
    name: str
    version: str

    @classmethod
    def parse(cls, text: str) -> Ark:
        parts = text.removeprefix("ark:/").strip("/").split("/")
        if len(parts) != 3 or not all(re.fullmatch(r"[A-Za-z0-9._-]+", part) for part in parts):
            raise KoError(f"{text!r} is not NAAN/NAME/VERSION (letters, digits, '.', '_' and '-' only)")
        return cls(*parts)

    def __str__(self) -> str:
        return f"{self.naan}/{self.name}/{self.version}"

    @property
    def location(self) -> str:
        """The folder name of the KO on a shelf (``python-simple-v1.0`` style)."""
        return f"{self.naan}-{self.name}-v{self.version}"


@dataclass
class KnowledgeObject:
    ark: Ark
    metadata: dict
    service: dict
    deployment: dict
    files: dict[str, bytes] = field(default_factory=dict)
    location: str = ""

    def __post_init__(self) -> None:
        self.location = self.location or self.ark.location

    def endpoints(self) -> dict[str, dict]:
        """Endpoint name -> its deployment node (``post`` preferred over ``get``, as the activator does)."""
        nodes = {}
        for path, methods in self.deployment.items():
            node = (methods or {}).get("post") or (methods or {}).get("get")
            if node is not None:
                nodes[path.lstrip("/")] = node
        return nodes

    def endpoint_id(self, endpoint: str) -> str:
        return endpoint_id(self.ark.naan, self.ark.name, self.ark.version, endpoint)

    def file_bytes(self) -> dict[str, bytes]:
        """Every file of the KO 1.x layout, by path relative to the KO folder."""
        return {METADATA: json.dumps(self.metadata, indent=2).encode() + b"\n",
                SERVICE: yaml.safe_dump(self.service, sort_keys=False).encode(),
                DEPLOYMENT: yaml.safe_dump(self.deployment, sort_keys=False).encode(), **self.files}


def module_file(endpoint: str) -> str:
    """The payload file of a cell-built endpoint; no dots, since the runtime cuts entries at the first."""
    return f"src/{re.sub(r'[^A-Za-z0-9_]', '_', endpoint)}.py"


@dataclass(frozen=True)
class CellEndpoint:
    """One ``%%kgrid_ko`` cell: an endpoint whose function lives in the cell's code."""

    endpoint: str
    function: str
    source: str
    requirements: tuple[str, ...] = ()
    #: the OpenAPI schemas of the function's input and return value (from its annotations; {} takes anything)
    input: Mapping[str, Any] = field(default_factory=dict)
    output: Mapping[str, Any] = field(default_factory=dict)


def from_cells(ark: Ark, cells: list[CellEndpoint], *, title: str | None = None) -> KnowledgeObject:
    """The KO the cells of one ark define: one payload file per endpoint, requirements merged."""
    if not cells:
        raise KoError(f"no cell defines an endpoint of {ark}")
    requirements = list(dict.fromkeys(r for cell in cells for r in cell.requirements))
    files = {module_file(cell.endpoint): cell.source.encode() for cell in cells}
    if requirements:
        files[REQUIREMENTS] = ("\n".join(requirements) + "\n").encode()
    deployment = {}
    for cell in cells:
        artifacts = [module_file(cell.endpoint)] + ([REQUIREMENTS] if requirements else [])
        deployment[f"/{cell.endpoint}"] = {"post": {
            "artifact": artifacts, "engine": ENGINE, "entry": module_file(cell.endpoint), "function": cell.function,
            "checksum": _checksum(files, artifacts)}}
    title = title or f"{ark.name} (polynb notebook cells)"
    names = ", ".join(f"/{cell.endpoint} calls {cell.function}()" for cell in cells)
    metadata = {
        "@id": f"{ark.naan}/{ark.name}/v{ark.version}", "@type": "koio:KnowledgeObject", "title": title,
        "identifier": f"ark:/{ark.naan}/{ark.name}/v{ark.version}", "version": f"v{ark.version}",
        "description": f"Defined in a notebook with polynb: {names}.", "contributors": "", "keywords": [],
        "hasServiceSpecification": SERVICE, "hasDeploymentSpecification": DEPLOYMENT,
        "hasPayload": sorted(module_file(cell.endpoint) for cell in cells), "@context": [KOIO_CONTEXT],
    }
    return KnowledgeObject(ark, metadata, service_spec(ark, title, cells), deployment, files)


def service_spec(ark: Ark, title: str, cells: list[CellEndpoint]) -> dict:
    """OpenAPI 3 for the KO: ``info.version`` is the API version in endpoint ids; each endpoint's request and
    response schemas are its function's input and return value."""
    def content(schema: Mapping[str, Any]) -> dict:
        return {"application/json": {"schema": dict(schema)}}

    return {
        "openapi": "3.0.2",
        "info": {"title": title, "version": ark.version},
        "servers": [{"url": f"/{ark.naan}/{ark.name}"}],
        "paths": {f"/{cell.endpoint}": {"post": {
            "requestBody": {"content": content(cell.input)},
            "responses": {"200": {"description": "the function's return value", "content": content(cell.output)}}}}
            for cell in cells},
    }


def _checksum(files: Mapping[str, bytes], artifacts: list[str]) -> str:
    digest = hashlib.sha256()
    for name in artifacts:
        digest.update(name.encode() + b"\0" + files[name])
    return digest.hexdigest()


# -- loading ------------------------------------------------------------------------------------------
def load(path: str | Path) -> KnowledgeObject:
    """A KO folder or zip in the KGrid 1.x layout (a zip may hold the files under one top folder)."""
    path = Path(path)
    if path.is_dir():
        files = {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
        return from_files(files, path.name)
    if zipfile.is_zipfile(path):
        return from_zip(path.read_bytes(), path.stem)
    raise KoError(f"{path} is neither a KO folder nor a zip")


def from_zip(data: bytes, fallback_location: str) -> KnowledgeObject:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            files = {info.filename: archive.read(info) for info in archive.infolist() if not info.is_dir()}
    except zipfile.BadZipFile as exc:
        raise KoError(f"{fallback_location}: not a KO zip ({exc})") from exc
    tops = {name.split("/", 1)[0] for name in files}
    if METADATA not in files and len(tops) == 1 and all("/" in name for name in files):
        top = tops.pop()
        return from_files({name.split("/", 1)[1]: body for name, body in files.items()}, top)
    return from_files(files, fallback_location)


def from_files(files: Mapping[str, bytes], location: str) -> KnowledgeObject:
    """Validate the three specifications (as the activator's KO validation does) and keep the rest."""
    files = {name: body for name, body in files.items() if "__pycache__" not in name}
    metadata = _document(files, METADATA, json.loads, location)
    for key in ("hasServiceSpecification", "hasDeploymentSpecification", "identifier"):
        if not metadata.get(key):
            raise KoError(f"{location}: metadata.json has no {key}")
    service = _document(files, metadata["hasServiceSpecification"], yaml.safe_load, location)
    deployment = _document(files, metadata["hasDeploymentSpecification"], yaml.safe_load, location)
    api_version = str((service.get("info") or {}).get("version") or "")
    if not api_version:
        raise KoError(f"{location}: service.yaml has no info.version (the API version of the endpoints)")
    identifier = str(metadata["identifier"]).removeprefix("ark:/").split("/")
    if len(identifier) < 2:
        raise KoError(f"{location}: identifier {metadata['identifier']!r} is not ark:/NAAN/NAME[/VERSION]")
    ko = KnowledgeObject(Ark(identifier[0], identifier[1], api_version), metadata, service, deployment,
                         {n: b for n, b in files.items() if n not in (METADATA, metadata["hasServiceSpecification"],
                                                                      metadata["hasDeploymentSpecification"])},
                         location)
    paths = (service.get("paths") or {})
    for endpoint, node in ko.endpoints().items():
        if f"/{endpoint}" not in paths:
            raise KoError(f"{location}: deployment.yaml has /{endpoint}, which service.yaml does not describe")
        if not node.get("artifact") or not node.get("engine"):
            raise KoError(f"{location}: /{endpoint} in deployment.yaml needs artifact and engine")
    return ko


def _document(files: Mapping[str, bytes], name: str, parse: Any, location: str) -> dict:
    if name not in files:
        raise KoError(f"{location}: {name} is missing")
    try:
        document = parse(files[name])
    except (ValueError, yaml.YAMLError) as exc:
        raise KoError(f"{location}: {name} cannot be parsed: {exc}") from exc
    if not isinstance(document, dict):
        raise KoError(f"{location}: {name} must hold a mapping")
    return document


# -- writing ------------------------------------------------------------------------------------------
def to_zip(ko: KnowledgeObject) -> bytes:
    """The KO as a zip with its files under the KO's folder name, as KGrid packages ship."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in ko.file_bytes().items():
            archive.writestr(f"{ko.location}/{name}", body)
    return buffer.getvalue()


def write(ko: KnowledgeObject, path: str | Path, layout: str = "kgrid1", *, replace: bool = False) -> Path:
    """Write the KO at ``path``: a folder, or a zip when the path ends in ``.zip``.

    Every file name must stay inside the KO's folder (:class:`PathEscape` otherwise), checked before anything
    is written; ``replace`` removes an earlier folder at ``path`` only once every name has passed.
    """
    files = ko.file_bytes() if layout == "kgrid1" else kgrid2_files(ko)
    path = Path(path)
    for name in files:
        inside(path, name)
    if path.suffix == ".zip":
        path.parent.mkdir(parents=True, exist_ok=True)
        top = ko.location if layout == "kgrid1" else _package(ko).replace("_", "-")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, body in files.items():
                archive.writestr(f"{top}/{name}", body)
        return path
    if replace:
        shutil.rmtree(path, ignore_errors=True)
    for name, body in files.items():
        target = inside(path, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    return path


def _package(ko: KnowledgeObject) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{ko.ark.naan}_{ko.ark.name}").lower()


def kgrid2_files(ko: KnowledgeObject) -> dict[str, bytes]:
    """KGrid 2.0 package layout: JSON-LD metadata, pyproject.toml, and the payload modules as a package."""
    package = _package(ko)
    endpoints = ko.endpoints()
    modules = {node["entry"]: f"{package}/{Path(node['entry']).name}" for node in endpoints.values()}
    requirements = ko.files.get(REQUIREMENTS, b"").decode().split()
    exports = "".join(f"from .{Path(node['entry']).stem} import {node['function']}\n" for node in endpoints.values())
    metadata = {
        "@context": [KOIO2_CONTEXT],
        "@id": f"{ko.ark.naan}/{ko.ark.name}/{ko.ark.version}", "@type": "koio:KnowledgeObject",
        "dc:identifier": f"ark:{ko.ark.naan}/{ko.ark.name}/{ko.ark.version}",
        "dc:title": ko.metadata.get("title", ko.ark.name), "dc:version": ko.ark.version,
        "dc:description": ko.metadata.get("description", ""),
        "hasService": [{"@id": f"{package}/service", "@type": ["Service", "API"], "dependsOn": f"{package}/knowledge",
                        "implementedBy": [{"@id": modules[node["entry"]], "@type": ["python", "function"],
                                           "function": node["function"], "endpoint": f"/{name}"}
                                          for name, node in endpoints.items()]}],
        "hasKnowledge": [{"@id": f"{package}/knowledge", "@type": ["Knowledge", "Function"],
                          "implementedBy": sorted(modules.values())}],
    }
    pyproject = (f'[project]\nname = "{package.replace("_", "-")}"\nversion = "{ko.ark.version}"\n'
                 f'description = {json.dumps(metadata["dc:title"])}\nrequires-python = ">=3.10"\n'
                 f'dependencies = {json.dumps(requirements)}\n\n'
                 '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
                 f'[tool.setuptools]\npackages = ["{package}"]\n')
    files = {METADATA: json.dumps(metadata, indent=2).encode() + b"\n", "pyproject.toml": pyproject.encode(),
             f"{package}/__init__.py": exports.encode()}
    files.update({target: ko.files[entry] for entry, target in modules.items()})
    return files
