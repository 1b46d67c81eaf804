"""Where the runtime takes code from, and who holds the activator's registration: issue 14's cross-site door
(any page could POST an attacker's ``baseUrl`` as text/plain) and a replaced registration noticed at heartbeat."""
from __future__ import annotations

import http.server
import threading

import httpx
import kgrid_peers
import pytest
from support import wait_until

pytestmark = pytest.mark.servers  # each test starts a platform's server or the polynb command

EVIL = b"import os\ndef run(x):\n    return 'pwned'\n"


@pytest.fixture
def elsewhere():
    """An HTTP server on another origin that serves a Python artifact and counts who fetched it."""
    fetched: list[str] = []

    class Serve(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            fetched.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(EVIL)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Serve)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", fetched
    server.shutdown()
    server.server_close()


def descriptor(base_url: str) -> dict:
    return {"artifact": ["src/evil.py"], "engine": "python", "entry": "src/evil.py", "function": "run",
            "baseUrl": f"{base_url}/", "uri": "evil/ko/1.0/run"}


def test_artifacts_from_another_origin_are_refused_unfetched(activator, start_service, runtime_url, elsewhere):
    base, fetched = elsewhere
    service = start_service(activator)
    reply = httpx.post(f"{runtime_url(service)}/endpoints", json=descriptor(base))
    assert reply.status_code == 403
    assert reply.json()["name"] == "Forbidden" and base in reply.json()["description"]
    assert fetched == []
    assert httpx.post(f"{runtime_url(service)}/evil_ko_1_0_run", json=1).status_code == 500  # never activated


def test_a_widened_origin_is_fetched_from(activator, start_service, runtime_url, elsewhere, kgrid_env):
    base, fetched = elsewhere
    kgrid_env.setenv("POLYNB_KGRID_ARTIFACT_ORIGINS", f"https://example.invalid, {base}")
    service = start_service(activator)
    reply = httpx.post(f"{runtime_url(service)}/endpoints", json=descriptor(base))
    assert reply.status_code == 200, reply.text
    assert fetched == ["/src/evil.py"]


def test_a_registration_another_runtime_took_over_is_taken_back_at_the_next_heartbeat(start_service, kgrid_env,
                                                                                       runtime_url, tmp_path, caplog):
    kgrid_env.setenv("KGRID_PROXY_HEARTBEAT_INTERVAL", "5")
    with kgrid_peers.local_activator(tmp_path / "activator-shelf") as info:
        service = start_service(info["url"])
        ours = runtime_url(service)
        usurper = {"engine": "python", "version": "0.1.0", "url": "http://127.0.0.1:9", "forceUpdate": True}
        assert httpx.post(f"{info['url']}/proxy/environments", json=usurper).status_code == 200

        def held() -> dict:
            return httpx.get(f"{info['url']}/proxy/registrations").json()["python"]

        taken_back = wait_until(lambda: held()["url"] == ours and held(), 20, "the runtime did not register again")
        assert taken_back["forceUpdate"] is True  # so the activator activates its endpoints here again
        assert any("had the runtime at http://127.0.0.1:9" in r.getMessage() for r in caplog.records)
