"""Names in a KO zip, a descriptor or an export stay inside their folder: the activator, the runtime and
``%kgrid_export`` refuse a way out before anything is written or removed."""
from __future__ import annotations

import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import kgrid_peers
import pytest

from polynb.paths import PathEscape
from polynb.platforms.kgrid import ko as kos

pytestmark = pytest.mark.servers  # each test starts a platform's server or the polynb command

HELLO = kgrid_peers.KOS / "hello-world-v1.0"
ACTIVATOR_ERROR_FIELDS = {"Title", "Status", "Detail", "Instance", "Time"}


def ko_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in entries.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def hello_files() -> dict[str, bytes]:
    return {path.relative_to(HELLO).as_posix(): path.read_bytes() for path in HELLO.rglob("*") if path.is_file()}


@pytest.fixture
def journal_folder(tmp_path):
    """A ``.polynb/kgrid`` layout with something beside the shelf that must survive."""
    kgrid = tmp_path / ".polynb" / "kgrid"
    (kgrid / "pyshelf").mkdir(parents=True)
    (kgrid / "pyshelf" / "context.json").write_text("{}")
    return kgrid


def publish(url: str, data: bytes) -> httpx.Response:
    return httpx.post(f"{url}/kos", files={"ko": ("ko.zip", data)}, timeout=60)


def test_a_ko_zip_entry_with_dot_dot_is_a_400_and_writes_nothing_outside_the_shelf(journal_folder):
    entries = {f"hello-world-v1.0/{name}": body for name, body in hello_files().items()}
    entries["hello-world-v1.0/../../escaped.py"] = b"print('out')\n"
    with kgrid_peers.local_activator(journal_folder / "activator") as info:
        reply = publish(info["url"], ko_zip(entries))
        assert reply.status_code == 400
        assert set(reply.json()) == ACTIVATOR_ERROR_FIELDS and "leads outside" in reply.json()["Detail"]
        assert httpx.get(f"{info['url']}/kos").json() == []
    assert not (journal_folder / "escaped.py").exists()
    assert not any(path.name == "escaped.py" for path in journal_folder.parent.rglob("*"))


def test_a_ko_zip_whose_top_folder_is_dot_dot_is_a_400_and_removes_nothing(journal_folder):
    entries = {f"../{name}": body for name, body in hello_files().items()}
    with kgrid_peers.local_activator(journal_folder / "activator") as info:
        reply = publish(info["url"], ko_zip(entries))
        assert reply.status_code == 400 and set(reply.json()) == ACTIVATOR_ERROR_FIELDS
    assert (journal_folder / "pyshelf" / "context.json").read_text() == "{}"
    assert (journal_folder / "activator").is_dir()


def test_a_ko_zip_entry_with_an_absolute_path_is_a_400(journal_folder, tmp_path):
    entries = {name: body for name, body in hello_files().items()}
    entries[str(tmp_path / "absolute.py")] = b"x = 1\n"
    with kgrid_peers.local_activator(journal_folder / "activator") as info:
        assert publish(info["url"], ko_zip(entries)).status_code == 400
    assert not (tmp_path / "absolute.py").exists()


def test_a_good_ko_is_still_published(journal_folder):
    entries = {f"hello-world-v1.0/{name}": body for name, body in hello_files().items()}
    with kgrid_peers.local_activator(journal_folder / "activator") as info:
        assert publish(info["url"], ko_zip(entries)).status_code == 201
    assert (journal_folder / "activator" / "hello-world-v1.0" / "metadata.json").is_file()


def test_exporting_a_ko_whose_file_names_leave_the_folder_writes_nothing(tmp_path):
    ko = kos.from_files({**hello_files(), "../outside.py": b"x = 1\n"}, "hello-world-v1.0")
    with pytest.raises(PathEscape):
        kos.write(ko, tmp_path / "export" / "ko")
    assert not (tmp_path / "export" / "outside.py").exists()
    assert not (tmp_path / "export" / "ko").exists()


@pytest.fixture
def any_artifact():
    """An artifact server that answers every path (a real activator only serves its shelf's files)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            body = b"def welcome(x):\n    return x\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/artifacts/"
    server.shutdown()
    server.server_close()


def test_the_runtime_refuses_an_artifact_that_leaves_its_endpoint_folder(start_service, runtime_url, tmp_path,
                                                                          activator, any_artifact, kgrid_env):
    kgrid_env.setenv("POLYNB_KGRID_ARTIFACT_ORIGINS", any_artifact)  # a source the user trusts, sending ../
    service = start_service(activator)
    descriptor = {"artifact": ["../../../escaped.py"], "engine": "python", "entry": "src/hello.py",
                  "function": "welcome", "baseUrl": any_artifact, "uri": "escape/test/1.0/welcome"}
    reply = httpx.post(f"{runtime_url(service)}/endpoints", json=descriptor, timeout=60)
    assert reply.status_code == 500 and reply.json()["name"] == "PathEscape"
    assert not any(path.name == "escaped.py" for path in Path(tmp_path).rglob("*"))


def test_the_runtime_refuses_an_endpoint_id_that_names_its_whole_shelf(start_service, runtime_url, tmp_path,
                                                                        activator):
    service = start_service(activator)
    keep = tmp_path / "pyshelf" / "kept.txt"
    keep.write_text("still here")
    descriptor = {"artifact": ["src/hello.py"], "engine": "python", "entry": "src/hello.py", "function": "welcome",
                  "baseUrl": f"{activator}/proxy/artifacts/hello-world-v1.0/", "uri": ""}
    reply = httpx.post(f"{runtime_url(service)}/endpoints", json=descriptor, timeout=60)
    assert reply.status_code == 400 and set(reply.json()) == {"code", "name", "description"}
    assert keep.read_text() == "still here"
