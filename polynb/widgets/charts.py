"""Inline SVG charts in the theme's colours: no plotting dependency, and they render wherever HTML does."""
from __future__ import annotations

from collections.abc import Sequence

from .markup import data_attributes, escape


def sparkline(counts: Sequence[int], failures: Sequence[int] = (), *, width: int = 120, height: int = 22,
              label: str = "") -> str:
    """One bar per interval, oldest left, failures stacked on top in the error colour; scaled to the
    busiest interval. ``label`` is the chart's accessible name and tooltip."""
    failures = list(failures) or [0] * len(counts)
    peak = max(counts, default=0) or 1
    step = width / max(len(counts), 1)
    bars = []
    for index, (total, failed) in enumerate(zip(counts, failures, strict=True)):
        if not total:
            continue
        x, bar = f"{index * step:.2f}", max(1.0, total / peak * height)
        bad = bar * failed / total
        bars.append(f'<rect x="{x}" y="{height - bar:.2f}" width="{max(step - 1, 1):.2f}" height="{bar - bad:.2f}"'
                    ' style="fill: var(--jp-brand-color1)"/>')
        if failed:
            bars.append(f'<rect x="{x}" y="{height - bar:.2f}" width="{max(step - 1, 1):.2f}" height="{bad:.2f}"'
                        ' style="fill: var(--jp-error-color1)"/>')
    attrs = data_attributes({"count": sum(counts), "failed": sum(failures)})
    return (f'<svg class="polynb-sparkline" role="img" aria-label="{escape(label)}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}"{attrs}><title>{escape(label)}</title>'
            f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" '
            f'style="stroke: var(--jp-border-color2)"/>{"".join(bars)}</svg>')


def line(values: Sequence[float | None], *, width: int = 120, height: int = 22, label: str = "") -> str:
    """A line through the intervals that have a value, oldest left, broken where one has none; scaled to the
    largest value, in the theme's warning colour. ``label`` is the chart's accessible name and tooltip."""
    peak = max((v for v in values if v is not None), default=0) or 1
    step = width / max(len(values), 1)
    runs: list[list[tuple[float, float]]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append(((index + 0.5) * step, height - 1 - value / peak * (height - 2)))
    shapes = "".join(
        '<polyline points="' + " ".join(f"{x:.2f},{y:.2f}" for x, y in points) + '" '
        'style="fill: none; stroke: var(--jp-warn-color1); stroke-width: 1.5"/>' if len(points) > 1 else
        f'<circle cx="{points[0][0]:.2f}" cy="{points[0][1]:.2f}" r="1.5" style="fill: var(--jp-warn-color1)"/>'
        for points in runs if points)
    return (f'<svg class="polynb-line" role="img" aria-label="{escape(label)}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"{data_attributes({"points": sum(v is not None for v in values)})}>'
            f'<title>{escape(label)}</title><line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" '
            f'style="stroke: var(--jp-border-color2)"/>{shapes}</svg>')
