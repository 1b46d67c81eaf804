"""polynb's KGrid runtime in a service, against a local activator process: executions, shelf, faults."""
from __future__ import annotations

import json
import logging
import socket
import threading

import httpx
import kgrid_peers
import pytest
from support import free_port, taken_port, wait_until

from polynb.journal import CANCELLED, FAILED, RUNNING, SUCCEEDED
from polynb.payload import Payload
from polynb.ports import PortInUse


def register(service, ns, ark: str, endpoint: str, source: str, requirements: tuple[str, ...] = ()):
    """What ``%%kgrid_ko ARK --endpoint E`` does: the cell runs in the notebook, then is published."""
    exec(source, ns)
    options = {"ark": ark, "endpoint": endpoint, "requirements": list(requirements), "title": None}
    return service.register(Payload("kgrid", f"{ark}/{endpoint}", source, None, options))


def activated(activator: str, uri: str) -> bool:
    try:
        states = httpx.get(f"{activator}/endpoints").json()
    except httpx.HTTPError:
        return False
    return any(s["id"] == uri and s["status"] == "Activated" for s in states)


def test_a_cell_endpoint_runs_against_the_live_notebook_state_and_is_journaled(activator, start_service):
    ns = {}
    service = start_service(activator, ns)
    registration = register(service, ns, "nb/greeter/1.0", "greet",
                            "def greet(x):\n    print('greeting', x['name'])\n    return greeting + x['name']\n")
    assert registration.address == f"{activator}/nb/greeter/1.0/greet"
    ns["greeting"] = "Hello, "
    reply = httpx.post(registration.address, json={"name": "Tom"})
    assert reply.status_code == 200
    assert reply.json()["result"] == "Hello, Tom"
    assert reply.json()["info"]["inputs"] == {"name": "Tom"}
    record = service.journal.records(platform="kgrid")[0]
    assert (record.payload, record.status, record.input, record.output, record.version) == \
        ("nb/greeter/1.0/greet", SUCCEEDED, {"name": "Tom"}, "Hello, Tom", 1)
    assert record.stdout == "greeting Tom\n"


def test_a_changed_cell_is_published_again_and_answers_with_the_new_code(activator, start_service):
    ns = {}
    service = start_service(activator, ns)
    first = register(service, ns, "nb/v/1.0", "which", "def which(x):\n    return 'old'\n")
    second = register(service, ns, "nb/v/1.0", "which", "def which(x):\n    return 'new'\n")
    assert second.changed and second.version.version == 2
    assert httpx.post(first.address, json={}).json()["result"] == "new"


def test_cells_of_one_ark_are_endpoints_of_one_ko(activator, start_service):
    ns = {}
    service = start_service(activator, ns)
    register(service, ns, "nb/multi/1.0", "one", "def one(x):\n    return 1\n")
    register(service, ns, "nb/multi/1.0", "two", "def two(x):\n    return 2\n")
    assert [httpx.post(f"{activator}/nb/multi/1.0/{e}", json={}).json()["result"] for e in ("one", "two")] == [1, 2]


def test_execution_errors_answer_the_runtime_shape_and_are_failed_records(activator, start_service, runtime_url):
    ns = {}
    service = start_service(activator, ns)
    register(service, ns, "nb/err/1.0", "fail", "def fail(x):\n    raise ValueError('bad input')\n")
    register(service, ns, "nb/err/1.0", "odd", "def odd(x):\n    return {1, 2}\n")
    runtime = runtime_url(service)
    raised = httpx.post(f"{runtime}/nb_err_1_0_fail", json={})
    unserialisable = httpx.post(f"{runtime}/nb_err_1_0_odd", json={})
    malformed = httpx.post(f"{runtime}/nb_err_1_0_fail", content=b"{nope", headers={"Content-Type": "application/json"})
    assert (raised.status_code, raised.json()) == (500, {"code": 500, "description": "bad input", "name": "ValueError"})
    assert (unserialisable.status_code, unserialisable.json()["name"]) == (500, "TypeError")
    assert malformed.status_code == 400
    records = service.journal.records(platform="kgrid")
    assert [r.status for r in records] == [FAILED, FAILED, FAILED]
    assert "not JSON" in records[0].error and records[0].input == "{nope"
    assert "not JSON serializable" in records[1].error
    assert "bad input" in records[2].error and "in fail" in records[2].traceback
    assert httpx.post(f"{activator}/hello/world/1.0/echo", json=[1]).json()["result"] == [1]


def test_the_shelf_and_its_context_json_live_in_the_configured_folder(activator, start_service, tmp_path):
    service = start_service(activator)
    wait_until(lambda: activated(activator, "hello/world/1.0/welcome"))
    context = json.loads((tmp_path / "pyshelf" / "context.json").read_text())
    welcome = context["hello_world_1_0_welcome"]
    assert (welcome["status"], welcome["entry"], welcome["function_name"], welcome["is_processing"]) == \
        ("Activated", "src.hello", "welcome", False)
    assert welcome["path"] == "pyshelf.hello_world_1_0_welcome.src.hello"
    assert (tmp_path / "pyshelf" / "hello_world_1_0_welcome" / "src" / "hello.py").is_file()
    def settled(key: str) -> dict | None:  # written once as Processing, then with the activation's outcome
        entry = json.loads((tmp_path / "pyshelf" / "context.json").read_text()).get(key)
        return entry if entry is not None and entry["status"] != "Processing" else None

    wait_until(lambda: settled("hello_world_1_0_missing"))
    missing = settled("hello_world_1_0_missing")
    assert "No such file or directory" in missing["status"] and missing["is_processing"] is False
    assert not (tmp_path / "pyshelf" / "hello_world_1_0_missing").exists()
    assert service.statuses()["kgrid"].state == "ready"


def test_a_restarted_runtime_reloads_its_endpoints_from_context_json(activator, start_service, runtime_url, tmp_path):
    first = start_service(activator)
    wait_until(lambda: activated(activator, "hello/world/1.0/welcome"))
    first.stop(timeout=2)
    nowhere = f"http://127.0.0.1:{free_port()}"
    second = start_service(nowhere)
    reply = httpx.post(f"{runtime_url(second)}/hello_world_1_0_welcome", json={"name": "again"})
    assert reply.json() == {"result": "Welcome to Knowledge Grid, again"}
    listed = {e["id"]: e["status"] for e in httpx.get(f"{runtime_url(second)}/endpoints").json()}
    assert listed["hello/world/1.0/welcome"] == "Activated"
    assert "No such file or directory" in listed["hello/world/1.0/missing"]


@pytest.mark.servers
def test_a_runtime_started_before_its_activator_registers_once_the_activator_appears(start_service, tmp_path):
    port = free_port()
    service = start_service(f"http://127.0.0.1:{port}/")
    wait_until(lambda: "unreachable" in (service.statuses()["kgrid"].detail or ""))
    assert service.statuses()["kgrid"].state == "starting"
    with kgrid_peers.local_activator(tmp_path / "late-shelf", kgrid_peers.KOS, port=port) as info:
        wait_until(lambda: activated(info["url"], "hello/world/1.0/welcome"))
        reply = httpx.post(f"{info['url']}/hello/world/1.0/welcome", json={"name": "late"})
        assert reply.json()["result"] == "Welcome to Knowledge Grid, late"
        assert service.statuses()["kgrid"].state == "ready"


@pytest.mark.slow
def test_a_restarted_activator_gets_the_heartbeat_and_reactivates_with_the_journal_intact(start_service, kgrid_env,
                                                                                           tmp_path):
    kgrid_env.setenv("KGRID_PROXY_HEARTBEAT_INTERVAL", "5")
    port = free_port()
    shelf = tmp_path / "activator-shelf"
    ns = {}
    with kgrid_peers.local_activator(shelf, port=port) as info:
        service = start_service(info["url"], ns)
        address = register(service, ns, "nb/durable/1.0", "run", "def run(x):\n    return x * 2\n").address
        assert httpx.post(address, json=21).json()["result"] == 42
    with kgrid_peers.local_activator(shelf, port=port) as info:
        wait_until(lambda: activated(info["url"], "nb/durable/1.0/run"), 20)
        heartbeat = httpx.get(f"{info['url']}/proxy/registrations").json()["python"]
        assert heartbeat["forceUpdate"] is False
        assert httpx.post(address, json=4).json()["result"] == 8
    records = service.journal.records(platform="kgrid", newest_first=False)
    assert [(r.input, r.output, r.status) for r in records] == [(21, 42, SUCCEEDED), (4, 8, SUCCEEDED)]


def test_requirements_are_installed_before_the_endpoint_answers(activator, start_service):
    ns = {}
    service = start_service(activator, ns)
    address = register(service, ns, "nb/req/1.0", "run", "def run(x):\n    return 'installed'\n",
                       requirements=("pip",)).address
    assert httpx.post(address, json={}).json()["result"] == "installed"


def test_a_failing_requirements_install_refuses_activation_and_the_service_keeps_serving(activator, start_service):
    ns = {}
    service = start_service(activator, ns)
    with pytest.raises(RuntimeError, match="CalledProcessError"):
        register(service, ns, "nb/req/1.0", "bad", "def bad(x):\n    return 1\n", requirements=("-not-a-req!",))
    states = {s["id"]: s["status"] for s in httpx.get(f"{activator}/endpoints").json()}
    assert "returned non-zero exit status" in states["nb/req/1.0/bad"]
    assert httpx.post(f"{activator}/hello/world/1.0/echo", json="still up").json()["result"] == "still up"


def test_a_ten_megabyte_input_is_executed(activator, start_service):
    ns = {}
    service = start_service(activator, ns)
    address = register(service, ns, "nb/big/1.0", "size", "def size(x):\n    return len(x['blob'])\n").address
    blob = "x" * (10 * 1024 * 1024)
    assert httpx.post(address, json={"blob": blob}, timeout=60).json()["result"] == len(blob)


def test_a_client_that_hangs_up_mid_execution_leaves_the_runtime_serving(activator, start_service, runtime_url):
    ns = {"gate": threading.Event()}
    service = start_service(activator, ns)
    register(service, ns, "nb/slow/1.0", "wait", "def wait(x):\n    gate.wait(10)\n    return 'done'\n")
    runtime = runtime_url(service).removeprefix("http://")
    host, port = runtime.split(":")
    body = b"{}"
    with socket.create_connection((host, int(port))) as raw:
        raw.sendall(b"POST /nb_slow_1_0_wait HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 2\r\n\r\n" + body)
        wait_until(lambda: any(r.status == "running" for r in service.journal.records()))
    ns["gate"].set()
    wait_until(lambda: service.journal.records()[0].status == SUCCEEDED)
    assert httpx.post(f"{activator}/nb/slow/1.0/wait", json={}).json()["result"] == "done"


def test_an_unregistered_endpoint_answers_like_an_unknown_key(activator, start_service, runtime_url):
    ns = {}
    service = start_service(activator, ns)
    register(service, ns, "nb/gone/1.0", "run", "def run(x):\n    return 1\n")
    service.call(service.unregister("kgrid", "nb/gone/1.0/run"))
    reply = httpx.post(f"{runtime_url(service)}/nb_gone_1_0_run", json={})
    assert (reply.status_code, reply.json()["name"]) == (500, "KeyError")


@pytest.mark.servers
def test_with_no_adapter_url_the_binding_starts_the_local_activator(start_service):
    service = start_service(None)
    activator = service.call(service.binding("kgrid")).activator_url
    wait_until(lambda: kgrid_peers.registered_url(activator) == service.statuses()["kgrid"].address)
    assert httpx.get(f"{activator}/proxy/environments/python").json()["status"] == "up"


@pytest.mark.parametrize("variable", ["KGRID_PYTHON_ENV_PORT", "PORT"])
def test_the_port_and_url_variables_keep_the_real_runtimes_meaning(activator, start_service, kgrid_env, variable):
    port = free_port()
    kgrid_env.setenv(variable, str(port))
    kgrid_env.setenv("KGRID_PYTHON_ENV_URL", f"http://127.0.0.1:{port}")
    service = start_service(activator)
    assert service.statuses()["kgrid"].address == f"http://127.0.0.1:{port}"
    info = httpx.get(f"http://127.0.0.1:{port}/info").json()
    assert (info["url"], info["activatorUrl"]) == (f"http://127.0.0.1:{port}", activator)
    wait_until(lambda: kgrid_peers.registered_url(activator) == f"http://127.0.0.1:{port}")


def test_debug_true_turns_on_the_runtimes_debug_log(activator, start_service, kgrid_env):
    logger = logging.getLogger("polynb.kgrid")
    kgrid_env.setattr(logger, "level", logging.NOTSET)
    kgrid_env.setenv("DEBUG", "True")
    start_service(activator)
    assert logger.level == logging.DEBUG


def test_a_taken_runtime_port_is_one_line_naming_the_variable(activator, start_service, kgrid_env):
    with taken_port() as port:
        kgrid_env.setenv("PORT", str(port))
        with pytest.raises(PortInUse) as refused:
            start_service(activator)
    assert str(refused.value) == f"kgrid: port {port} is already in use; set POLYNB_KGRID_PORT to another port (0: a free one)"


def test_a_cancelled_execution_answers_the_runtime_error_shape_and_is_a_cancelled_record(
        activator, start_service, runtime_url):
    ns = {}
    service = start_service(activator, ns)
    register(service, ns, "nb/stop/1.0", "spin", "def spin(x):\n    while True:\n        pass\n")
    runtime = runtime_url(service)
    answer = {}
    call = threading.Thread(target=lambda: answer.update(reply=httpx.post(f"{runtime}/nb_stop_1_0_spin", json={},
                                                                          timeout=60)))
    call.start()
    record = wait_until(lambda: service.journal.last(platform="kgrid", status=RUNNING), 30, "the KO running")
    service.cancel(record.id, "operator stop")
    call.join(60)
    assert (answer["reply"].status_code, answer["reply"].json()) == (
        500, {"code": 500, "name": "ExecutionCancelled", "description": "operator stop"})
    assert service.journal.get(record.id).status == CANCELLED
