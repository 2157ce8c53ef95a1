"""The report as a Word document (python-docx): the same sections, numbered tables and figures as the HTML
page, as plain Word headings, tables and pictures a team can edit for submission. Tables too wide for a
portrait page (the ones the HTML page stacks) get a landscape page of their own; figures are the 300-dpi
PNGs also written to ``figures/``::

    from metareview.report.docx import write_docx
    write_docx(report, "out/report.docx")
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Any

from metareview import __version__
from metareview.filemodes import restrict
from metareview.report.html import Report, Section, Table, all_figures

__all__ = ["write_docx"]

# A4 with 2 cm margins: the text is 17 cm wide in portrait, 25.7 cm in landscape
_A4 = (8.27, 11.69)
_MARGIN_IN = 0.79
_PORTRAIT_TEXT_IN = _A4[0] - 2 * _MARGIN_IN
_LANDSCAPE_TEXT_IN = _A4[1] - 2 * _MARGIN_IN
_CHAR_IN = 0.07  # an average character at 8 pt, generously
_CELL_PAD_IN = 0.2


def _numbering(report: Report) -> tuple[dict[int, int], dict[int, int]]:
    tables = {id(t): i for i, t in enumerate(report.all_tables(), start=1)}
    figures = {id(f): i for i, f in enumerate(all_figures(report), start=1)}
    return tables, figures


def write_docx(report: Report, path: str | Path) -> Path:
    """Write ``report`` to ``path`` (.docx); returns the path. Written to a temporary file and renamed."""
    from docx import Document
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Pt

    doc = Document()
    from docx.shared import Inches

    first = doc.sections[0]
    first.page_width, first.page_height = Inches(_A4[0]), Inches(_A4[1])
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(first, side, Inches(_MARGIN_IN))
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)
    doc.core_properties.title = report.title
    doc.core_properties.comments = f"Generated with metareview {__version__}"
    doc.add_heading(report.title, level=0)
    if report.subtitle:
        doc.add_paragraph(report.subtitle, style="Subtitle")
    meta = doc.add_paragraph(f"Generated {report.generated} with metareview {__version__}.")
    meta.runs[0].italic = True
    t_no, f_no = _numbering(report)
    state = {"landscape": False}

    def orient(landscape: bool) -> None:
        if state["landscape"] == landscape:
            return
        sec = doc.add_section(WD_SECTION.NEW_PAGE)
        w, h = sec.page_width, sec.page_height
        if landscape != (w > h):
            sec.page_width, sec.page_height = h, w
        sec.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        state["landscape"] = landscape

    def add_table(t: Table) -> None:
        wide = t.stacked or len(t.frame.columns) > 8
        orient(wide)
        cap = doc.add_paragraph()
        cap.add_run(f"Table {t_no[id(t)]}. ").bold = True
        cap.add_run(t.caption)
        cap.paragraph_format.keep_with_next = True
        table = doc.add_table(rows=1, cols=len(t.frame.columns))
        table.style = "Table Grid"
        table.autofit = False
        widths = _column_widths(t, _LANDSCAPE_TEXT_IN if wide else _PORTRAIT_TEXT_IN)
        for c, col in zip(table.rows[0].cells, t.frame.columns, strict=True):
            _cell(c, str(col), bold=True)
        for row in t.cells():  # row by row: python-docx's table.cell(i, j) walks the whole table each call
            for c, text in zip(table.add_row().cells, row, strict=True):
                _cell(c, text)
        for col, w in zip(table.columns, widths, strict=True):
            col.width = w
            for c in col.cells:
                c.width = w
        _repeat_header(table.rows[0])
        for note in [t.note, *t.notes]:
            if note:
                p = doc.add_paragraph(note)
                for run in p.runs:
                    run.font.size = Pt(8)

    def add_figure(f: Any) -> None:
        orient(False)
        png = f.render("png")
        if png is None:
            doc.add_paragraph(f"[Figure {f_no[id(f)]} is available in the HTML report only.]")
        else:
            doc.add_picture(io.BytesIO(png), width=_width(png, _PORTRAIT_TEXT_IN))
            doc.paragraphs[-1].paragraph_format.keep_with_next = True
        cap = doc.add_paragraph()
        cap.add_run(f"Figure {f_no[id(f)]}. ").bold = True
        cap.add_run(f.caption)

    def add_section(s: Section, level: int) -> None:
        orient(False)
        doc.add_heading(s.title, level=level)
        for p in s.paragraphs:
            doc.add_paragraph(str(p))
        parts: list[Any] = [*s.figures, *s.tables] if s.figures_first else [*s.tables, *s.figures]
        for part in parts:
            (add_table if isinstance(part, Table) else add_figure)(part)
        for sub in s.subsections:
            add_section(sub, min(level + 1, 3))

    for s in report.sections:
        add_section(s, 1)
    orient(False)
    if report.methods:
        doc.add_heading("Methods", level=1)
        for p in report.methods:
            doc.add_paragraph(str(p))
    if report.sources:
        doc.add_heading("Data sources and references", level=1)
        for src in report.sources:
            doc.add_paragraph(str(src), style="List Number")
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".report-", suffix=".docx.part")
    os.close(fd)
    try:
        doc.save(tmp)
        restrict(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _column_widths(t: Table, total_in: float) -> list[Any]:
    """Column widths that fill ``total_in``: each column at least its longest word (header or cell), the rest
    shared in proportion to how much longer its longest text is."""
    from docx.shared import Inches

    cells = t.cells()
    cols = [str(c) for c in t.frame.columns]
    least, want = [], []
    for j, col in enumerate(cols):
        texts = [col, *(r[j] for r in cells)]
        least.append(max(len(w) for x in texts for w in (x.split() or [""])) * _CHAR_IN + _CELL_PAD_IN)
        want.append(min(40, max(len(x) for x in texts)) * _CHAR_IN + _CELL_PAD_IN)
    floor = sum(least)
    if floor >= total_in:
        return [Inches(w * total_in / floor) for w in least]
    extra = [max(0.0, w - m) for w, m in zip(want, least, strict=True)]
    spare = total_in - floor
    share = sum(extra)
    grow = [spare * e / share if share else spare / len(cols) for e in extra]
    if share and share < spare:  # everything fits at its full length: spread the rest evenly
        grow = [e + (spare - share) / len(cols) for e in extra]
    return [Inches(m + g) for m, g in zip(least, grow, strict=True)]


def _cell(cell: Any, text: str, *, bold: bool = False) -> None:
    from docx.shared import Pt

    cell.text = ""
    run = cell.paragraphs[0].add_run(text)
    run.bold = bold
    run.font.size = Pt(8)


def _repeat_header(row: Any) -> None:
    """Mark the first row as a header row repeated on every page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _width(png: bytes, max_in: float, max_height_in: float = 8.8) -> Any:
    """The picture's width in Word: its own size at its dpi, at most the text width, and no taller than a
    page's text."""
    from docx.shared import Inches
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        dpi = float((im.info.get("dpi") or (300, 300))[0]) or 300.0
        width, height = im.width / dpi, im.height / dpi
    scale = min(1.0, max_in / width, max_height_in / height)
    return Inches(width * scale)
