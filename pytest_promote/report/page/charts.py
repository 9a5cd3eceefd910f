"""Small inline SVG charts: one line per figure over the commits, readable without
colour (each point carries its commit and value as a tooltip, and the page lists the
values in a table beside the chart)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT, PAD = 320, 120, 24


def line(title: str, points: Sequence[tuple[str, float]]) -> str:
    """An SVG line chart of ``points`` (``(commit, value)``, oldest first), scaled to
    its own range, with the lowest and highest value written on the axis."""
    values = [v for _, v in points]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (WIDTH - 2 * PAD) / max(len(points) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        if high == low:  # a flat line, drawn across the middle
            return PAD + i * step, HEIGHT / 2
        return PAD + i * step, HEIGHT - PAD - (v - low) / span * (HEIGHT - 2 * PAD)

    coords = [xy(i, v) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3"><title>{escape(commit[:12])}: {value:g}</title></circle>'
        for (commit, value), (x, y) in zip(points, coords, strict=True)
    )
    label = escape(f"{title}: from {values[0]:g} to {values[-1]:g} over {len(values)} commits")
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{label}</title>'
        f'<line class="axis" x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}"/>'
        + (f'<text x="2" y="{HEIGHT / 2 - 6}">{high:g}</text>' if high == low else
           f'<text x="2" y="{HEIGHT - PAD - 4}">{low:g}</text><text x="2" y="{PAD - 6}">{high:g}</text>')
        + f'<polyline points="{path}"/>{dots}</svg>'
    )
