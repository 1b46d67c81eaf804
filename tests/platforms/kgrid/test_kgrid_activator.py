"""The local activator (a `polynb up kgrid` process) as its runtimes and clients see it.

Where the test needs a runtime that misbehaves on purpose (down, refusing, answering 4xx), it uses a
scripted one here; the activator under test is always the real process.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import kgrid_peers
import pytest
from support import run_polynb, taken_port, wait_until

from polynb.platforms.kgrid import ko as kos

pytestmark = pytest.mark.servers  # each test starts a platform's server or the polynb command


class ScriptedRuntime:
    """A runtime whose /info status and execution status are set by the test; it records activations."""

    def __init__(self, info_status: str = "up", execution_status: int = 200) -> None:
        self.info_status, self.execution_status = info_status, execution_status
        self.activations: list[dict] = []
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def answer(self, status: int, body) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self.answer(200, {"engine": "python", "status": runtime.info_status, "url": runtime.url})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path == "/endpoints":
                    runtime.activations.append(body)
                    key = body["uri"].replace("/", "_").replace(".", "_")
                    return self.answer(200, {"baseUrl": runtime.url, "uri": key, "status": "Activated"})
                self.answer(runtime.execution_status, {"result": body} if runtime.execution_status == 200
                            else {"code": runtime.execution_status, "name": "Scripted", "description": "no"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted():
    runtimes = []

    def make(**kw) -> ScriptedRuntime:
        runtimes.append(ScriptedRuntime(**kw))
        return runtimes[-1]

    yield make
    for runtime in runtimes:
        runtime.close()


def register(activator: str, runtime: ScriptedRuntime, force: bool = True) -> httpx.Response:
    return httpx.post(f"{activator}/proxy/environments",
                      json={"engine": "python", "version": "0.1.0", "url": runtime.url, "forceUpdate": force})


def states(activator: str) -> dict[str, dict]:
    return {s["id"]: s for s in httpx.get(f"{activator}/endpoints").json()}


@pytest.mark.parametrize("body,status", [
    ({"url": "http://127.0.0.1:1"}, "Not registered: Runtime failed to specify engine"),
    ({"engine": "python"}, "Not registered: Runtime failed to specify its url"),
])
def test_a_registration_without_engine_or_url_is_refused_with_the_body_echoed(activator, body, status):
    reply = httpx.post(f"{activator}/proxy/environments", json=body)
    assert (reply.status_code, reply.json()) == (400, {**body, "status": status})


def test_a_new_runtime_gets_every_endpoint_of_its_engine_activated(activator, scripted):
    runtime = scripted()
    reply = register(activator, runtime)
    assert reply.json()["status"] == "new"
    wait_until(lambda: len(runtime.activations) == 7)
    sent = next(a for a in runtime.activations if a["uri"] == "hello/world/1.0/welcome")
    assert sent == {"artifact": ["src/hello.py"], "engine": "python", "entry": "src/hello.py", "function": "welcome",
                    "baseUrl": f"{activator}/proxy/artifacts/hello-world-v1.0/", "uri": "hello/world/1.0/welcome"}
    assert states(activator)["hello/world/1.0/welcome"]["url"] == f"{runtime.url}/hello_world_1_0_welcome"


def test_a_known_runtime_is_reactivated_only_when_it_forces_an_update(activator, scripted):
    runtime = scripted()
    register(activator, runtime)
    wait_until(lambda: len(runtime.activations) == 7)
    heartbeat = register(activator, runtime, force=False)
    assert heartbeat.json()["status"] == "existing runtime"
    forced = register(activator, runtime, force=True)
    assert forced.json()["status"] == "existing runtime"
    wait_until(lambda: len(runtime.activations) == 14)
    assert len(runtime.activations) == 14


def test_a_runtime_whose_info_is_not_up_gets_no_activation(activator, scripted):
    runtime = scripted(info_status="down")
    register(activator, runtime)
    wait_until(lambda: "not online" in states(activator)["hello/world/1.0/welcome"]["status"])
    assert states(activator)["hello/world/1.0/welcome"]["status"] == \
        f"Remote runtime {runtime.url} is not online. Runtime status: down."
    assert runtime.activations == []
    reply = httpx.post(f"{activator}/hello/world/1.0/welcome", json={})
    assert reply.status_code == 503 and "not online" in reply.json()["Detail"]


def test_artifacts_are_served_raw_and_unknown_ones_are_404(activator):
    served = httpx.get(f"{activator}/proxy/artifacts/hello-world-v1.0/src/hello.py")
    assert served.content == (kgrid_peers.KOS / "hello-world-v1.0" / "src" / "hello.py").read_bytes()
    missing = httpx.get(f"{activator}/proxy/artifacts/hello-world-v1.0/src/absent.py")
    assert missing.status_code == 404 and missing.json()["Status"] == "404 Not Found"


def test_a_client_call_is_forwarded_and_answered_with_result_and_info(activator, scripted):
    runtime = scripted()
    register(activator, runtime)
    wait_until(lambda: states(activator)["hello/world/1.0/echo"]["status"] == "Activated")
    reply = httpx.post(f"{activator}/hello/world/1.0/echo", json={"a": 1})
    assert reply.json()["result"] == {"a": 1}
    assert reply.json()["info"]["inputs"] == {"a": 1}
    assert reply.json()["info"]["endpoint"]["identifier"] == "ark:/hello/world/v1.0"


@pytest.mark.parametrize("runtime_status,status,title", [(404, 400, "Adapter Client Error"),
                                                         (500, 500, "Adapter Server Error")])
def test_runtime_errors_become_adapter_errors(activator, scripted, runtime_status, status, title):
    runtime = scripted(execution_status=runtime_status)
    register(activator, runtime)
    wait_until(lambda: states(activator)["hello/world/1.0/echo"]["status"] == "Activated")
    reply = httpx.post(f"{activator}/hello/world/1.0/echo", json={})
    body = reply.json()
    assert (reply.status_code, body["Title"], body["Instance"]) == (status, title, "/hello/world/1.0/echo")
    assert set(body) == {"Title", "Status", "Detail", "Instance", "Time"}


def test_an_unknown_endpoint_is_404_and_an_unreachable_runtime_500(activator, scripted):
    assert httpx.post(f"{activator}/no/such/1.0/thing", json={}).status_code == 404
    runtime = scripted()
    register(activator, runtime)
    wait_until(lambda: states(activator)["hello/world/1.0/echo"]["status"] == "Activated")
    runtime.close()
    reply = httpx.post(f"{activator}/hello/world/1.0/echo", json={})
    assert reply.status_code == 500 and "unreachable" in reply.json()["Detail"]


def test_kos_folders_and_zips_in_the_kos_dir_load_and_broken_ones_are_reported(tmp_path):
    folder = tmp_path / "kos"
    shutil.copytree(kgrid_peers.KOS / "hello-world-v1.0", folder / "hello-world-v1.0")
    zipped = kos.from_cells(kos.Ark.parse("zip/ko/1.0"), [kos.CellEndpoint("run", "run", "def run(x): return x\n")])
    kos.write(zipped, folder / "zip-ko.zip")
    (folder / "not-a-ko").mkdir()
    with kgrid_peers.local_activator(tmp_path / "shelf", folder) as info:
        assert "zip/ko/1.0/run" in info["kos"] and "hello/world/1.0/welcome" in info["kos"]
        assert info["problems"] == ["not-a-ko: metadata.json is missing"]


def test_publishing_something_that_is_not_a_ko_is_a_400(activator):
    reply = httpx.post(f"{activator}/kos", files={"ko": ("ko.zip", b"not a zip")})
    assert reply.status_code == 400 and reply.json()["Title"] == "Invalid Knowledge Object"


@pytest.mark.slow
def test_a_published_ko_is_on_the_shelf_after_a_restart(tmp_path):
    ko = kos.from_cells(kos.Ark.parse("kept/ko/1.0"), [kos.CellEndpoint("run", "run", "def run(x): return x\n")])
    with kgrid_peers.local_activator(tmp_path / "shelf") as info:
        assert httpx.post(f"{info['url']}/kos", files={"ko": ("k.zip", kos.to_zip(ko))}).status_code == 201
    with kgrid_peers.local_activator(tmp_path / "shelf") as info:
        assert info["kos"] == ["kept/ko/1.0/run"]


def test_activate_pushes_every_endpoint_to_its_runtime_again(activator, scripted):
    runtime = scripted()
    register(activator, runtime)
    wait_until(lambda: len(runtime.activations) == 7)
    listed = httpx.get(f"{activator}/activate").json()
    assert len(runtime.activations) == 14
    assert {s["id"]: s["status"] for s in listed}["hello/world/1.0/welcome"] == "Activated"


def test_kos_lists_the_shelf_with_each_kos_metadata(activator):
    listed = httpx.get(f"{activator}/kos").json()
    assert [(k["@id"], k["location"], k["metadata"]["title"]) for k in listed] == \
        [("hello/world/v1.0", "hello-world-v1.0", "Hello World (test KO)")]


def test_a_taken_activator_port_is_one_line_naming_the_variable(tmp_path):
    with taken_port() as port:
        result = run_polynb("up", "kgrid", timeout=60, env={**os.environ, "KGRID_ACTIVATOR_PORT": str(port),
                                                            "KGRID_ACTIVATOR_SHELF": str(tmp_path / "shelf")})
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"polynb up: kgrid: port {port} is already in use; set KGRID_ACTIVATOR_PORT to another port (0: a free one)")
