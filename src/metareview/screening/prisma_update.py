"""PRISMA 2020 flow diagram for *updated* reviews, every count derived from the store.

The PRISMA 2020 template for updated systematic reviews (Page et al. 2021, BMJ 372:n71, the flow
diagram for updated reviews) adds a "Previous studies" column: *studies included in the previous version
of the review* and their reports; the databases-and-registers column counts the update only (records
identified in the update, duplicates removed, screened, excluded, reports sought / not retrieved /
assessed / excluded with reasons, *new studies included*); the last box gives the *total studies
included in the review*. Field names are those of the PRISMA2020 R package (Haddaway et al. 2022,
Campbell Systematic Reviews 18:e1230): ``previous_studies``, ``previous_reports``, ``new_studies``,
``new_reports``, ``total_studies``, ``total_reports``.

Which records belong to the update is what :mod:`metareview.screening.batches` stored: the previous
version is batches ``1 .. n-1``, the update batch ``n`` (default: the latest). A duplicate in the update of
a record the review already held counts as a duplicate removed in the update. As in
:mod:`metareview.screening.prisma`, reports are records and studies the distinct studies among them
(:mod:`metareview.screening.studies`): ``new_reports`` counts every record included in the update and
``new_studies`` the studies among them that the previous version did not include (a new report of a study
already included — a follow-up paper — is a new report, not a new study).

Example::

    from metareview.screening.prisma_update import update_prisma_counts, draw_update_prisma
    counts = update_prisma_counts(review)        # the latest update against everything before it
    draw_update_prisma(counts, "prisma-update.svg"); counts.to_csv("prisma-update.csv")
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from metareview.cells import neutralise_frame
from metareview.errors import InputError
from metareview.filemodes import restrict
from metareview.review import Review
from metareview.screening import decisions as sd
from metareview.screening.prisma import FORMATS, PrismaCounts, PrismaError, flow_arrow, flow_box, flow_canvas
from metareview.screening.stages import EXCLUDE, FULL_TEXT, INCLUDE, TITLE_ABSTRACT
from metareview.screening.studies import own_study, study_of
from metareview.store import living_repo

_REGISTER = re.compile(r"regist|trials\.gov", re.IGNORECASE)


@dataclass
class UpdatePrismaCounts:
    """Counts of an updated review: the previous version, the update's own flow, and the total."""

    update_batch: int
    previous_studies: int
    previous_reports: int
    update: PrismaCounts

    @property
    def total_studies(self) -> int:
        """Studies included in the previous version plus the new studies."""
        return self.previous_studies + self.update.new_studies

    @property
    def total_reports(self) -> int:
        """Reports of the studies included in total."""
        return self.previous_reports + self.update.new_reports

    def check(self) -> UpdatePrismaCounts:
        """``self`` if the update's flow adds up (see :meth:`PrismaCounts.check`)."""
        self.update.check()
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain values (the update's flow under ``update``)."""
        return {
            "update_batch": self.update_batch,
            "previous_studies": self.previous_studies,
            "previous_reports": self.previous_reports,
            "total_studies": self.total_studies,
            "total_reports": self.total_reports,
            "update": asdict(self.update),
        }

    def to_frame(self) -> pd.DataFrame:
        """The PRISMA2020 field form with the previous/total fields of an updated review."""
        head = pd.DataFrame(
            [
                ("previous_studies", "Studies included in previous version of review", self.previous_studies),
                (
                    "previous_reports",
                    "Reports of studies included in previous version of review",
                    self.previous_reports,
                ),
            ],
            columns=["data", "description", "n"],
        )
        tail = pd.DataFrame(
            [
                ("total_studies", "Total studies included in review", self.total_studies),
                ("total_reports", "Reports of total included studies", self.total_reports),
            ],
            columns=["data", "description", "n"],
        )
        return pd.concat([head, self.update.to_frame(), tail], ignore_index=True)

    def to_csv(self, path: str | Path) -> Path:
        """Write :meth:`to_frame` as CSV."""
        out = Path(path)
        neutralise_frame(self.to_frame()).to_csv(out, index=False)
        restrict(out)
        return out

    def __str__(self) -> str:
        frame = self.to_frame().dropna(subset=["n"])
        width = max(len(d) for d in frame.description)
        return f"PRISMA 2020 counts for the update (batch {self.update_batch})\n" + "\n".join(
            f"  {d:<{width}}  {n}" for d, n in zip(frame.description, frame.n, strict=True)
        )


def _included(review: Review, ids: set[int]) -> tuple[int, list[int], Counter[str], int, int, list[int]]:
    """(records screened, records sought, full-text reasons, excluded at TiAb, not retrieved, ids of the
    records included)."""
    stages = review.protocol.screening.stages
    ta = {r: v for r, v in sd.final_decisions(review, TITLE_ABSTRACT).items() if r in ids}
    excluded = sum(1 for dec, _ in ta.values() if dec == EXCLUDE)
    sought = [r for r, (dec, _) in ta.items() if dec == INCLUDE]
    retrieval = sd.retrieval_status(review)
    not_retrieved = sum(1 for r in sought if retrieval.get(r) == sd.NOT_RETRIEVED)
    if FULL_TEXT in stages:
        ft = {r: v for r, v in sd.final_decisions(review, FULL_TEXT).items() if r in ids}
        reasons = Counter((reason or "no reason given") for dec, reason in ft.values() if dec == EXCLUDE)
        included = [r for r, (dec, _) in ft.items() if dec == INCLUDE]
    else:
        reasons = Counter()
        included = [r for r in sought if retrieval.get(r) != sd.NOT_RETRIEVED]
    return len(ta), sought, reasons, excluded, not_retrieved, included


def update_prisma_counts(review: Review, batch: int | None = None) -> UpdatePrismaCounts:
    """The updated-review counts of update ``batch`` (default: the latest) against the batches before it.

    Raises :class:`PrismaError` when the update's screening is unfinished or its counts do not add up,
    and :class:`InputError` when the review has had no update.
    """
    with review.session() as s:
        rows = living_repo.record_rows(s)
        numbers = [b.number for b in living_repo.batches(s)]
    if not numbers:
        raise InputError(
            "the review has had no update: use the PRISMA diagram for new reviews", field="batch"
        )
    batch = numbers[-1] if batch is None else batch
    if batch not in numbers:
        raise InputError(f"no update batch {batch} (updates: {', '.join(map(str, numbers))})", field="batch")
    previous = {r for r, _, b, dup in rows if b < batch and not dup}
    upd_rows = [(r, db, dup) for r, db, b, dup in rows if b == batch]
    unique = {r for r, _, dup in upd_rows if not dup}
    unfinished = []
    for stage in review.protocol.screening.stages:
        for st in sd.states(review, stage):
            if st.record_id in unique and st.status in (sd.PENDING, sd.CONFLICT):
                unfinished.append(st.record_id)
    if unfinished:
        raise PrismaError(
            f"screening of update batch {batch} is not finished ({len(set(unfinished))} record(s) pending or "
            "in conflict), so its PRISMA counts are not final"
        )
    per_db = Counter(db for _, db, _ in upd_rows)
    _, _, _, _, _, prev_included = _included(review, previous)
    screened, sought, reasons, excluded, not_retrieved, included = _included(review, unique)
    links = study_of(review)
    previous_studies = {links.get(r, own_study(r)) for r in prev_included}
    counts = PrismaCounts(
        database_results={k: v for k, v in sorted(per_db.items()) if not _REGISTER.search(k)},
        register_results={k: v for k, v in sorted(per_db.items()) if _REGISTER.search(k)},
        duplicates=sum(1 for *_, dup in upd_rows if dup),
        records_screened=screened,
        records_excluded=excluded,
        dbr_sought_reports=len(sought),
        dbr_notretrieved_reports=not_retrieved,
        dbr_assessed=len(sought) - not_retrieved,
        dbr_excluded=dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        new_studies=len({links.get(r, own_study(r)) for r in included} - previous_studies),
        new_reports=len(included),
    )
    return UpdatePrismaCounts(batch, len(previous_studies), len(prev_included), counts).check()


def _n(v: int) -> str:
    return f"(n = {v})"


def _update_rows(c: UpdatePrismaCounts) -> list[tuple[str, str | None]]:
    u = c.update
    ident = ["Records identified from:*", f"Databases {_n(sum(u.database_results.values()))}"]
    ident += [f"    {k} {_n(v)}" for k, v in u.database_results.items()]
    ident.append(f"Registers {_n(sum(u.register_results.values()))}")
    ident += [f"    {k} {_n(v)}" for k, v in u.register_results.items()]
    reasons = ["Reports excluded:"] + [f"{k} {_n(v)}" for k, v in u.dbr_excluded.items()]
    return [
        (
            "\n".join(ident),
            f"Records removed before screening:\nDuplicate records removed {_n(u.duplicates)}",
        ),
        (f"Records screened\n{_n(u.records_screened)}", f"Records excluded\n{_n(u.records_excluded)}"),
        (
            f"Reports sought for retrieval\n{_n(u.dbr_sought_reports)}",
            f"Reports not retrieved\n{_n(u.dbr_notretrieved_reports)}",
        ),
        (
            f"Reports assessed for eligibility\n{_n(u.dbr_assessed)}",
            "\n".join(reasons) if u.dbr_excluded else "Reports excluded\n(n = 0)",
        ),
        (
            f"New studies included in review\n{_n(u.new_studies)}\n"
            f"Reports of new included studies\n{_n(u.new_reports)}",
            None,
        ),
        (
            f"Total studies included in review\n{_n(c.total_studies)}\n"
            f"Reports of total included studies\n{_n(c.total_reports)}",
            None,
        ),
    ]


def _wrap(text: str, width: int = 40) -> str:
    out: list[str] = []
    for line in text.split("\n"):
        indent = line[: len(line) - len(line.lstrip())]
        out += textwrap.wrap(line, width, subsequent_indent=indent + "    ") or [""]
    return "\n".join(out)


def draw_update_prisma(counts: UpdatePrismaCounts, path: str | Path, title: str | None = None) -> Path:
    """Draw the PRISMA 2020 flow diagram for updated reviews to ``path`` (.svg, .png or .pdf)."""
    out = Path(path)
    if out.suffix.lower() not in FORMATS:
        raise InputError(f"the diagram is written as {', '.join(FORMATS)}, not {out.suffix!r}", file=out)
    counts.check()
    rows = [(_wrap(a), _wrap(b) if b else None) for a, b in _update_rows(counts)]
    line, pad, box_w, gap, row_gap = 0.175, 0.14, 2.7, 0.4, 0.4
    xs = [0.2, 0.2 + box_w + gap, 0.2 + 2 * (box_w + gap)]  # previous | update main | update side
    heights = [max(t.count("\n") + 1 for t in r if t) * line + 2 * pad for r in rows]
    header_h = 0.45
    width = xs[2] + box_w + 0.2
    height = header_h + 0.3 + sum(heights) + row_gap * (len(rows) - 1) + 0.6 + (0.35 if title else 0.1)
    fig, ax, top = flow_canvas(width, height, title)
    import matplotlib.pyplot as plt

    def box(
        x: float, top: float, h: float, text: str, face: str = "white", w: float = box_w, center: bool = False
    ) -> None:
        flow_box(ax, x, top, w, h, text, face=face, center=center, weight="bold")

    def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
        flow_arrow(ax, x0, y0, x1, y1)

    box(xs[0], top, header_h, "Previous studies", "#BFBFBF", center=True)
    box(
        xs[1],
        top,
        header_h,
        "Identification of new studies via databases and registers",
        "#F4C542",
        w=2 * box_w + gap,
        center=True,
    )
    y = top - header_h - 0.3
    tops = []
    for (main, side), h in zip(rows, heights, strict=True):
        tops.append(y)
        box(xs[1], y, h, main)
        if side:
            box(xs[2], y, h, side)
            arrow(xs[1] + box_w, y - h / 2, xs[2], y - h / 2)
        y -= h + row_gap
    for i in range(len(rows) - 1):
        arrow(xs[1] + box_w / 2, tops[i] - heights[i], xs[1] + box_w / 2, tops[i + 1])
    prev_text = _wrap(
        f"Studies included in previous version of review\n{_n(counts.previous_studies)}\n"
        f"Reports of studies included in previous version of review\n{_n(counts.previous_reports)}"
    )
    ph = (prev_text.count("\n") + 1) * line + 2 * pad
    box(xs[0], tops[0], ph, prev_text)
    last = len(rows) - 1
    mid_total = tops[last] - heights[last] / 2
    ax.plot([xs[0] + box_w / 2] * 2, [tops[0] - ph, mid_total], color="black", lw=0.9)
    arrow(xs[0] + box_w / 2, mid_total, xs[1], mid_total)
    foot = textwrap.fill(
        f"* Records of update batch {counts.update_batch} as imported into the store (records a database "
        "had returned before are not counted again). Layout of the PRISMA 2020 flow diagram for updated "
        "systematic reviews (Page et al. 2021, BMJ 372:n71).",
        int((width - 0.2) * 17),
    )
    ax.text(xs[0], 0.12, foot, ha="left", va="bottom", fontsize=7, color="#333333")
    fig.savefig(out, dpi=150)
    plt.close(fig)
    restrict(out)
    return out
