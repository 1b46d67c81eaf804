"""Prometheus metrics of executions, computed from the journal when they are scraped.

Nothing is counted on the execution path: a scrape reads the journal (one grouped query per journal) and
turns its records into metric families. So ``polynb serve --metrics-port`` and the jupyter-server
extension, which reads the journals of notebooks it does not run, report the same numbers the same way,
and the counts are the records themselves: a restarted kernel loses none.
"""
from __future__ import annotations

import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder, start_http_server
from prometheus_client.registry import Collector, CollectorRegistry

from .journal import FILENAME, OPEN_STATUSES, Journal
from .ports import listening

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

#: seconds: from a quick HTTP payload to a Colonies process that runs for half an hour
DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


@dataclass(frozen=True)
class JournalSource:
    """One journal folder, the label that names whose records are counted, and which records those are
    (filters as :meth:`Journal.records` takes them: a notebook, or one kernel's ``host`` and ``pid``)."""

    directory: Path
    notebook: str
    filters: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        return self.directory, self.notebook, tuple(sorted(self.filters.items()))


Tallies = dict[tuple, dict[str, Any]]  # Journal.tallies rows by (platform, payload, version, status)


@dataclass
class _Settled:
    """The tallies of a journal's records up to ``upto``, all finished, so never to change: a scrape reads only
    the records after them. ``identity``, the id of the journal's oldest record, tells a journal deleted and
    made anew (a file's inode can be reused) or one whose oldest records were removed: then all is counted anew."""

    identity: str | None
    upto: int = 0
    tallies: Tallies = field(default_factory=dict)


class JournalReader:
    """Reads the tallies of journals for scrapes, remembering what is settled between them: a scrape costs a
    range read of the records received since the oldest one still open, not a pass over the whole journal."""

    def __init__(self) -> None:
        self._settled: dict[tuple, _Settled] = {}
        self._lock = threading.Lock()

    def tallies(self, source: JournalSource) -> Tallies:
        """Every record of ``source`` counted; none while its journal does not exist yet."""
        path = source.directory / FILENAME
        if not path.is_file():
            return {}
        journal = Journal(source.directory, readonly=True)
        try:
            oldest = journal.records(limit=1, newest_first=False)
            identity = oldest[0].id if oldest else None
            with self._lock:
                settled = self._settled.get(source.key)
                if settled is None or settled.identity != identity:
                    settled = self._settled[source.key] = _Settled(identity)
                upto = journal.settled(settled.upto, **source.filters)
                if upto > settled.upto:
                    _merge(settled.tallies, journal.tallies(DURATION_BUCKETS, settled.upto, upto, **source.filters))
                    settled.upto = upto
                live = journal.tallies(DURATION_BUCKETS, settled.upto, **source.filters)
                return _merge(_merge({}, settled.tallies.values()), live)
        finally:
            journal.close_db()


def _merge(into: Tallies, rows: Iterable[dict[str, Any]]) -> Tallies:
    """Add tally rows into ``into``, summing the ones of the same platform, payload, version and status."""
    for row in rows:
        key = (row["platform"], row["payload"], row["version"], row["status"])
        mine = into.get(key)
        if mine is None:
            into[key] = {**row, "within": list(row["within"])}
            continue
        for name in ("count", "timed", "seconds"):
            mine[name] += row[name]
        mine["within"] = [a + b for a, b in zip(mine["within"], row["within"], strict=True)]
    return into


class JournalCollector(Collector):
    """The executions of some journals as Prometheus metric families, read at each ``collect``; a journal
    that does not exist yet or cannot be read adds no executions (the others are reported all the same)."""

    def __init__(self, sources: Sequence[JournalSource], reader: JournalReader) -> None:
        self.sources = sources
        self.reader = reader

    def collect(self) -> Iterator[Metric]:
        base = ["notebook", "platform", "payload"]
        total = CounterMetricFamily("polynb_executions", "Executions that have finished, by how they ended.",
                                    labels=[*base, "version", "status"])
        duration = HistogramMetricFamily("polynb_execution_duration", "Seconds finished executions ran.",
                                         labels=[*base, "version"], unit="seconds")
        in_flight = GaugeMetricFamily("polynb_executions_in_flight",
                                      "Executions received or running, not yet finished.", labels=base)
        size = GaugeMetricFamily("polynb_journal_size", "Bytes the journal file and its write-ahead log take.",
                                 labels=["journal"], unit="bytes")
        for directory in dict.fromkeys(source.directory for source in self.sources):
            if (directory / FILENAME).is_file():
                size.add_metric([str(directory)], _file_bytes(directory))
        for source in self.sources:
            try:
                tallies = self.reader.tallies(source)
            except sqlite3.DatabaseError:
                continue
            _add(source.notebook, tallies.values(), total, duration, in_flight)
        yield from (total, duration, in_flight, size)


def _add(notebook: str, tallies: Iterable[dict[str, Any]], total: CounterMetricFamily,
         duration: HistogramMetricFamily, in_flight: GaugeMetricFamily) -> None:
    """One source's tallies into the families: finished ones counted by status and their durations binned
    by version, open ones in flight."""
    running: dict[tuple[str, str], int] = defaultdict(int)
    binned: Tallies = {}
    for row in tallies:
        version = "" if row["version"] is None else str(row["version"])
        if row["status"] in OPEN_STATUSES:
            running[(row["platform"], row["payload"])] += row["count"]
            continue
        total.add_metric([notebook, row["platform"], row["payload"], version, row["status"]], row["count"])
        _merge(binned, [{**row, "version": version, "status": ""}])
    for (platform, payload), count in running.items():
        in_flight.add_metric([notebook, platform, payload], count)
    for (platform, payload, version, _), row in binned.items():
        buckets = [(repr(bound), n) for bound, n in zip(DURATION_BUCKETS, row["within"], strict=True)]
        duration.add_metric([notebook, platform, payload, version], [*buckets, ("+Inf", row["timed"])],
                            row["seconds"])


def _file_bytes(directory: Path) -> int:
    """The journal's bytes on disk, its write-ahead log included (it holds the newest records until a checkpoint)."""
    total = 0
    for name in (FILENAME, FILENAME + "-wal"):
        try:
            total += (directory / name).stat().st_size
        except FileNotFoundError:
            pass
    return total


def exposition(sources: Sequence[JournalSource], reader: JournalReader, accept: str | None) -> tuple[bytes, str]:
    """The metrics of ``sources`` in the format the scraper's ``Accept`` header asks for (OpenMetrics for
    Prometheus, the classic text format otherwise), and its content type."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry(sources, reader)), content_type


def registry(sources: Sequence[JournalSource], reader: JournalReader) -> CollectorRegistry:
    """A registry of these sources' metrics alone (not the process-wide default, which holds Python's own)."""
    collectors = CollectorRegistry(auto_describe=False)
    collectors.register(JournalCollector(sources, reader))
    return collectors


def start_server(sources: Sequence[JournalSource], host: str, port: int) -> tuple[WSGIServer, int]:
    """Serve the metrics of ``sources`` over HTTP at ``http://host:port/metrics`` (port 0: a free one) on a
    daemon thread, with prometheus_client's own exposition server; returns it (``shutdown()`` stops it) and
    its port. A taken port is :class:`PortInUse` naming ``--metrics-port``."""
    with listening("metrics", port, "--metrics-port"):
        server, _ = start_http_server(port, addr=host, registry=registry(sources, JournalReader()))
    return server, server.server_address[1]
