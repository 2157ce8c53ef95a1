"""The radial (Galbraith) plot against metafor's ``radial()`` on the BCG vaccine trials (``dat.bcg`` from
metadat, log risk ratios): every drawn number (points, fitted line, band, both arcs, their ticks and labels,
axis limits) is compared with the coordinates metafor's own code draws, read back from R's display list
(``tests/report/plots_metafor.py``), in one Rscript run."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rharness import run_r

from metareview.report.plots import galbraith, radial
from metareview.stats import escalc, meta, meta_reg
from tests.report.plots_metafor import DRAWN, by_gid, calls, line_xy, vec

pytestmark = pytest.mark.metafor

R_CODE = (
    DRAWN
    + """
suppressMessages(library(metadat))
dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
out <- list(
  data = as.list(dat.bcg[, c("tpos", "tneg", "cpos", "cneg")]), yi = c(dat$yi),
  reml = .drawn(radial(rma(yi, vi, data = dat), transf = exp)),
  ee_centered = .drawn(radial(rma(yi, vi, data = dat, method = "EE"), center = TRUE)),
  dl_90 = .drawn(radial(rma(yi, vi, data = dat, method = "DL"), level = 90, steps = 5))
)
"""
)

CASES = {  # our call for each of metafor's
    "reml": ({"method": "REML"}, {"transf": "exp"}),
    "ee_centered": ({"method": "EE"}, {"center": True}),
    "dl_90": ({"method": "DL"}, {"level": 90, "steps": 5}),
}


@pytest.fixture(scope="module")
def metafor(rscript: str) -> dict:
    return run_r(rscript, R_CODE)


def bcg(metafor: dict, **kw: object):
    d = metafor["data"]
    es = escalc("RR", ai=d["tpos"], bi=d["tneg"], ci=d["cpos"], di=d["cneg"])
    np.testing.assert_allclose(es.yi, metafor["yi"], rtol=1e-12)
    return meta(es.yi, es.vi, **kw)  # type: ignore[arg-type]


def segments(args: list) -> np.ndarray:
    """R's segments(x0, y0, x1, y1) as an (n, 4) array."""
    return np.column_stack([vec(a) for a in args[:4]])


def drawn_segments(fig, gid: str) -> np.ndarray:
    return np.array([line_xy(ln).ravel() for ln in by_gid(fig, gid)])


@pytest.mark.parametrize("case", list(CASES))
def test_every_drawn_number_is_metafors(metafor: dict, case: str) -> None:
    fit_kw, plot_kw = CASES[case]
    fig = radial(bcg(metafor, **fit_kw), **plot_kw)
    r = metafor[case]
    ax = fig.axes[0]
    # axis limits (metafor uses xaxs = yaxs = "i", so par("usr") is exactly its xlim and zlim)
    np.testing.assert_allclose([*ax.get_xlim(), *ax.get_ylim()], r["usr"], rtol=1e-10)
    # the points: metafor's invisible return value
    pts = by_gid(fig, "radial-points")[0].get_offsets()
    np.testing.assert_allclose(pts[:, 0], [p["x"] for p in r["value"]], rtol=1e-10)
    np.testing.assert_allclose(pts[:, 1], [p["y"] for p in r["value"]], rtol=1e-10)
    # the band polygon and the three segments (fitted line, dotted band edges)
    poly = calls(r, "C_polygon")[0]
    band = by_gid(fig, "radial-band")[0].get_xy()[:4]
    np.testing.assert_allclose(band, np.column_stack([vec(poly[0]), vec(poly[1])]), rtol=1e-10, atol=1e-12)
    segs = calls(r, "C_segments")
    for gid, drawn in zip(("radial-fit", "radial-band-lower", "radial-band-upper"), segs[:3], strict=True):
        np.testing.assert_allclose(line_xy(by_gid(fig, gid)[0]).ravel(), segments(drawn)[0], atol=1e-12)
    # the arcs (lines metafor draws with type "l", in order: effect scale, then CI)
    arcs = [c[0] for c in calls(r, "C_plotXY") if c[1] == "l"]
    for gid, arc in zip(("radial-arc", "radial-ci-arc"), arcs, strict=True):
        ours = line_xy(by_gid(fig, gid)[0])
        np.testing.assert_allclose(ours, np.column_stack([vec(arc["x"]), vec(arc["y"])]), rtol=1e-10)
    # tick marks on both arcs
    np.testing.assert_allclose(drawn_segments(fig, "radial-arc-ticks"), segments(segs[3]), rtol=1e-10)
    np.testing.assert_allclose(drawn_segments(fig, "radial-ci-ticks"), segments(segs[4]), rtol=1e-10)
    # the arc's labels: positions and text
    text = calls(r, "C_text")[0]
    labels = by_gid(fig, "radial-arc-label")
    np.testing.assert_allclose([a.xy for a in labels], np.column_stack([vec(text[0]["x"]),
                               vec(text[0]["y"])]), rtol=1e-10)  # fmt: skip
    assert [a.get_text().replace("\u2212", "-") for a in labels] == text[1]


def test_geometry_and_files(metafor: dict, tmp_path) -> None:
    """Independent of metafor: each label sits on the ray from the origin whose slope is the labelled
    effect, the band is ±1.96 around the line at x = 0, and the figure saves as PNG, SVG and PDF."""
    fit = bcg(metafor)
    fig = radial(fit, transf="exp")
    for a in by_gid(fig, "radial-arc-label"):
        x, z = a.xy
        assert math.exp(z / x) == pytest.approx(float(a.get_text().replace("\u2212", "-")), abs=0.006)
    lo, hi = line_xy(by_gid(fig, "radial-band-lower")[0]), line_xy(by_gid(fig, "radial-band-upper")[0])
    assert lo[0, 1] == pytest.approx(-1.959964, abs=1e-6) and hi[0, 1] == pytest.approx(1.959964, abs=1e-6)
    slope = np.diff(line_xy(by_gid(fig, "radial-fit")[0]), axis=0)[0]
    assert slope[1] / slope[0] == pytest.approx(fit.estimate, rel=1e-12)
    assert galbraith is radial
    for ext, magic in (("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")):
        path = tmp_path / f"radial.{ext}"
        fig.savefig(path)
        assert path.read_bytes().startswith(magic)


def test_refuses_models_with_moderators(metafor: dict) -> None:
    fit = bcg(metafor)
    reg = meta_reg(fit.yi, fit.vi, mods={"x": np.arange(fit.k, dtype=float)})
    with pytest.raises(TypeError, match="without moderators"):
        radial(reg)
    with pytest.raises(ValueError, match="transf"):
        radial(fit, transf="log10")
