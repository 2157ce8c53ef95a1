"""The HTML report: one self-contained file (figures embedded, no external CSS/JS/fonts) + CSV/XLSX tables.

A :class:`Report` is a title, numbered :class:`Section` s holding paragraphs, tables and figures, a methods
paragraph and the list of sources. :func:`write_report` renders it with Jinja2
(``templates/report.html.j2``) and writes every table as CSV and into one workbook.

Example::

    import pandas as pd
    from metareview.report.html import Report, Section, Table, write_report
    rep = Report(title="My umbrella review",
                 sections=[Section("Results", paragraphs=["Pooled effects ..."],
                                   tables=[Table("Pooled effects", pd.DataFrame({"g": [0.61]}))])])
    files = write_report(rep, "out")     # out/report.html, out/tables/*.csv, out/tables/tables.xlsx
"""

from __future__ import annotations

import base64
import datetime as _dt
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from metareview import __version__
from metareview.filemodes import make_dir, restrict
from metareview.report.tables import TableFiles, slug, write_tables

__all__ = ["Figure", "Report", "ReportFiles", "STACK_WIDTH", "Section", "Table", "all_figures",
           "render_html", "write_figures", "write_report"]


#: a table whose columns need more characters than this (each at its narrowest, words wrapped) is stacked
#: (one block per row, "column: value" lines), so no column falls off a printed A4 page or hides behind a
#: scroll bar
STACK_WIDTH = 120


@dataclass
class Table:
    """A numbered table: a caption, a pandas frame, and an optional note under it.

    ``digits`` sets the decimals of float columns; ``name`` (default: the caption) names the CSV file;
    ``data`` (default: ``frame``) is what the CSV/XLSX export holds, e.g. unrounded numbers behind a
    formatted display. ``stack``: ``None`` stacks the rows when the table is too wide for a page
    (:data:`STACK_WIDTH`), ``True``/``False`` force it.
    """

    caption: str
    frame: pd.DataFrame
    note: str = ""
    digits: int = 2
    name: str | None = None
    data: pd.DataFrame | None = None
    stack: bool | None = None
    notes: list[str] = field(default_factory=list)

    def cells(self) -> list[list[str]]:
        """The frame's values as the page shows them (missing values as an en dash; a float column whose
        values are all whole numbers without decimals)."""
        digits = []
        for c in self.frame.columns:
            col = self.frame[c]
            whole = False
            if pd.api.types.is_float_dtype(col):
                vals = col.dropna().to_numpy(dtype=float)
                whole = len(vals) > 0 and bool(np.all(np.isfinite(vals) & (vals == np.round(vals))))
            digits.append(0 if whole else self.digits)
        return [[_fmt(v, d) for v, d in zip(row, digits, strict=True)]
                for row in self.frame.itertuples(index=False)]

    def min_width(self) -> int:
        """The characters the table needs at its narrowest: per column the longest word of the header or of a
        wrapping cell, or the whole of a number, plus padding."""
        numeric = [pd.api.types.is_numeric_dtype(self.frame[c]) for c in self.frame.columns]
        rows = self.cells()
        total = 0
        for j, col in enumerate(self.frame.columns):
            need = max((len(w) for w in str(col).split()), default=1)
            for r in rows:
                text = r[j]
                need = max(need, len(text) if numeric[j] else max((len(w) for w in text.split()), default=1))
            total += need + 2
        return total

    @property
    def stacked(self) -> bool:
        return self.stack if self.stack is not None else self.min_width() > STACK_WIDTH

    def html(self) -> Markup:
        """The frame as an HTML table (numbers right-aligned, missing values as an en dash); every cell
        carries its column name (``data-label``) for the stacked layout."""
        head = "".join(f"<th>{escape(str(c))}</th>" for c in self.frame.columns)
        labels = [escape(str(c)) for c in self.frame.columns]
        numeric = [pd.api.types.is_numeric_dtype(self.frame[c]) for c in self.frame.columns]
        body = []
        for row in self.cells():
            cells = []
            for text, is_num, label in zip(row, numeric, labels, strict=True):
                cls = ' class="num"' if is_num else ""
                cells.append(f'<td{cls} data-label="{label}">{escape(text)}</td>')
            body.append("<tr>" + "".join(cells) + "</tr>")
        cls = ' class="stacked"' if self.stacked else ""
        return Markup(f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


@dataclass
class Figure:
    """A numbered figure and its caption: a matplotlib figure (``plot``, rendered when the report is written),
    ready renderings (``files``: ``{"svg": bytes, "pdf": bytes, "png": bytes}``) or, for embedding only, a
    ``data:`` URI. :func:`write_report` writes every figure as SVG, PDF and 300-dpi PNG files too."""

    caption: str
    uri: str = ""
    plot: Any = None
    files: dict[str, bytes] = field(default_factory=dict)
    name: str | None = None

    def render(self, fmt: str) -> bytes | None:
        """The figure as ``svg``, ``pdf`` or ``png`` (300 dpi) bytes, rendered once; ``None`` when it cannot
        be (a figure given only as a URI has only the format of its URI)."""
        if fmt in self.files:
            return self.files[fmt]
        if self.plot is not None:
            from metareview.report.plots import figure_bytes

            self.files[fmt] = figure_bytes(self.plot, fmt, 300)
            return self.files[fmt]
        head, _, data = self.uri.partition(",")
        if head == f"data:{_MIME[fmt]};base64":
            return base64.b64decode(data)
        return None

    @property
    def src(self) -> str:
        """What the HTML page's ``<img>`` shows: the SVG as a ``data:`` URI."""
        if self.uri:
            return self.uri
        svg = self.render("svg")
        if svg is None:
            raise ValueError(f"figure {self.caption[:40]!r} has nothing to show")
        return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


_MIME = {"svg": "image/svg+xml", "png": "image/png", "pdf": "application/pdf"}


@dataclass
class Section:
    """A section: paragraphs (plain text, escaped; ``Markup`` passes through), tables, figures.

    Tables come before figures unless ``figures_first``.
    """

    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)
    figures_first: bool = False

    @property
    def anchor(self) -> str:
        """The section's id in the HTML page."""
        return slug(self.title)


@dataclass
class Report:
    """Everything the HTML page shows, in order."""

    title: str
    sections: list[Section]
    subtitle: str = ""
    methods: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    generated: str = field(default_factory=lambda: _dt.date.today().isoformat())

    def all_tables(self) -> list[Table]:
        """Tables in page order (sections, then their subsections)."""
        out: list[Table] = []

        def walk(sections: list[Section]) -> None:
            for s in sections:
                out.extend(s.tables)
                walk(s.subsections)

        walk(self.sections)
        return out


@dataclass(frozen=True)
class ReportFiles:
    """Where :func:`write_report` wrote the report."""

    html: Path
    tables: TableFiles
    figures: list[Path] = field(default_factory=list)
    docx: Path | None = None


def _fmt(value: object, digits: int) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "\u2013"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{digits}f}".replace("-", "\u2212")
    if isinstance(value, (int, np.integer)):
        return str(int(value)).replace("-", "\u2212")
    text = str(value)
    return "\u2013" if text in ("nan", "NaN", "None", "<NA>") else text


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("metareview.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(report: Report, *, docx: bool = True) -> str:
    """The report as one HTML string (tables and figures numbered in page order); ``docx`` says a Word
    version is written beside it."""
    numbers: dict[int, int] = {}
    fig_numbers: dict[int, int] = {}

    def walk(sections: list[Section]) -> None:
        for s in sections:
            for t in s.tables:
                numbers[id(t)] = len(numbers) + 1
            for f in s.figures:
                fig_numbers[id(f)] = len(fig_numbers) + 1
            walk(s.subsections)


    walk(report.sections)
    return _environment().get_template("report.html.j2").render(
        report=report, version=__version__, table_no=lambda t: numbers[id(t)],
        figure_no=lambda f: fig_numbers[id(f)], docx=docx,
    )


def all_figures(report: Report) -> list[Figure]:
    """Figures in page order (sections, then their subsections)."""
    out: list[Figure] = []

    def walk(sections: list[Section]) -> None:
        for s in sections:
            out.extend(s.figures)
            walk(s.subsections)

    walk(report.sections)
    return out


def write_figures(report: Report, out_dir: str | Path) -> list[Path]:
    """Write each figure as ``figure-NN-<name>.svg``, ``.pdf`` and a 300-dpi ``.png`` under ``out_dir``."""
    out = make_dir(out_dir)
    written = []
    for i, f in enumerate(all_figures(report), start=1):
        stem = f"figure-{i:02d}-{slug(f.name or f.caption)[:48].strip('-')}"
        for fmt in ("svg", "pdf", "png"):
            data = f.render(fmt)
            if data is None:
                continue
            path = out / f"{stem}.{fmt}"
            fd, tmp = tempfile.mkstemp(dir=out, prefix=".fig-", suffix=".part")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            restrict(tmp)
            os.replace(tmp, path)
            written.append(path)
    return written


def write_report(report: Report, out_dir: str | Path, filename: str = "report.html", *,
                 docx: bool = True) -> ReportFiles:
    """Write ``report.html``, ``tables/`` (CSV + ``tables.xlsx``), ``figures/`` (every figure as SVG, PDF and
    300-dpi PNG) and ``report.docx`` (the same sections, tables and figures, editable in Word) under
    ``out_dir``; return the paths.

    Each file is written to a temporary name and renamed, so a failure never leaves half a file.
    """
    out = make_dir(out_dir)
    html = render_html(report, docx=docx)
    tables: dict[str, pd.DataFrame] = {}
    for i, t in enumerate(report.all_tables(), start=1):
        tables[f"table-{i:02d}-{t.name or t.caption}"[:80]] = t.frame if t.data is None else t.data
    files = write_tables(tables, out / "tables")
    figures = write_figures(report, out / "figures")
    target = out / filename
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".report-", suffix=".part")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(html)
    restrict(tmp)
    os.replace(tmp, target)
    doc = None
    if docx:
        from metareview.report.docx import write_docx

        doc = write_docx(report, out / (Path(filename).stem + ".docx"))
    return ReportFiles(html=target, tables=files, figures=figures, docx=doc)
