"""A shields-style SVG badge: the stage, and the colour of its latest accepted commit."""

from __future__ import annotations

from html import escape

#: Fill per colour, and grey for a stage no commit has been accepted at.
FILLS = {"green": "#2e7d32", "yellow": "#b26a00", "red": "#c62828", None: "#616161"}
#: Width of one character of 11px Verdana, as shields.io estimates it.
CHAR = 6.8


def render(stage: str, colour: str | None, commit: str | None) -> str:
    """The badge: ``stage | GREEN 1a2b3c4`` (``none accepted`` when nothing was)."""
    right = f"{colour.upper()} {commit[:7]}" if colour and commit else "none accepted"
    left_w = round(len(stage) * CHAR + 12)
    right_w = round(len(right) * CHAR + 12)
    width = left_w + right_w
    label = escape(f"{stage}: {right}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="{label}"><title>{label}</title>'
        f'<rect width="{left_w}" height="20" fill="#555"/>'
        f'<rect x="{left_w}" width="{right_w}" height="20" fill="{FILLS.get(colour, FILLS[None])}"/>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left_w / 2:.1f}" y="14">{escape(stage)}</text>'
        f'<text x="{left_w + right_w / 2:.1f}" y="14">{escape(right)}</text></g></svg>\n'
    )
