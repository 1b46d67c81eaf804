"""Walk the demo's notebooks as a new user does after ``make demo``: run under ``binder/start``, so every kernel
shares the same local platforms, every notebook runs twice in a row, then pairs of notebooks run at the same time.

usage: binder/start python tests/journeys/walk.py FOLDER REPORT.json [--rounds N] [--pair A.ipynb B.ipynb ...]

Each run executes a notebook with nbclient (as nbval and Binder's users do) and writes the report: per run, the
notebook, the round, whether it passed, the error, and every output that reads as a raw widget repr.
"""
from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

RAW_WIDGET_MARKS = ("HTML(value=", "VBox(children=", "HBox(children=", "Output(", "Button(description=")


def raw_widget_outputs(notebook: nbformat.NotebookNode) -> list[str]:
    """Outputs whose text form is a widget's constructor repr instead of something a person reads."""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = str(output.get("text") or output.get("data", {}).get("text/plain", ""))
            if any(mark in text for mark in RAW_WIDGET_MARKS):
                found.append(text[:200])
    return found


def run(path: Path, label: str, timeout: int) -> dict:
    """Execute one notebook in place, in its own folder, and say how it went."""
    notebook = nbformat.read(path, as_version=4)
    started = time.monotonic()
    error = None
    try:
        NotebookClient(notebook, timeout=timeout, resources={"metadata": {"path": str(path.parent)}}).execute()
    except CellExecutionError as exc:
        error = str(exc)[-3000:]
    except Exception as exc:  # a kernel that died or a cell that timed out is a failed walk too
        error = f"{type(exc).__name__}: {exc}"[-3000:]
    nbformat.write(notebook, path.with_name(f"{path.stem}.{label}.ipynb"))
    return {"notebook": path.name, "run": label, "ok": error is None, "error": error,
            "raw_widgets": raw_widget_outputs(notebook), "seconds": round(time.monotonic() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("report", type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pair", nargs=2, action="append", default=[], metavar="NOTEBOOK")
    parser.add_argument("--timeout", type=int, default=180)
    args = parser.parse_args()
    notebooks = sorted(p for p in args.folder.glob("*.ipynb") if p.stem.count(".") == 0)
    results = []
    for round_number in range(1, args.rounds + 1):
        for path in notebooks:
            results.append(run(path, f"round{round_number}", args.timeout))
    for pair in args.pair:
        with ThreadPoolExecutor(len(pair)) as side_by_side:
            results.extend(side_by_side.map(lambda name: run(args.folder / name, "together", args.timeout), pair))
    args.report.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
