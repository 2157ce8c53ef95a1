"""What the dashboard shows, gathered from the engine: PRISMA counts (and the diagram as SVG),
progress per stage and per reviewer, agreement per stage, stopping rules and the inclusion curve;
for a living review, its update batches with the stopping rules per batch and the PRISMA diagram for
updated reviews. All are aggregates: no individual vote is shown."""

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
    counts = work.live_prisma(review)
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
        "living": living(review),
    }


def living(review: Review) -> dict[str, Any]:
    """What the dashboard shows of a living review: each update batch (when and by whom it was run,
    its records, how many are screened, the stopping rules on that batch's records only, from
    :func:`metareview.screening.batches.batch_stopping_status`), whether the review as a whole may
    stop, and whether the PRISMA diagram for updated reviews is ready (a message when it is not)."""
    from metareview.screening.batches import batch_stopping_status
    from metareview.screening.prisma_update import update_prisma_counts
    from metareview.store import living_repo

    with review.session() as s:
        runs = {b.number: b for b in living_repo.batches(s)}
    try:
        status = batch_stopping_status(review)
    except MetareviewError as exc:
        return {"batches": [], "stop": False, "error": str(exc), "update_prisma": None, "prisma_note": ""}
    rows = []
    for b in status.batches:
        run = runs.get(b.batch)
        rows.append({
            "batch": b.batch,
            "when": run.created_at if run else None,
            "actor": run.actor if run else "",
            "note": run.note if run else None,
            "records": b.records,
            "screened": b.screened,
            "stop": b.stop,
            "rules": b.results,
            "speaks_for": b.batch == status.speaks_for,
        })
    counts, note = None, ""
    if len(rows) > 1:
        try:
            counts = update_prisma_counts(review)
        except MetareviewError as exc:
            note = str(exc)
    return {"batches": rows, "stop": status.stop, "error": "", "update_prisma": counts, "prisma_note": note}


def update_prisma_svg(review: Review) -> bytes:
    """The PRISMA 2020 flow diagram for updated reviews (the latest update against the batches before
    it), or a message saying why it is not ready (no update yet, or the update's screening unfinished)."""
    from metareview.screening.prisma_update import draw_update_prisma, update_prisma_counts

    try:
        counts = update_prisma_counts(review)
    except MetareviewError as exc:
        return _message_svg(str(exc))
    with tempfile.TemporaryDirectory() as tmp:
        path = draw_update_prisma(counts, Path(tmp) / "prisma-update.svg", title=review.protocol.title)
        return path.read_bytes()


def prisma_svg(review: Review) -> bytes:
    """The PRISMA 2020 flow diagram drawn from the store now: the final diagram of
    ``screening.prisma`` once screening is finished, else the counts so far (marked provisional)."""
    try:
        counts = prisma_counts(review)
    except MetareviewError:
        return live_prisma_svg(work.live_prisma(review))
    with tempfile.TemporaryDirectory() as tmp:
        path = draw_prisma(counts, Path(tmp) / "prisma.svg", title=review.protocol.title)
        return path.read_bytes()


def _box(x: float, y: float, w: float, h: float, lines: list[str], fill: str) -> str:
    out = [f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4" fill="{fill}" stroke="#333"/>']
    for i, line in enumerate(lines):
        out.append(f'<text x="{x + 8}" y="{y + 18 + 16 * i}" font-size="13" '
                   f'font-family="sans-serif">{escape(line)}</text>')
    return "".join(out)


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    return (f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#333" stroke-width="1.5" '
            'marker-end="url(#arr)"/>')


def live_prisma_svg(c: work.LivePrisma) -> bytes:
    """A PRISMA 2020-shaped flow of the counts so far (identification, screening, included)."""
    W, bw, bh, gap = 720, 330, 74, 34
    rx = bw + 60
    dbs = [f"{name}: {n}" for name, n in c.database_results.items()] or ["(nothing imported)"]
    rows = [
        (["Records identified: " + str(c.identified), *dbs[:2]],
         [f"Duplicates removed: {c.duplicates}"]),
        ([f"Records screened so far: {c.records_screened}",
          f"pending {c.ta_pending}, in conflict {c.ta_conflict}"],
         [f"Records excluded: {c.records_excluded}"]),
        ([f"Reports sought for retrieval: {c.dbr_sought_reports}"],
         [f"Reports not retrieved: {c.dbr_notretrieved_reports}"]),
        ([f"Reports assessed so far: {c.dbr_assessed}",
          f"pending {c.ft_pending}, in conflict {c.ft_conflict}"],
         ["Reports excluded: " + str(sum(c.dbr_excluded.values())),
          *[f"{r[:34]}: {n}" for r, n in list(c.dbr_excluded.items())[:2]]]),
        ([f"Studies included so far: {c.new_studies}"], None),
    ]
    parts, y = [], 40
    for i, (left, right) in enumerate(rows):
        parts.append(_box(10, y, bw, bh, left, "#fff"))
        if right:
            parts.append(_box(rx, y, bw - 20, bh, right, "#f7f7f7"))
            parts.append(_arrow(10 + bw, y + bh / 2, rx - 2, y + bh / 2))
        if i < len(rows) - 1:
            parts.append(_arrow(10 + bw / 2, y + bh, 10 + bw / 2, y + bh + gap - 2))
        y += bh + gap
    height = y + 10
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" role="img" '
        'aria-label="PRISMA 2020 flow so far">'
        '<defs><marker id="arr" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto">'
        '<path d="M0,0 L8,4 L0,8 z" fill="#333"/></marker></defs>'
        '<text x="10" y="24" font-size="15" font-weight="bold" font-family="sans-serif">'
        "PRISMA 2020 flow so far (provisional until screening is finished)</text>"
        + "".join(parts) + "</svg>"
    ).encode()


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
