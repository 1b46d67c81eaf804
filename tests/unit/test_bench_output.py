"""benchmarks/run.py --json: the last line is the one JSON object issue 13 asks for, with exactly its keys.

A dry run measures nothing (no timing is ever asserted in tests); it checks the shape that ``make bench``,
the chart and docs/benchmarks.md rely on.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

EXPECTED = {
    "kgrid": {"throughput_ratio", "direct_throughput_ratio"},
    "vantiq": {"code_ratio", "cached_ratio"},
    "aio": {"throughput_ratio", "floor_ratio"},
    "cloudstate": {"throughput_ratio", "floor_ratio"},
    "colonies": {"round_trips_per_s", "round_trip_ratio", "sign_ratio", "recover_per_s"},
    "kernel": {"cell_p50_added_ms", "cell_p95_added_ms"},
}


def test_the_last_line_of_json_output_has_every_benchmark_and_exactly_the_issues_keys():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--dry-run", "--json"],
                          capture_output=True, text=True, timeout=60, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert {name: set(figures) for name, figures in result.items()} == EXPECTED
