"""PRISMA 2020 flow diagram for new systematic reviews, with every count derived from the store.

:func:`prisma_counts` reads the review's history (records per database, flagged duplicates, title/abstract
decisions, reports sought / not retrieved, full-text decisions with their reasons) into
:class:`PrismaCounts`; :meth:`PrismaCounts.check` raises :class:`PrismaError` naming every count that does
not add up (unfinished screening included), so an inconsistent diagram is never drawn.
:func:`draw_prisma` draws the diagram as in the PRISMA 2020 template for new reviews (Page et al. 2021,
BMJ 372:n71, Figure 1: databases and registers, optional other methods) to SVG, PNG or PDF;
:meth:`PrismaCounts.to_csv` writes the field form of the PRISMA2020 R package and Shiny app (Haddaway,
Page, Pritchard & McGuinness 2022, Campbell Systematic Reviews 18:e1230): ``data,description,n`` with
reasons as ``"reason, n; reason, n"``.

A database whose name contains "register", "registry" or "trials.gov" is counted as a register.
``new_reports`` counts the records (reports) included at full text and ``new_studies`` the distinct studies
among them: each record is its own study unless reports were linked to one study
(:mod:`metareview.screening.studies`; in an umbrella review a study is a review, which may be reported in
several papers).

Example::

    from metareview.screening.prisma import prisma_counts, draw_prisma
    counts = prisma_counts(review)
    draw_prisma(counts, "prisma.svg")
    counts.to_csv("prisma.csv")
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from metareview.cells import neutralise_frame
from metareview.errors import InputError, MetareviewError
from metareview.filemodes import restrict
from metareview.review import Review
from metareview.screening import decisions as sd
from metareview.screening.stages import EXCLUDE, FULL_TEXT, INCLUDE, TITLE_ABSTRACT
from metareview.screening.studies import count_studies
from metareview.store import records_repo

_REGISTER = re.compile(r"regist|trials\.gov", re.IGNORECASE)
FORMATS = (".svg", ".png", ".pdf")


class PrismaError(MetareviewError):
    """PRISMA counts that do not add up (each problem on its own line)."""


@dataclass
class PrismaCounts:
    """The PRISMA 2020 flow-diagram counts (field names as in the PRISMA2020 package)."""

    database_results: dict[str, int]
    register_results: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    excluded_automatic: int = 0
    excluded_other: int = 0
    records_screened: int = 0
    records_excluded: int = 0
    dbr_sought_reports: int = 0
    dbr_notretrieved_reports: int = 0
    dbr_assessed: int = 0
    dbr_excluded: dict[str, int] = field(default_factory=dict)
    new_studies: int = 0
    new_reports: int = 0
    website_results: int | None = None
    organisation_results: int | None = None
    citations_results: int | None = None
    other_sought_reports: int | None = None
    other_notretrieved_reports: int | None = None
    other_assessed: int | None = None
    other_excluded: dict[str, int] | None = None

    @property
    def has_other_methods(self) -> bool:
        """True when any other-methods count is given (the diagram then has the right-hand column)."""
        return any(
            v is not None
            for v in (
                self.website_results,
                self.organisation_results,
                self.citations_results,
                self.other_sought_reports,
            )
        )

    def problems(self) -> list[str]:
        """Every identity the counts break (empty when they add up)."""
        out = [f"{name} is negative ({v})" for name, v in self._numbers().items() if v < 0]
        identified = sum(self.database_results.values()) + sum(self.register_results.values())
        removed = self.duplicates + self.excluded_automatic + self.excluded_other
        checks = [
            (
                "records identified - removed before screening",
                identified - removed,
                "records_screened",
                self.records_screened,
            ),
            (
                "records_screened - records_excluded",
                self.records_screened - self.records_excluded,
                "dbr_sought_reports",
                self.dbr_sought_reports,
            ),
            (
                "dbr_sought_reports - dbr_notretrieved_reports",
                self.dbr_sought_reports - self.dbr_notretrieved_reports,
                "dbr_assessed",
                self.dbr_assessed,
            ),
        ]
        other_included = 0
        if self.other_assessed is not None:
            other_sought = self.other_sought_reports or 0
            checks.append(
                (
                    "other_sought_reports - other_notretrieved_reports",
                    other_sought - (self.other_notretrieved_reports or 0),
                    "other_assessed",
                    self.other_assessed,
                )
            )
            other_included = self.other_assessed - sum((self.other_excluded or {}).values())
        checks.append(
            (
                "reports assessed - reports excluded (all routes)",
                self.dbr_assessed - sum(self.dbr_excluded.values()) + other_included,
                "new_reports",
                self.new_reports,
            )
        )
        out += [f"{name} = {want} but {label} = {have}" for name, want, label, have in checks if want != have]
        if self.new_studies > self.new_reports:
            out.append(f"new_studies ({self.new_studies}) exceeds new_reports ({self.new_reports})")
        return out

    def check(self) -> PrismaCounts:
        """``self`` if the counts add up; else :class:`PrismaError` listing every problem."""
        problems = self.problems()
        if problems:
            raise PrismaError("PRISMA counts do not add up:\n  " + "\n  ".join(problems))
        return self

    def _numbers(self) -> dict[str, int]:
        nums = {k: v for k, v in asdict(self).items() if isinstance(v, int)}
        for group in ("database_results", "register_results", "dbr_excluded", "other_excluded"):
            for key, v in (getattr(self, group) or {}).items():
                nums[f"{group}[{key}]"] = v
        return nums

    def to_dict(self) -> dict[str, Any]:
        """Plain values."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """The PRISMA2020 field form: one row per field (``data``, ``description``, ``n``)."""

        def reasons(d: dict[str, int] | None) -> str | None:
            return None if d is None else "; ".join(f"{k}, {v}" for k, v in d.items())

        rows = [
            ("database_results", "Records identified from databases", sum(self.database_results.values())),
            ("database_specific_results", "Records per database", reasons(self.database_results)),
            ("register_results", "Records identified from registers", sum(self.register_results.values())),
            ("register_specific_results", "Records per register", reasons(self.register_results)),
            ("website_results", "Records identified from websites", self.website_results),
            ("organisation_results", "Records identified from organisations", self.organisation_results),
            ("citations_results", "Records identified from citation searching", self.citations_results),
            ("duplicates", "Duplicate records removed", self.duplicates),
            (
                "excluded_automatic",
                "Records marked as ineligible by automation tools",
                self.excluded_automatic,
            ),
            ("excluded_other", "Records removed for other reasons", self.excluded_other),
            ("records_screened", "Records screened", self.records_screened),
            ("records_excluded", "Records excluded", self.records_excluded),
            ("dbr_sought_reports", "Reports sought for retrieval", self.dbr_sought_reports),
            ("dbr_notretrieved_reports", "Reports not retrieved", self.dbr_notretrieved_reports),
            (
                "other_sought_reports",
                "Reports sought for retrieval (other methods)",
                self.other_sought_reports,
            ),
            (
                "other_notretrieved_reports",
                "Reports not retrieved (other methods)",
                self.other_notretrieved_reports,
            ),
            ("dbr_assessed", "Reports assessed for eligibility", self.dbr_assessed),
            ("dbr_excluded", "Reports excluded, with reasons", reasons(self.dbr_excluded)),
            ("other_assessed", "Reports assessed for eligibility (other methods)", self.other_assessed),
            (
                "other_excluded",
                "Reports excluded, with reasons (other methods)",
                reasons(self.other_excluded),
            ),
            ("new_studies", "New studies included in review", self.new_studies),
            ("new_reports", "Reports of new included studies", self.new_reports),
        ]
        return pd.DataFrame(rows, columns=["data", "description", "n"])

    def to_csv(self, path: str | Path) -> Path:
        """Write :meth:`to_frame` as CSV (fields without a value are left empty)."""
        out = Path(path)
        neutralise_frame(self.to_frame()).to_csv(out, index=False)
        restrict(out)
        return out

    def __str__(self) -> str:
        frame = self.to_frame().dropna(subset=["n"])
        width = max(len(d) for d in frame.description)
        return "PRISMA 2020 counts\n" + "\n".join(
            f"  {d:<{width}}  {n}" for d, n in zip(frame.description, frame.n, strict=True)
        )


def prisma_counts(review: Review) -> PrismaCounts:
    """Counts from the store's history; :class:`PrismaError` if screening is unfinished or counts
    don't add up."""
    with review.session() as s:
        per_db = records_repo.database_counts(s)
    databases = {name: stored for name, _, _, stored, _ in per_db if not _REGISTER.search(name)}
    registers = {name: stored for name, _, _, stored, _ in per_db if _REGISTER.search(name)}
    unfinished = []
    stages = review.protocol.screening.stages
    for stage in stages:
        p = sd.progress(review, stage)
        if p.pending or p.conflict:
            unfinished.append(f"{stage}: {p.pending} record(s) pending and {p.conflict} in conflict")
    if unfinished:
        raise PrismaError(
            "screening is not finished, so the PRISMA counts are not final:\n  " + "\n  ".join(unfinished)
        )
    ta = sd.final_decisions(review, TITLE_ABSTRACT) if TITLE_ABSTRACT in stages else {}
    excluded = sum(1 for dec, _ in ta.values() if dec == EXCLUDE)
    sought = [r for r, (dec, _) in ta.items() if dec == INCLUDE]
    retrieval = sd.retrieval_status(review)
    not_retrieved = sum(1 for r in sought if retrieval.get(r) == sd.NOT_RETRIEVED)
    if FULL_TEXT in stages:
        ft = sd.final_decisions(review, FULL_TEXT)
        reasons = Counter((reason or "no reason given") for dec, reason in ft.values() if dec == EXCLUDE)
        included = [r for r, (dec, _) in ft.items() if dec == INCLUDE]
    else:
        reasons = Counter()
        included = [r for r in sought if retrieval.get(r) != sd.NOT_RETRIEVED]
    counts = PrismaCounts(
        database_results=databases,
        register_results=registers,
        duplicates=sum(d for *_, d in per_db),
        records_screened=len(ta) if TITLE_ABSTRACT in stages else 0,
        records_excluded=excluded,
        dbr_sought_reports=len(sought),
        dbr_notretrieved_reports=not_retrieved,
        dbr_assessed=len(sought) - not_retrieved,
        dbr_excluded=dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        new_studies=count_studies(review, included),
        new_reports=len(included),
    )
    return counts.check()


# --- drawing ---------------------------------------------------------------------------------------------

_LINE = 0.175  # inches per text line at 8.5 pt, line spacing 1.45
_PAD = 0.14
_HEADER_DBR = "#F4C542"
_HEADER_OTHER = "#BFBFBF"
_PHASE = "#A9CCE3"


def _n(v: int | None) -> str:
    return f"(n = {v if v is not None else ''})"


def _identified_text(c: PrismaCounts) -> str:
    lines = ["Records identified from:*", f"Databases {_n(sum(c.database_results.values()))}"]
    lines += [f"    {name} {_n(v)}" for name, v in c.database_results.items()]
    lines.append(f"Registers {_n(sum(c.register_results.values()))}")
    lines += [f"    {name} {_n(v)}" for name, v in c.register_results.items()]
    return "\n".join(lines)


def _reasons_text(title: str, reasons: dict[str, int]) -> str:
    if not reasons:
        return f"{title}\n(n = 0)"
    return "\n".join([f"{title}:"] + [f"{r} {_n(v)}" for r, v in reasons.items()])


def _wrap(text: str | None, width: int = 44) -> str | None:
    """Wrap each line to ``width`` characters (continuations indented), keeping the box's lines."""
    if text is None:
        return None
    out: list[str] = []
    for line in text.split("\n"):
        indent = line[: len(line) - len(line.lstrip())]
        out += textwrap.wrap(line, width, initial_indent="", subsequent_indent=indent + "    ") or [""]
    return "\n".join(out)


def _layout(c: PrismaCounts) -> list[tuple[str, str | None, str | None, str | None]]:
    """Rows of (database main, database side, other main, other side) texts."""
    removed = (
        "Records removed before screening:\n"
        f"Duplicate records removed {_n(c.duplicates)}\n"
        f"Records marked as ineligible by automation tools {_n(c.excluded_automatic)}\n"
        f"Records removed for other reasons {_n(c.excluded_other)}"
    )
    other = c.has_other_methods
    return [
        (
            _identified_text(c),
            removed,
            "Records identified from:\n"
            f"Websites {_n(c.website_results)}\nOrganisations {_n(c.organisation_results)}\n"
            f"Citation searching {_n(c.citations_results)}"
            if other
            else None,
            None,
        ),
        (
            f"Records screened\n{_n(c.records_screened)}",
            f"Records excluded**\n{_n(c.records_excluded)}",
            None,
            None,
        ),
        (
            f"Reports sought for retrieval\n{_n(c.dbr_sought_reports)}",
            f"Reports not retrieved\n{_n(c.dbr_notretrieved_reports)}",
            f"Reports sought for retrieval\n{_n(c.other_sought_reports)}" if other else None,
            f"Reports not retrieved\n{_n(c.other_notretrieved_reports)}" if other else None,
        ),
        (
            f"Reports assessed for eligibility\n{_n(c.dbr_assessed)}",
            _reasons_text("Reports excluded", c.dbr_excluded),
            f"Reports assessed for eligibility\n{_n(c.other_assessed)}" if other else None,
            _reasons_text("Reports excluded", c.other_excluded or {}) if other else None,
        ),
        (
            f"Studies included in review\n{_n(c.new_studies)}\n"
            f"Reports of included studies\n{_n(c.new_reports)}",
            None,
            None,
            None,
        ),
    ]


def draw_prisma(counts: PrismaCounts, path: str | Path, title: str | None = None) -> Path:
    """Draw the PRISMA 2020 flow diagram of ``counts`` (checked first) to ``path`` (.svg, .png or .pdf)."""
    out = Path(path)
    if out.suffix.lower() not in FORMATS:
        raise InputError(f"the diagram is written as {', '.join(FORMATS)}, not {out.suffix!r}", file=out)
    counts.check()
    rows = [tuple(_wrap(t) for t in row) for row in _layout(counts)]
    other = counts.has_other_methods
    phase_w, gap, box_w = 0.45, 0.45, 2.9
    cols = [phase_w + 0.25, phase_w + 0.25 + box_w + gap]
    if other:
        cols += [cols[1] + box_w + 0.6, cols[1] + 2 * box_w + 0.6 + gap]
    width = cols[-1] + box_w + 0.2
    heights = [max(t.count("\n") + 1 for t in row if t is not None) * _LINE + 2 * _PAD for row in rows]
    header_h, row_gap, foot_h = 0.45, 0.42, 0.55
    height = header_h + 0.25 + sum(heights) + row_gap * (len(rows) - 1) + foot_h + (0.35 if title else 0.1)
    fig, ax, top = flow_canvas(width, height, title)
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    def box(
        x: float,
        y_top: float,
        h: float,
        text: str,
        face: str = "white",
        w: float = box_w,
        center: bool = False,
        weight: str = "normal",
    ) -> None:
        flow_box(ax, x, y_top, w, h, text, face=face, center=center, weight=weight)

    def arrow(x0: float, y0: float, x1: float, y1: float) -> None:
        flow_arrow(ax, x0, y0, x1, y1)

    span = cols[1] + box_w - cols[0]
    box(
        cols[0],
        top,
        header_h,
        "Identification of studies via databases and registers",
        _HEADER_DBR,
        span,
        center=True,
        weight="bold",
    )
    if other:
        box(
            cols[2],
            top,
            header_h,
            "Identification of studies via other methods",
            _HEADER_OTHER,
            cols[3] + box_w - cols[2],
            center=True,
            weight="bold",
        )
    y = top - header_h - 0.25
    tops = []
    for row, h in zip(rows, heights, strict=True):
        tops.append(y)
        for col, text in zip(cols, row, strict=False):  # 2 columns without other methods
            if text is not None:
                box(col, y, h, text)
        y -= h + row_gap
    # phase bars: Identification (row 0), Screening (rows 1-3), Included (row 4)
    for label, first, last in (("Identification", 0, 0), ("Screening", 1, 3), ("Included", 4, 4)):
        y0, y1 = tops[first], tops[last] - heights[last]
        ax.add_patch(
            FancyBboxPatch(
                (0.15, y1), phase_w, y0 - y1, boxstyle="round,pad=0,rounding_size=0.08", fc=_PHASE, ec="none"
            )
        )
        ax.text(
            0.15 + phase_w / 2,
            (y0 + y1) / 2,
            label,
            rotation=90,
            ha="center",
            va="center",
            fontsize=10,
            weight="bold",
        )
    mid = [t - h / 2 for t, h in zip(tops, heights, strict=True)]
    for i, row in enumerate(rows):
        for main, side in ((0, 1), (2, 3)):
            if row[main] is not None and row[side] is not None:
                arrow(cols[main] + box_w, mid[i], cols[side], mid[i])
        if i + 1 < len(rows):
            arrow(cols[0] + box_w / 2, tops[i] - heights[i], cols[0] + box_w / 2, tops[i + 1])
    if other:
        x = cols[2] + box_w / 2
        arrow(x, tops[0] - heights[0], x, tops[2])
        arrow(x, tops[2] - heights[2], x, tops[3])
        # from other-methods assessment into the included box
        ax.plot([x, x], [tops[3] - heights[3], mid[4]], color="black", lw=0.9)
        arrow(x, mid[4], cols[0] + box_w, mid[4])
    foot = textwrap.fill(
        "* Records per database or register as imported into the store. ** Excluded at title/abstract "
        "screening by reviewers (no automation tool excluded records). Layout of the PRISMA 2020 flow "
        "diagram for new systematic reviews (Page et al. 2021, BMJ 372:n71).",
        int((width - cols[0]) * 17),
    )
    ax.text(cols[0], 0.12, foot, ha="left", va="bottom", fontsize=7, color="#333333")
    fig.savefig(out, dpi=150)
    plt.close(fig)
    restrict(out)
    return out


def flow_canvas(width: float, height: float, title: str | None) -> tuple[Any, Any, float]:
    """A blank figure of ``width`` x ``height`` inches in data units, with ``title`` on top; returns the
    figure, its axes and the y where the diagram starts (shared by both PRISMA flow diagrams)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    if title:
        ax.text(width / 2, height - 0.18, title, ha="center", va="center", fontsize=11, weight="bold")
    return fig, ax, height - (0.35 if title else 0.1)


def flow_box(
    ax: Any,
    x: float,
    y_top: float,
    w: float,
    h: float,
    text: str,
    *,
    face: str = "white",
    center: bool = False,
    weight: str = "normal",
) -> None:
    """A rounded box of the flow diagram with its top-left corner at (x, y_top): centred text (a header)
    or text from the top left (a count box)."""
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(
        FancyBboxPatch(
            (x, y_top - h), w, h, boxstyle="round,pad=0,rounding_size=0.06", fc=face, ec="black", lw=0.9
        )
    )
    if center:
        ax.text(x + w / 2, y_top - h / 2, text, ha="center", va="center", fontsize=9.5, weight=weight)
    else:
        ax.text(x + 0.1, y_top - _PAD, text, ha="left", va="top", fontsize=8.5, linespacing=1.45)


def flow_arrow(ax: Any, x0: float, y0: float, x1: float, y1: float) -> None:
    """An arrow of the flow diagram from (x0, y0) to (x1, y1)."""
    ax.annotate(
        "",
        xy=(x1, y1),
        xytext=(x0, y0),
        arrowprops={"arrowstyle": "-|>", "lw": 0.9, "color": "black", "shrinkA": 0, "shrinkB": 0},
    )
