"""The report: figures, the self-contained HTML page, CSV/XLSX tables and the section builders."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from metareview.report import figures, sections
from metareview.report.html import Figure, Report, Section, Table, render_html, write_report
from metareview.report.tables import slug, write_tables
from metareview.synthesis.repool import repool
from metareview.synthesis.votes import vote_table_from_counts


def _effects(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for outcome in ("depression", "GAD"):
        for t in range(10):
            guidance = "guided" if t < 6 else "unguided"
            for e in range(1 + t % 2):
                rows.append({"outcome": outcome, "db": "x", "trial": f"{outcome}{t}",
                             "study": f"Author {t}, 2020", "effect_id": f"{t}.{e}", "guidance": guidance,
                             "guided": int(guidance == "guided"),
                             "yi": rng.normal(0.5, 0.2), "vi": rng.uniform(0.02, 0.08), "n_arm1": 40.0,
                             "n_arm2": 40.0, "instrument": f"i{e}", "arm2": "wl", "multi_arm1": "",
                             "multi_arm2": "", "full_ref": ""})
    return pd.DataFrame(rows)


def _svg(uri: str) -> str:
    head, data = uri.split(",", 1)
    assert head == "data:image/svg+xml;base64"
    return base64.b64decode(data).decode("utf-8")


def test_every_figure_renders_to_an_embedded_svg() -> None:
    made = [
        figures.evidence_map(pd.DataFrame({"column": ["x", "y"], "row": ["r", "r"], "k": [3, 10],
                                           "direction": ["better", "no_difference"]})),
        figures.vote_bars(pd.DataFrame({"level": ["a"], "better": [2], "no_difference": [1], "worse": [0]})),
    ]
    # one function for one job: the plots of result objects live in report.plots only
    assert not {"forest", "funnel", "overlap_heatmap", "Diamond"} & set(dir(figures))
    for fig in made:
        assert isinstance(fig, MplFigure)
        svg = _svg(figures.to_data_uri(fig))
        assert "<svg" in svg
    bars = pd.DataFrame({"level": ["a"], "better": [1], "no_difference": [0], "worse": [0]})
    png = figures.to_data_uri(figures.vote_bars(bars), fmt="png")
    assert base64.b64decode(png.split(",", 1)[1])[:4] == b"\x89PNG"


def test_evidence_map_counts_fit_their_bubbles_or_sit_beside_them() -> None:
    # k = 13 of kmax 400 draws a bubble 8.3 pt across, narrower than a bold 7-point "13" (as in the worked
    # example's map); measured with matplotlib's own renderer, not with the code's width estimate
    cells = pd.DataFrame({"column": ["a", "b", "c", "d"], "row": ["r"] * 4, "k": [400, 13, 1, 13],
                          "direction": ["better", "no_difference", "worse", "better"]})
    cells.loc[3, "row"] = "s"
    fig = figures.evidence_map(cells)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    texts = list(ax.texts)
    assert [t.get_text() for t in texts] == ["400", "13", "1", "13"]
    assert [t.get_color() == "white" for t in texts] == [True, False, False, False]  # inside, beside, …
    areas = [c.get_sizes()[0] for c in ax.collections]
    for text, area in zip(texts, areas, strict=True):
        box = text.get_window_extent(renderer)
        diameter_px = np.sqrt(area) * fig.dpi / 72
        if text.get_color() == "white":
            assert box.width <= diameter_px and box.height <= diameter_px, (text.get_text(), area)
        else:
            centre_px = ax.transData.transform(text.xy)[0]
            assert box.x0 >= centre_px + diameter_px / 2, text.get_text()


def test_html_is_self_contained_numbered_and_escaped(tmp_path: Path) -> None:
    uri = figures.to_data_uri(figures.vote_bars(pd.DataFrame({"level": ["a"], "better": [2],
                                                              "no_difference": [1], "worse": [0]})))
    rep = Report(
        title="T & <b>",
        sections=[Section("First", paragraphs=["x < y"], tables=[Table("One", pd.DataFrame({"g": [-0.5]}))],
                          figures=[Figure("Fig", uri)]),
                  Section("Second", tables=[Table("Two", pd.DataFrame({"a": ["z"], "n": [np.nan]}))])],
        methods=["Estimated by REML."], sources=["A source, https://example.org"],
    )
    html = render_html(rep)
    assert "<script" not in html and "<link" not in html
    assert not re.search(r"""(src|href)=["']https?:""", html)  # nothing fetched from outside
    assert "T &amp; &lt;b&gt;" in html and "x &lt; y" in html
    assert "Table 1.</span> One" in html and "Table 2.</span> Two" in html and "Figure 1.</span>" in html
    assert "\u22120.50" in html  # true minus sign, two decimals
    assert 'src="data:image/svg+xml;base64,' in html
    files = write_report(rep, tmp_path)
    assert files.html.read_text(encoding="utf-8") == html
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == [
        "table-01-one.csv", "table-02-two.csv", "tables.xlsx"]
    # a figure given only as an SVG data URI is written as SVG; the Word version is written beside the page
    assert [p.name for p in files.figures] == ["figure-01-fig.svg"]
    assert files.docx is not None and files.docx.name == "report.docx"


def test_every_figure_is_written_as_svg_pdf_and_300_dpi_png(tmp_path: Path) -> None:
    from PIL import Image

    fig = figures.vote_bars(pd.DataFrame({"level": ["a"], "better": [2], "no_difference": [1], "worse": [0]}))
    rep = Report(title="T", sections=[Section("S", figures=[Figure("Votes", plot=fig, name="votes")])])
    files = write_report(rep, tmp_path, docx=False)
    assert [p.name for p in files.figures] == ["figure-01-votes.svg", "figure-01-votes.pdf",
                                               "figure-01-votes.png"]
    assert files.figures[1].read_bytes()[:4] == b"%PDF"
    assert Image.open(files.figures[2]).info["dpi"][0] == pytest.approx(300, abs=1)
    html = files.html.read_text(encoding="utf-8")
    svg = files.figures[0].read_bytes()
    assert base64.b64encode(svg).decode("ascii") in html  # the page embeds the very SVG that was written


def test_wide_tables_are_stacked_and_no_table_scrolls() -> None:
    narrow = Table("n", pd.DataFrame({"a": [1], "b": ["x"]}))
    wide = Table("w", pd.DataFrame({f"Column {i}": ["0.61 [0.51, 0.70]"] for i in range(20)}))
    assert wide.min_width() == 20 * (6 + 2)  # per column its longest word ('Column', '[0.51,') + padding
    assert not narrow.stacked and wide.stacked
    assert '<table class="stacked">' in str(wide.html()) and 'data-label="Column 3"' in str(wide.html())
    assert Table("f", pd.DataFrame({f"c{i}": ["Y"] for i in range(40)}), stack=False).stacked is False
    html = render_html(Report(title="T", sections=[Section("S", tables=[wide])]))
    css = html[html.index("<style>"):html.index("</style>")]
    assert "overflow-x" not in css  # nothing hides behind a scroll bar
    assert "@media print" in css and "table.stacked td::before" in css
    whole = Table("i", pd.DataFrame({"n": [5.0, 8.0], "x": [0.5, 1.25]}))
    assert whole.cells() == [["5", "0.50"], ["8", "1.25"]]  # whole-number floats shown without decimals


def test_tables_write_csv_and_one_workbook(tmp_path: Path) -> None:
    files = write_tables({"Table 4 (votes)": pd.DataFrame({"n": [1, 2]}),
                          "Other": pd.DataFrame({"x": ["a"]})}, tmp_path)
    assert slug("Table 4 (votes)") == "table-4-votes"
    assert pd.read_csv(files.csv["Table 4 (votes)"])["n"].tolist() == [1, 2]
    book = openpyxl.load_workbook(files.workbook)
    assert book.sheetnames == ["table-4-votes", "other"]
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*.part"))


def test_repool_section_has_forest_and_funnel_per_outcome() -> None:
    res = repool(_effects())
    labels = {"guided": "Guided self-help", "unguided": "Unguided self-help"}
    sec = sections.repool_section(res, egger={("depression", "guided"): 0.2}, labels=labels)
    assert [s.title for s in sec.subsections] == ["Depression", "GAD"]
    assert all(len(s.figures) == 2 for s in sec.subsections)
    frame = sec.tables[0].frame
    assert list(frame["Group"]) == ["Guided self-help", "Unguided self-help"] * 2
    # without labels the groups are named by their own values: no review's wording in the report code
    assert list(sections.repool_section(res).tables[0].frame["Group"]) == ["Guided", "Unguided"] * 2
    assert frame.loc[0, "Egger p"] == ".200"
    cells = sections.evidence_cells(res)
    assert set(cells["direction"]) <= {"better", "no_difference", "worse"}
    assert cells["k"].tolist() == [6, 4, 6, 4]


def test_votes_section_reports_counts_cis_and_tests() -> None:
    t = vote_table_from_counts({"Anxiety": (4, 7, 1), "Depression": (9, 8, 2)}, moderator="Outcome domain")
    sec = sections.votes_section({"Outcome domain": t}, title="Votes")
    frame = sec.tables[0].frame
    assert frame.loc[0, "Level"] == "Anxiety" and frame.loc[0, "n"] == 12
    # 4/12 = 33% truncated; Wilson 95% CI 13.8-60.9% (Wilson 1927 score interval)
    assert frame.iloc[0, 3].startswith("4 (33%) [14\u201361]")
    assert "Fisher" in sec.tables[0].note


@pytest.mark.parametrize("p,text", [(0.0004, "<.001"), (0.0279, ".028"), (float("nan"), "\u2013")])
def test_fmt_p(p: float, text: str) -> None:
    assert sections.fmt_p(p) == text
