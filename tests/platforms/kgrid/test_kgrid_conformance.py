"""polynb's runtime against the real kgrid-python-runtime 0.1.0: the same KOs and inputs, the same answers.

Each side has its own local activator loaded with the same KOs (an activator keeps one runtime per
engine, so two runtimes cannot share one). Requests go to both runtimes directly and through both
activators; status codes and parsed JSON must be equal once the fields that name a port, a URL or a
moment are masked.

Deliberate differences, not compared here (see docs/kgrid.md):
- registration ``url`` and ``version``: the runtime's own address; ``version`` is what the issue exempts.
- ``GET /endpoints`` while an endpoint failed to activate: the real runtime answers 500 TypeError (it keeps
  the exception object as the status and cannot serialise it); polynb lists the endpoint with the error text.
- start-up: the real runtime sleeps 3 s and registers once (then only heartbeats); polynb registers at
  once and retries until the activator answers.
- NaN or infinite results: the real runtime writes ``NaN`` (not JSON); polynb answers 500 ValueError.
"""
from __future__ import annotations

import threading
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import httpx
import kgrid_peers
import pytest
from support import wait_until

from polynb.journal import Journal
from polynb.platforms.kgrid import ko as kos
from polynb.service import Service

MASKED = {"url", "activated", "baseUrl", "activatorUrl", "Endpoints", "Info", "Time"}


@dataclass
class Side:
    runtime: str
    activator: str


def parsed(reply: httpx.Response):
    try:
        body = reply.json()
    except ValueError:
        return reply.status_code, reply.text
    return reply.status_code, mask(body)


def mask(body):
    if isinstance(body, dict):
        return {key: ("<masked>" if key in MASKED else mask(value)) for key, value in body.items()}
    if isinstance(body, list):
        return [mask(value) for value in body]
    return body


@contextmanager
def polynb_runtime(tmp, activator: str, strategy: str | None):
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KGRID_PROXY_ADAPTER_URL", activator)
        env.setenv("KGRID_PROXY_HEARTBEAT_INTERVAL", "0")
        env.setenv("KGRID_PYTHON_SHELF_DIR", str(tmp / "pyshelf"))
        for name in ("KGRID_PYTHON_ENV_URL", "KGRID_PYTHON_ENV_PORT", "PORT", "KGRID_PYTHON_CACHE_STRATEGY"):
            env.delenv(name, raising=False)
        if strategy:
            env.setenv("KGRID_PYTHON_CACHE_STRATEGY", strategy)
        service = Service(journal=Journal(tmp / ".polynb"), notebook_ns={})
        try:
            service.call(service.binding("kgrid"))
            url = service.statuses()["kgrid"].address
            wait_until(lambda: kgrid_peers.registered_url(activator) == url)
            yield url
        finally:
            service.stop(timeout=2)


@contextmanager
def both_sides(tmp, kos_dir=kgrid_peers.KOS, strategy: str | None = None):
    with ExitStack() as stack:
        real_activator = stack.enter_context(kgrid_peers.local_activator(tmp / "real-activator", kos_dir))["url"]
        ours_activator = stack.enter_context(kgrid_peers.local_activator(tmp / "polynb-activator", kos_dir))["url"]
        real = stack.enter_context(kgrid_peers.real_runtime(tmp / "real", real_activator, cache_strategy=strategy))
        ours = stack.enter_context(polynb_runtime(tmp / "polynb", ours_activator, strategy))
        sides = (Side(real, real_activator), Side(ours, ours_activator))
        if kos_dir is not None:
            for side in sides:
                wait_until(lambda: _settled(side.activator), 30)
        yield sides


def _settled(activator: str) -> bool:
    """Every endpoint of the test KOs has been tried (activated, or failed with the runtime's answer)."""
    states = httpx.get(f"{activator}/endpoints").json()
    return bool(states) and not any(state["status"].startswith("Not activated") for state in states)


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    with both_sides(tmp_path_factory.mktemp("kgrid-conformance")) as pair:
        yield pair


EXECUTIONS = {
    "json input": ("hello_world_1_0_welcome", b'{"name": "Tom"}', "application/json"),
    "text/plain input": ("hello_world_1_0_welcome", b'{"name": "Tom"}', "text/plain"),
    "a list in and out": ("hello_world_1_0_echo", b'[1, 2.5, {"a": null}, "x"]', "application/json"),
    "malformed JSON as application/json": ("hello_world_1_0_welcome", b"{bad json", "application/json"),
    "malformed JSON as text/plain": ("hello_world_1_0_welcome", b"{bad json", "text/plain"),
    "an empty body": ("hello_world_1_0_echo", b"", "application/json"),
    "bytes that are not UTF-8": ("hello_world_1_0_echo", b'"\xff"', "text/plain"),
    "a raising payload": ("hello_world_1_0_boom", b'{"name": "Tom"}', "application/json"),
    "a missing input key": ("hello_world_1_0_welcome", b'{"x": 1}', "application/json"),
    "a function with the wrong signature": ("hello_world_1_0_noargs", b"{}", "application/json"),
    "an unknown key": ("hello_world_1_0_nope", b"{}", "application/json"),
    "an endpoint whose import failed": ("hello_world_1_0_broken", b"{}", "application/json"),
    "an endpoint whose artifact was missing": ("hello_world_1_0_missing", b"{}", "application/json"),
}


@pytest.mark.parametrize("case", EXECUTIONS)
def test_an_execution_gets_the_same_answer_from_both_runtimes(sides, case):
    key, body, content_type = EXECUTIONS[case]
    real, ours = (parsed(httpx.post(f"{side.runtime}/{key}", content=body,
                                    headers={"Content-Type": content_type})) for side in sides)
    assert ours == real


@pytest.mark.parametrize("case", ["json input", "a raising payload", "malformed JSON as application/json",
                                  "a missing input key", "an endpoint whose import failed",
                                  "a function with the wrong signature"])
def test_a_client_call_through_the_activator_gets_the_same_answer_with_either_runtime(sides, case):
    key, body, content_type = EXECUTIONS[case]
    path = key.replace("hello_world_1_0_", "hello/world/1.0/")
    real, ours = (parsed(httpx.post(f"{side.activator}/{path}", content=body,
                                    headers={"Content-Type": content_type})) for side in sides)
    assert ours == real


@pytest.mark.parametrize("method,path", [
    ("GET", "/"), ("GET", "/info"), ("GET", "/endpoints/hello/world/1.0/welcome"),
    ("GET", "/endpoints/hello/world/1.0/nope"), ("GET", "/nothing"), ("GET", "/a/b"), ("POST", "/"),
    ("GET", "/register"),
])
def test_the_info_routes_answer_like_the_real_runtime(sides, method, path):
    real, ours = (parsed(httpx.request(method, side.runtime + path)) for side in sides)
    if path == "/register":  # names each side's own activator
        assert set(ours[1]) == set(real[1]) == {"Registered with"}
        assert ours[0] == real[0] == 200
    else:
        assert ours == real


def test_registration_bodies_match_apart_from_url_and_version(sides):
    real, ours = (httpx.get(f"{side.activator}/proxy/registrations").json()["python"] for side in sides)
    assert ours["url"] != real["url"]
    assert {k: v for k, v in ours.items() if k not in ("url", "version")} == \
           {k: v for k, v in real.items() if k not in ("url", "version")}
    assert list(ours) == list(real)  # key order as sent


@pytest.mark.parametrize("case", ["a good descriptor", "an artifact 404", "an import error", "a missing key",
                                  "malformed JSON"])
def test_an_activation_gets_the_same_answer_from_both_runtimes(sides, case):
    def descriptor(side: Side) -> dict | bytes:
        base = f"{side.activator}/proxy/artifacts/hello-world-v1.0/"
        node = {"artifact": ["src/hello.py"], "engine": "python", "entry": "src/hello.py", "function": "welcome",
                "baseUrl": base, "uri": "conformance/ko/1.0/welcome", "checksum": "abc123"}
        if case == "an artifact 404":
            node.update(artifact=["src/absent.py"], entry="src/absent.py", uri="conformance/ko/1.0/absent")
        elif case == "an import error":
            node.update(artifact=["src/broken.py"], entry="src/broken.py", uri="conformance/ko/1.0/broken")
        elif case == "a missing key":
            del node["function"]
        elif case == "malformed JSON":
            return b"{not json"
        return node

    real, ours = (parsed(httpx.post(f"{side.runtime}/endpoints", **_body(descriptor(side)))) for side in sides)
    assert ours == real


def _body(value) -> dict:
    if isinstance(value, bytes):
        return {"content": value, "headers": {"Content-Type": "application/json"}}
    return {"json": value}


def _ko(code: str, checksum: str) -> bytes:
    """A one-endpoint KO whose answer tells which code the runtime imported."""
    ko = kos.from_cells(kos.Ark("cache", "probe", "1.0"),
                        [kos.CellEndpoint("which", "which", f"def which(x):\n    return {code!r}\n")])
    ko.deployment["/which"]["post"]["checksum"] = checksum
    return kos.to_zip(ko)


@pytest.mark.parametrize("strategy", ["never", "always", "use_checksum"])
def test_each_cache_strategy_reactivates_like_the_real_runtime(tmp_path, strategy):
    """Re-publishing changed code with the same checksum, then with a new one: which code answers?"""
    steps = [("one", "c1"), ("two", "c1"), ("three", "c2")]
    seen = {}
    with both_sides(tmp_path, kos_dir=None, strategy=strategy) as pair:
        for label, side in zip(("real", "polynb"), pair, strict=True):
            answers = []
            for code, checksum in steps:
                published = httpx.post(f"{side.activator}/kos", files={"ko": ("ko.zip", _ko(code, checksum))})
                statuses = [endpoint["status"] for endpoint in published.json()["endpoints"]]
                call = httpx.post(f"{side.activator}/cache/probe/1.0/which", json={})
                answers.append((statuses, call.status_code, call.json()["result"]))
            seen[label] = answers
    assert seen["polynb"] == seen["real"]
    expected = {"never": ["one", "two", "three"], "always": ["one", "one", "one"],
                "use_checksum": ["one", "one", "three"]}[strategy]
    assert [answer[2] for answer in seen["real"]] == expected


def test_a_second_activation_of_a_key_being_activated_gets_503_like_the_real_runtime(tmp_path):
    """The first activation installs requirements (pip runs), so it is still processing when the second comes."""
    ko = kos.from_cells(kos.Ark("busy", "ko", "1.0"),
                        [kos.CellEndpoint("run", "run", "def run(x):\n    return x\n", ("pip",))])
    answers = {}
    with both_sides(tmp_path, kos_dir=None) as pair:
        for label, side in zip(("real", "polynb"), pair, strict=True):
            httpx.post(f"{side.activator}/kos", files={"ko": ("ko.zip", kos.to_zip(ko))}).raise_for_status()
            node = {**ko.endpoints()["run"], "baseUrl": f"{side.activator}/proxy/artifacts/{ko.location}/",
                    "uri": "busy/ko/1.0/run"}
            first = {}
            worker = threading.Thread(target=lambda: first.update(
                reply=httpx.post(f"{side.runtime}/endpoints", json=node, timeout=120)))
            worker.start()
            wait_until(lambda: _processing(side.runtime, "busy/ko/1.0/run"), 60, step=0.01)
            second = httpx.post(f"{side.runtime}/endpoints", json=node)
            worker.join(120)
            answers[label] = (parsed(second), parsed(first["reply"]))
    assert answers["polynb"] == answers["real"]
    assert answers["real"][0][0] == 503 and answers["real"][1][0] == 200


def _processing(runtime: str, uri: str) -> bool:
    reply = httpx.get(f"{runtime}/endpoints/{uri}")
    return reply.status_code == 200 and reply.json()["is_processing"] is True
