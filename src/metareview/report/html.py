"""The HTML report: one self-contained file (figures embedded, no external CSS/JS/fonts) + CSV/XLSX tables.

A :class:`Report` is a title, numbered :class:`Section` s holding paragraphs, tables and figures, a methods
paragraph and the list of sources. :func:`write_report` renders it with Jinja2
(``templates/report.html.j2``) and writes every table as CSV and into one workbook.

Example::

    import pandas as pd
    from metareview.report.html import Report, Section, Table, write_report
    rep = Report(title="Human support in digital interventions",
                 sections=[Section("Results", paragraphs=["Guided self-help ..."],
                                   tables=[Table("Pooled effects", pd.DataFrame({"g": [0.61]}))])])
    files = write_report(rep, "out")     # out/report.html, out/tables/*.csv, out/tables/tables.xlsx
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from metareview import __version__
from metareview.filemodes import make_dir, restrict
from metareview.report.tables import TableFiles, slug, write_tables

__all__ = ["Figure", "Report", "ReportFiles", "Section", "Table", "render_html", "write_report"]


@dataclass
class Table:
    """A numbered table: a caption, a pandas frame, and an optional note under it.

    ``digits`` sets the decimals of float columns; ``name`` (default: the caption) names the CSV file;
    ``data`` (default: ``frame``) is what the CSV/XLSX export holds, e.g. unrounded numbers behind a
    formatted display.
    """

    caption: str
    frame: pd.DataFrame
    note: str = ""
    digits: int = 2
    name: str | None = None
    data: pd.DataFrame | None = None

    def html(self) -> Markup:
        """The frame as an HTML table (numbers right-aligned, missing values as an en dash)."""
        head = "".join(f"<th>{escape(str(c))}</th>" for c in self.frame.columns)
        numeric = [pd.api.types.is_numeric_dtype(self.frame[c]) for c in self.frame.columns]
        body = []
        for row in self.frame.itertuples(index=False):
            cells = []
            for value, is_num in zip(row, numeric, strict=True):
                text = _fmt(value, self.digits)
                cls = "num" if is_num else ("nowrap" if len(text) <= 30 else "")
                cells.append(f'<td class="{cls}">{escape(text)}</td>' if cls else f"<td>{escape(text)}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


@dataclass
class Figure:
    """A numbered figure: a caption and a ``data:`` URI (:func:`metareview.report.figures.to_data_uri`)."""

    caption: str
    uri: str


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


def render_html(report: Report) -> str:
    """The report as one HTML string (tables and figures numbered in page order)."""
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
        figure_no=lambda f: fig_numbers[id(f)],
    )


def write_report(report: Report, out_dir: str | Path, filename: str = "report.html") -> ReportFiles:
    """Write ``report.html`` and ``tables/`` (CSV + ``tables.xlsx``) under ``out_dir``; return the paths.

    The HTML is written to a temporary file and renamed, so a failure never leaves half a report.
    """
    out = make_dir(out_dir)
    html = render_html(report)
    tables: dict[str, pd.DataFrame] = {}
    for i, t in enumerate(report.all_tables(), start=1):
        tables[f"table-{i:02d}-{t.name or t.caption}"[:80]] = t.frame if t.data is None else t.data
    files = write_tables(tables, out / "tables")
    target = out / filename
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".report-", suffix=".part")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(html)
    restrict(tmp)
    os.replace(tmp, target)
    return ReportFiles(html=target, tables=files)
