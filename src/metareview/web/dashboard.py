"""What the dashboard shows, gathered from the engine: PRISMA counts (and the diagram as SVG),
progress per stage and per reviewer, agreement per stage, stopping rules and the inclusion curve.
All are aggregates: no individual vote is shown."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from markupsafe import escape

from metareview.errors import MetareviewError
from metareview.review import Review
from metareview.screening import decisions as sd
from metareview.screening.prisma import draw_prisma, prisma_counts
from metareview.screening.queue import review_agreement, stopping_status
from metareview.team import work


def summary(review: Review) -> dict[str, Any]:
    stages = review.protocol.screening.stages
    progress = {st: sd.progress(review, st) for st in stages}
    agreement: dict[str, Any] = {}
    for st in stages:
        try:
            agreement[st] = review_agreement(review, st)
        except MetareviewError as exc:
            agreement[st] = str(exc)
    try:
        counts: Any = prisma_counts(review)
    except MetareviewError as exc:
        counts = str(exc)
    try:
        stopping: Any = stopping_status(review)
    except MetareviewError as exc:
        stopping = str(exc)
    return {
        "stages": stages,
        "progress": progress,
        "per_reviewer": work.reviewer_progress(review),
        "agreement": agreement,
        "prisma": counts,
        "stopping": stopping,
    }


def prisma_svg(review: Review) -> bytes:
    """The PRISMA 2020 flow diagram drawn from the store now."""
    try:
        counts = prisma_counts(review)
        with tempfile.TemporaryDirectory() as tmp:
            path = draw_prisma(counts, Path(tmp) / "prisma.svg", title=review.protocol.title)
            return path.read_bytes()
    except MetareviewError as exc:
        return _message_svg(f"No PRISMA diagram yet: {exc}")


def _message_svg(text: str) -> bytes:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="40">'
        f'<text x="4" y="24" font-family="sans-serif" font-size="14">{escape(text)}</text></svg>'
    ).encode()


def curve_svg(review: Review, width: int = 420, height: int = 220) -> bytes:
    """Records included against records decided at title/abstract, as a small SVG line chart."""
    pts = work.inclusion_curve(review)
    if not pts:
        return _message_svg("No decided records yet.")
    n, top = pts[-1][0], max(1, pts[-1][1])
    pad = 36
    sx = (width - 2 * pad) / max(1, n)
    sy = (height - 2 * pad) / top
    coords = " ".join(f"{pad + x * sx:.1f},{height - pad - y * sy:.1f}" for x, y in [(0, 0), *pts])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Included records against records decided">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#555"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#555"/>'
        f'<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="{coords}"/>'
        f'<text x="{width / 2}" y="{height - 8}" font-size="12" text-anchor="middle" '
        f'font-family="sans-serif">records decided ({n})</text>'
        f'<text x="12" y="{pad - 10}" font-size="12" font-family="sans-serif">included ({pts[-1][1]})</text>'
        "</svg>"
    ).encode()
