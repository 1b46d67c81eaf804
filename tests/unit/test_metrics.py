"""Prometheus metrics of executions, read from the journal and scraped over real HTTP on 127.0.0.1."""
from __future__ import annotations

import threading

import httpx
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from support import taken_port, wait_until

from polynb.journal import RUNNING, Journal
from polynb.metrics import DURATION_BUCKETS, JournalReader, JournalSource, exposition, start_server
from polynb.payload import Payload
from polynb.ports import PortInUse
from polynb.service import Service

OPENMETRICS = "application/openmetrics-text; version=1.0.0"


@pytest.fixture
def service(tmp_path, registry):
    running = Service(journal=Journal(tmp_path / ".polynb"), notebook_ns={})
    yield running
    running.stop(timeout=1)


@pytest.fixture
def scrape(tmp_path):
    """GET /metrics of the journal in tmp_path/.polynb from a metrics server on a free 127.0.0.1 port."""
    server, port = start_server([JournalSource(tmp_path / ".polynb", "demo.ipynb")], "127.0.0.1", 0)

    def get() -> dict[tuple[str, tuple], float]:
        reply = httpx.get(f"http://127.0.0.1:{port}/metrics", headers={"Accept": OPENMETRICS}, timeout=30)
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("application/openmetrics-text")
        return samples(reply.text)

    yield get
    server.shutdown()
    server.server_close()


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of an OpenMetrics exposition by name and labels (parsing it also checks it is well formed)."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def labels(**values: str) -> tuple:
    return tuple(sorted({"notebook": "demo.ipynb", "platform": "fake", "payload": "hello", **values}.items()))


def register(service: Service, source: str, **namespace) -> str:
    service.notebook_ns.update(namespace)
    exec(source, service.notebook_ns)
    return service.register(Payload("fake", "hello", source)).address


def test_finished_executions_are_counted_by_payload_version_and_status(service, scrape):
    address = register(service, "def hello(x):\n    return 10 // x")
    assert [httpx.post(address, json=x).status_code for x in (1, 2, 0)] == [200, 200, 500]
    register(service, "def hello(x):\n    return x")
    assert httpx.post(address, json=3).status_code == 200

    metrics = scrape()
    assert metrics[("polynb_executions_total", labels(version="1", status="succeeded"))] == 2
    assert metrics[("polynb_executions_total", labels(version="1", status="failed"))] == 1
    assert metrics[("polynb_executions_total", labels(version="2", status="succeeded"))] == 1
    assert ("polynb_executions_total", labels(version="2", status="failed")) not in metrics


def test_the_duration_histogram_holds_every_finished_execution_of_a_version(service, scrape):
    address = register(service, "def hello(x):\n    return 10 // x")
    for x in (1, 0, 5):
        httpx.post(address, json=x)
    took = [record.duration for record in service.journal.records()]

    metrics = scrape()
    version = labels(version="1")
    assert metrics[("polynb_execution_duration_seconds_count", version)] == 3
    assert metrics[("polynb_execution_duration_seconds_bucket", labels(version="1", le="+Inf"))] == 3
    assert metrics[("polynb_execution_duration_seconds_sum", version)] == pytest.approx(sum(took))
    for bound in DURATION_BUCKETS:
        within = sum(1 for seconds in took if seconds <= bound)
        assert metrics[("polynb_execution_duration_seconds_bucket", labels(version="1", le=repr(bound)))] == within


def test_a_running_execution_is_in_flight_and_counted_once_it_finishes(service, scrape):
    gate = threading.Event()
    address = register(service, "def hello(x):\n    gate.wait(30)\n    return x", gate=gate)
    call = threading.Thread(target=httpx.post, args=(address,), kwargs={"json": 1, "timeout": 60})
    call.start()
    try:
        wait_until(lambda: service.journal.records(status=RUNNING), message="the execution running")
        metrics = scrape()
        assert metrics[("polynb_executions_in_flight", labels())] == 1
        assert ("polynb_executions_total", labels(version="1", status="succeeded")) not in metrics
    finally:
        gate.set()
        call.join(60)
    metrics = scrape()
    assert ("polynb_executions_in_flight", labels()) not in metrics
    assert metrics[("polynb_executions_total", labels(version="1", status="succeeded"))] == 1


def test_records_closed_after_an_older_open_one_are_counted_once_across_scrapes(tmp_path):
    """A scrape remembers what it has counted up to the oldest open record; what closes later is still counted."""
    journal = Journal(tmp_path / ".polynb")
    reader = JournalReader()
    source = [JournalSource(journal.directory, "demo.ipynb")]

    def succeeded() -> float:
        body, _ = exposition(source, reader, OPENMETRICS)
        return samples(body.decode()).get(("polynb_executions_total", labels(version="", status="succeeded")), 0)

    slow = journal.open("fake", "hello", 1)
    journal.close(journal.open("fake", "hello", 2), output=2)
    assert succeeded() == 1
    journal.close(slow, output=1)
    journal.close(journal.open("fake", "hello", 3), output=3)
    assert succeeded() == 3
    assert succeeded() == 3


def test_a_journal_made_anew_is_counted_anew(tmp_path):
    reader, source = JournalReader(), [JournalSource(tmp_path / ".polynb", "demo.ipynb")]
    first = Journal(tmp_path / ".polynb")
    for x in range(3):
        first.close(first.open("fake", "hello", x), output=x)
    first.close_db()
    key = ("polynb_executions_total", labels(version="", status="succeeded"))
    assert samples(exposition(source, reader, OPENMETRICS)[0].decode())[key] == 3
    for path in (tmp_path / ".polynb").iterdir():
        path.unlink()
    second = Journal(tmp_path / ".polynb")
    second.close(second.open("fake", "hello", 1), output=1)
    assert samples(exposition(source, reader, OPENMETRICS)[0].decode())[key] == 1


def test_the_journal_size_is_its_bytes_on_disk(service, scrape, tmp_path):
    address = register(service, "def hello(x):\n    return x")
    httpx.post(address, json="x" * 10_000)
    metrics = scrape()
    on_disk = sum(path.stat().st_size for path in (tmp_path / ".polynb").glob("journal.sqlite*")
                  if not path.name.endswith("-shm"))
    assert metrics[("polynb_journal_size_bytes", (("journal", str(tmp_path / ".polynb")),))] == on_disk
    assert on_disk > 10_000


def test_a_scrape_of_a_folder_without_a_journal_has_no_samples(tmp_path):
    body, content_type = exposition([JournalSource(tmp_path / ".polynb", "demo.ipynb")], JournalReader(), None)
    assert content_type.startswith("text/plain")  # no Accept: the classic text format
    assert "polynb_executions_total{" not in body.decode() and "polynb_journal_size_bytes{" not in body.decode()


def test_a_taken_metrics_port_names_the_option_that_moves_it(tmp_path):
    with taken_port() as port, pytest.raises(PortInUse, match="--metrics-port"):
        start_server([JournalSource(tmp_path / ".polynb", "demo.ipynb")], "127.0.0.1", port)
