"""robvis-like figures: the plotted data (cell colours, bar lengths) and the three files."""

from __future__ import annotations

import pytest
from matplotlib.colors import to_hex

from metareview.errors import InputError
from metareview.extraction import rob1, rob2, robis
from metareview.report.robvis import COLOURS, save_figure, summary_bars, summary_shares, traffic_light

LOW = {"1.1": "Y", "1.2": "Y", "1.3": "N", "2.1": "N", "2.2": "N", "2.6": "Y", "3.1": "Y",
       "4.1": "N", "4.2": "N", "4.3": "N", "5.1": "Y", "5.2": "N", "5.3": "N"}
FORMS = [rob2.assess(LOW, study="A", weight=40), rob2.assess(LOW | {"5.1": "N"}, study="B", weight=30),
         rob2.assess(LOW | {"1.2": "N"}, study="C", weight=30)]


def _cells(fig):
    ax = fig.axes[0]
    out = {}
    for coll in ax.collections:
        gid = coll.get_gid()
        if gid and gid.startswith("cell-"):
            _, i, j = gid.split("-")
            out[(int(i), int(j))] = to_hex(coll.get_facecolors()[0]).upper()
    return out


def test_traffic_light_colours_per_cell():
    cells = _cells(traffic_light(FORMS))
    assert len(cells) == 3 * 6
    green, yellow, red = (COLOURS[j].upper() for j in ("low", "some concerns", "high"))
    assert [cells[(0, j)] for j in range(6)] == [green] * 6
    assert [cells[(1, j)] for j in range(6)] == [green] * 4 + [yellow, yellow]
    assert [cells[(2, j)] for j in range(6)] == [red] + [green] * 4 + [red]
    texts = [t.get_text() for t in traffic_light(FORMS).axes[0].texts]
    assert texts.count("X") == 2 and texts.count("-") == 2 and texts.count("+") == 14


def test_summary_bar_lengths_weighted_and_not():
    plain = summary_shares(FORMS)
    assert plain["Overall"] == pytest.approx({"low": 100 / 3, "some concerns": 100 / 3, "high": 100 / 3})
    fig = summary_bars(FORMS, weighted=True)
    bars = {p.get_gid(): p.get_width() for p in fig.axes[0].patches if p.get_gid()}
    # weights 40/30/30: overall low 40%, some concerns 30%, high 30%; D1 low 70%, high 30%
    assert bars["bar-5-low"] == pytest.approx(40) and bars["bar-5-high"] == pytest.approx(30)
    assert bars["bar-0-low"] == pytest.approx(70) and bars["bar-0-high"] == pytest.approx(30)
    assert bars["bar-1-low"] == pytest.approx(100)


def test_rob1_and_robis_plots_and_files(tmp_path):
    r1 = [rob1.assess(dict.fromkeys(rob1.DOMAINS, "low") | {"blinding_outcome": "unclear"}, study="A"),
          rob1.assess(dict.fromkeys(rob1.DOMAINS, "high"), study="B")]
    cells = _cells(traffic_light(r1))
    assert cells[(0, 3)] == COLOURS["unclear"].upper() and cells[(0, 7)] == COLOURS["unclear"].upper()
    rb = [robis.assess(dict.fromkeys(robis.QUESTIONS, "Y") | {"2.2": "N"}, review="R1")]
    assert _cells(traffic_light(rb))[(0, 1)] == COLOURS["high"].upper()
    paths = save_figure(summary_bars(r1), tmp_path / "fig" / "rob1")
    assert [p.suffix for p in paths] == [".svg", ".pdf", ".png"]
    from PIL import Image
    with Image.open(paths[2]) as im:
        assert round(im.info["dpi"][0]) == 300
    assert paths[0].read_text().startswith("<?xml")


def test_mixed_or_empty_rejected():
    with pytest.raises(InputError, match="one tool"):
        traffic_light([FORMS[0], rob1.assess(dict.fromkeys(rob1.DOMAINS, "low"))])
    with pytest.raises(InputError, match="no risk-of-bias"):
        summary_bars([])
