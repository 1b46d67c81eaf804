"""Knowledge Object files: what a cell builds, what loads, and the two export layouts."""
from __future__ import annotations

import json
import zipfile

import kgrid_peers
import pytest
import yaml

from polynb.platforms.kgrid import ko as kos

CELL = "def welcome(x):\n    return 'hi ' + x['name']\n"


def cell_ko(**kw) -> kos.KnowledgeObject:
    return kos.from_cells(kos.Ark.parse("hello/nb/1.0"), [kos.CellEndpoint("welcome", "welcome", CELL, **kw)])


def test_a_cell_becomes_a_ko_with_metadata_openapi_service_and_python_deployment():
    files = cell_ko().file_bytes()
    metadata = json.loads(files["metadata.json"])
    service = yaml.safe_load(files["service.yaml"])
    deployment = yaml.safe_load(files["deployment.yaml"])
    assert metadata["identifier"] == "ark:/hello/nb/v1.0"
    assert metadata["hasServiceSpecification"] == "service.yaml"
    assert metadata["hasDeploymentSpecification"] == "deployment.yaml"
    assert service["openapi"].startswith("3.") and service["info"]["version"] == "1.0"
    assert service["servers"] == [{"url": "/hello/nb"}]
    assert "application/json" in service["paths"]["/welcome"]["post"]["requestBody"]["content"]
    node = deployment["/welcome"]["post"]
    assert (node["engine"], node["entry"], node["function"], node["artifact"]) == \
        ("python", "src/welcome.py", "welcome", ["src/welcome.py"])
    assert files["src/welcome.py"].decode() == CELL
    assert "requirements.txt" not in files


def test_requirements_become_an_artifact_of_every_endpoint():
    ko = cell_ko(requirements=("leftpad==0.1.2", "numpy"))
    assert ko.files["requirements.txt"] == b"leftpad==0.1.2\nnumpy\n"
    assert ko.endpoints()["welcome"]["artifact"] == ["src/welcome.py", "requirements.txt"]


def test_the_checksum_changes_with_the_code_and_only_with_it():
    same = [kos.from_cells(kos.Ark.parse("a/b/1"), [kos.CellEndpoint("e", "f", CELL)]) for _ in range(2)]
    other = kos.from_cells(kos.Ark.parse("a/b/1"), [kos.CellEndpoint("e", "f", CELL + "# changed\n")])
    checksums = [k.endpoints()["e"]["checksum"] for k in same + [other]]
    assert checksums[0] == checksums[1] != checksums[2]


def test_cells_sharing_an_ark_make_one_ko_with_an_endpoint_each():
    ko = kos.from_cells(kos.Ark.parse("a/b/1.0"), [kos.CellEndpoint("one", "f", "def f(x): return 1\n"),
                                                   kos.CellEndpoint("two", "g", "def g(x): return 2\n")])
    assert sorted(ko.endpoints()) == ["one", "two"]
    assert ko.endpoint_id("two") == "a/b/1.0/two"


@pytest.mark.parametrize("text", ["hello/world", "a/b/c/d", "a b/c/1", ""])
def test_an_ark_must_be_naan_name_version(text):
    with pytest.raises(kos.KoError, match="NAAN/NAME/VERSION"):
        kos.Ark.parse(text)


def test_the_test_collection_ko_loads_from_its_folder():
    ko = kos.load(kgrid_peers.KOS / "hello-world-v1.0")
    assert (str(ko.ark), ko.location) == ("hello/world/1.0", "hello-world-v1.0")
    assert ko.endpoints()["checked"]["checksum"] == "abc123"
    assert "src/hello.py" in ko.files


@pytest.mark.parametrize("suffix", ["", ".zip"])
def test_an_exported_ko_loads_back_the_same(tmp_path, suffix):
    original = cell_ko(requirements=("leftpad==0.1.2",))
    path = kos.write(original, tmp_path / f"exported{suffix}")
    loaded = kos.load(path)
    assert str(loaded.ark) == str(original.ark)
    assert loaded.endpoints() == original.endpoints()
    assert loaded.files == original.files


def test_a_zip_keeps_its_files_under_the_ko_folder_name(tmp_path):
    path = kos.write(cell_ko(), tmp_path / "ko.zip")
    names = zipfile.ZipFile(path).namelist()
    assert "hello-nb-v1.0/metadata.json" in names and "hello-nb-v1.0/src/welcome.py" in names
    assert kos.load(path).location == "hello-nb-v1.0"


@pytest.mark.parametrize("breakage,message", [
    (lambda f: f.pop("metadata.json"), "metadata.json is missing"),
    (lambda f: f.update({"metadata.json": b"{not json"}), "cannot be parsed"),
    (lambda f: f.update({"service.yaml": b"openapi: 3.0.2\ninfo: {title: x}\npaths: {}\n"}), "info.version"),
    (lambda f: f.update({"deployment.yaml": b"/other:\n  post: {artifact: [a.py], engine: python}\n"}),
     "service.yaml does not describe"),
    (lambda f: f.update({"deployment.yaml": b"/welcome:\n  post: {engine: python}\n"}), "needs artifact"),
])
def test_an_inconsistent_ko_is_refused_with_what_to_fix(breakage, message):
    files = cell_ko().file_bytes()
    breakage(files)
    with pytest.raises(kos.KoError, match=message):
        kos.from_files(files, "broken-ko")


def test_kgrid2_export_is_an_installable_package_with_json_ld_metadata(tmp_path):
    path = kos.write(cell_ko(requirements=("leftpad==0.1.2",)), tmp_path / "ko2", "kgrid2")
    metadata = json.loads((path / "metadata.json").read_text())
    assert metadata["dc:identifier"] == "ark:hello/nb/1.0" and metadata["dc:version"] == "1.0"
    assert metadata["hasService"][0]["implementedBy"][0] == {
        "@id": "hello_nb/welcome.py", "@type": ["python", "function"], "function": "welcome", "endpoint": "/welcome"}
    pyproject = (path / "pyproject.toml").read_text()
    assert 'name = "hello-nb"' in pyproject and '"leftpad==0.1.2"' in pyproject
    namespace: dict = {}
    exec((path / "hello_nb" / "welcome.py").read_text(), namespace)
    assert namespace["welcome"]({"name": "Tom"}) == "hi Tom"
    assert (path / "hello_nb" / "__init__.py").read_text() == "from .welcome import welcome\n"
