"""Every benchmark in one run: each platform's (polynb against its real peer, and the floors) and the kernel's
responsiveness under load; a summary table, and with ``--json`` one JSON object as the last line of stdout.

Each benchmark runs as its own process (``benchmarks/<name>.py --json``), one after the other, so that no
two compete for the machine; the peers' venvs under ``.peers/`` are made on first use. ``--chart PNG`` draws
the ratios from the same JSON (matplotlib: ``pip install -e '.[bench]'``, as ``make bench`` does).

    .venv/bin/python benchmarks/run.py [--json] [--chart docs/images/benchmarks.png] [--quick] [--profile DIR]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# What each benchmark reports in the summary, in order; a ratio is polynb over the peer (or the floor).
KEYS = {
    "kgrid": ("throughput_ratio", "direct_throughput_ratio"),
    "vantiq": ("code_ratio", "cached_ratio"),
    "aio": ("throughput_ratio", "floor_ratio"),
    "cloudstate": ("throughput_ratio", "floor_ratio"),
    "colonies": ("round_trips_per_s", "round_trip_ratio", "sign_ratio", "recover_per_s"),
    "kernel": ("cell_p50_added_ms", "cell_p95_added_ms"),
}
# Issue 13's targets, drawn on the chart beside each ratio.
TARGETS = {
    ("kgrid", "throughput_ratio"): 1.0, ("kgrid", "direct_throughput_ratio"): 1.4,
    ("vantiq", "code_ratio"): 1.4, ("vantiq", "cached_ratio"): 1.4,
    ("aio", "throughput_ratio"): 3.0, ("aio", "floor_ratio"): 0.7,
    ("cloudstate", "throughput_ratio"): 1.3, ("cloudstate", "floor_ratio"): 0.8,
    ("colonies", "round_trip_ratio"): 2.5,
}
TIMEOUT = 600  # seconds for one benchmark; a hung one must not hold the whole run


def run_one(name: str, quick: bool, profile: str | None) -> dict:
    """Run ``benchmarks/<name>.py --json``, echoing its output; its ratios (None each where it failed)."""
    command = [sys.executable, str(HERE / f"{name}.py"), "--json"] + (["--quick"] if quick else [])
    if profile and name != "kernel":
        command += ["--profile", str(Path(profile) / name)]
    print(f"== {name}: {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, timeout=TIMEOUT)
        output = done.stdout
    except subprocess.TimeoutExpired as expired:
        output = expired.stdout.decode() if isinstance(expired.stdout, bytes) else (expired.stdout or "")
    lines = output.rstrip().splitlines()
    print("\n".join(lines[:-1]), f"\n   ({time.monotonic() - started:.0f} s)", flush=True)
    try:
        reported = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        print(f"== {name} failed: {lines[-1] if lines else 'no output'}", flush=True)
        reported = {}
    return {key: reported.get(key) for key in KEYS[name]}


def draw(results: dict, path: Path) -> None:
    """A bar per ratio, a tick at its target and a line at 1x; the kernel's added latency in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = [(f"{platform} {key.removesuffix('_ratio').replace('_', ' ')}", value, TARGETS.get((platform, key)))
            for platform, figures in results.items() for key, value in figures.items()
            if key.endswith("_ratio") and value is not None]
    figure, axes = plt.subplots(figsize=(8, 0.45 * len(bars) + 1.6))
    positions = range(len(bars))
    axes.barh(positions, [value for _, value, _ in bars], color="#4c72b0")
    for position, (_, value, target) in zip(positions, bars, strict=True):
        axes.text(value, position, f" {value:.2f}x", va="center", fontsize=8)
        if target is not None:
            axes.plot([target, target], [position - 0.4, position + 0.4], color="#c44e52", linewidth=2)
    axes.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    axes.set_yticks(list(positions), [label for label, _, _ in bars], fontsize=8)
    axes.invert_yaxis()
    axes.set_xscale("log")
    axes.set_xlabel("polynb / peer (or floor), same run, same load; red tick: issue 13's target")
    kernel = results.get("kernel", {})
    title = "polynb benchmarks"
    if kernel.get("cell_p50_added_ms") is not None:
        title += (f" - a trivial cell under KGrid load: {kernel['cell_p50_added_ms']:+.1f} ms p50, "
                  f"{kernel['cell_p95_added_ms']:+.1f} ms p95")
    axes.set_title(title, fontsize=9)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def print_summary(results: dict) -> None:
    print(f"{'benchmark':<12}{'measure':<26}{'value':>10}")
    for platform, figures in results.items():
        for key, value in figures.items():
            shown = "failed" if value is None else (f"{value:.2f}x" if key.endswith("ratio") else f"{value:.1f}")
            print(f"{platform:<12}{key:<26}{shown:>10}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="the last line of stdout is the result as JSON")
    parser.add_argument("--chart", metavar="PNG", help="draw the ratios into this PNG")
    parser.add_argument("--quick", action="store_true", help="tiny loads: checks the plumbing, not the speed")
    parser.add_argument("--profile", metavar="DIR", help="py-spy records polynb's side of each platform into DIR")
    parser.add_argument("--only", nargs="+", choices=list(KEYS), help="run only these benchmarks")
    parser.add_argument("--from-json", metavar="FILE", help="run nothing: the result of an earlier --json run")
    parser.add_argument("--dry-run", action="store_true", help="run nothing: the result's shape, every value null")
    args = parser.parse_args()
    started = time.monotonic()
    if args.from_json:
        results = json.loads(Path(args.from_json).read_text().strip().splitlines()[-1])
    elif args.dry_run:
        results = {name: dict.fromkeys(KEYS[name]) for name in (args.only or KEYS)}
    else:
        results = {name: run_one(name, args.quick, args.profile) for name in (args.only or KEYS)}
        print(f"== all benchmarks in {time.monotonic() - started:.0f} s")
    print_summary(results)
    if args.chart:
        draw(results, Path(args.chart))
        print(f"chart: {args.chart}")
    if args.json:
        print(json.dumps(results))
    complete = all(value is not None for figures in results.values() for value in figures.values())
    return 0 if complete or args.dry_run else 1


if __name__ == "__main__":
    sys.exit(main())
