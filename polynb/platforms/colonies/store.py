"""Durable state of the local Colonies server: every object and log line in one SQLite file.

The stand-in keeps its working set in memory and writes each change through here, so a restart
(``polynb up colonies`` again on the same file) resumes with every colony, process, graph and log.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ...private import private_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
                                    PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS logs (seq INTEGER PRIMARY KEY AUTOINCREMENT, processid TEXT NOT NULL,
                                 colonyname TEXT NOT NULL, executorname TEXT NOT NULL, message TEXT NOT NULL,
                                 timestamp INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS logs_process ON logs(processid, timestamp);
CREATE INDEX IF NOT EXISTS logs_executor ON logs(executorname, timestamp);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Store:
    """Objects by (kind, id) as JSON, logs as rows, and a few settings (the server's keys)."""

    def __init__(self, path: str | Path) -> None:
        self.db = sqlite3.connect(str(private_file(path)), isolation_level=None, check_same_thread=False)  # keys
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a killed server, without an fsync per change
        self.db.executescript(_SCHEMA)

    def load(self, kind: str) -> dict[str, dict]:
        rows = self.db.execute("SELECT id, body FROM objects WHERE kind = ?", (kind,))
        return {key: json.loads(body) for key, body in rows}

    def save(self, kind: str, key: str, body: dict) -> None:
        self.db.execute("INSERT OR REPLACE INTO objects (kind, id, body) VALUES (?, ?, ?)",
                        (kind, key, json.dumps(body)))

    def delete(self, kind: str, keys: Iterable[str]) -> None:
        self.db.executemany("DELETE FROM objects WHERE kind = ? AND id = ?", [(kind, key) for key in keys])

    def add_log(self, processid: str, colonyname: str, executorname: str, message: str, timestamp: int) -> None:
        self.db.execute("INSERT INTO logs (processid, colonyname, executorname, message, timestamp) "
                        "VALUES (?, ?, ?, ?, ?)", (processid, colonyname, executorname, message, timestamp))

    def logs(self, *, processid: str = "", executorname: str = "", since: int = 0, count: int = 100,
             latest: bool = False) -> list[dict[str, Any]]:
        """Log lines oldest first: of a process, or of an executor when no process is named."""
        column, value = ("processid", processid) if not executorname else ("executorname", executorname)
        order = "DESC" if latest else "ASC"
        rows = self.db.execute(
            f"SELECT processid, colonyname, executorname, message, timestamp FROM logs WHERE {column} = ? "
            f"AND timestamp > ? ORDER BY timestamp {order}, seq {order} LIMIT ?", (value, since, count)).fetchall()
        if latest:
            rows.reverse()
        keys = ("processid", "colonyname", "executorname", "message", "timestamp")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        self.db.close()
