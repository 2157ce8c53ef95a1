"""The GOSH plot against metafor's ``plot(gosh(res))`` on the first 7 BCG vaccine trials (``dat.bcg`` from
metadat, log risk ratios, REML; all 127 subsets): the points are metafor's ``res$res`` (estimate, I²), the
histogram bars are checked against metafor's values counted into the plotted bins, and the breaks, bars and
kernel-density lines are compared with what metafor draws (read back from R's display list), with and
without ``out``; one Rscript run."""

from __future__ import annotations

import numpy as np
import pytest
from rharness import run_r

from metareview.report.plots import gosh_plot
from metareview.report.plots.gosh import density, pretty, sturges_breaks
from metareview.stats import escalc, meta
from metareview.stats.gosh import gosh
from tests.report.plots_metafor import DRAWN, by_gid, calls, line_xy, vec

pytestmark = pytest.mark.metafor
CTRL = {"threshold": 1e-10, "maxiter": 1000}
OUT = 4  # 0-based: BCG trial 5 (metafor's out = 5)

R_CODE = (
    DRAWN
    + """
suppressMessages(library(metadat))
ranges <- list(c(0, 95.2, 8), c(-1.62, -0.21, 8), c(0.001, 0.0043, 11), c(1, 1, 5), c(-3, 250, 15),
               c(0, 0, 8), c(12.5, 13.7, 3), c(1, 60.8, 20))
dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg[1:7, ])
g <- gosh(rma(yi, vi, data = dat, control = list(threshold = 1e-10, maxiter = 1000)), progbar = FALSE)
out <- list(data = as.list(dat.bcg[1:7, c("tpos", "tneg", "cpos", "cneg")]),
            res = as.list(g$res), incl = unname(g$incl * 1),
            plain = .drawn(plot(g)), out = .drawn(plot(g, out = 5)),
            dens = density(g$res$estimate)[c("x", "y", "bw")],
            pretty = lapply(ranges, function(r) pretty(r[1:2], r[3], min.n = 1)))
"""
)


@pytest.fixture(scope="module")
def metafor(rscript: str) -> dict:
    return run_r(rscript, R_CODE)


@pytest.fixture(scope="module")
def result(metafor: dict):
    d = metafor["data"]
    es = escalc("RR", ai=d["tpos"], bi=d["tneg"], ci=d["cpos"], di=d["cneg"])
    return gosh(meta(es.yi, es.vi, control=CTRL), control=CTRL)


def rects(drawn: dict, horizontal: bool) -> list[np.ndarray]:
    """metafor's histogram bars, rect(xleft, ybottom, xright, ytop), as (n, 4) arrays, in drawing order;
    ``horizontal``: the bars of the right-hand margin."""
    out = []
    for a in calls(drawn, "C_rect"):
        cols = [vec(v) for v in a[:4]]
        n = max(c.size for c in cols)
        arr = np.column_stack([np.broadcast_to(c, n) for c in cols])
        if (arr[:, 0] == 0).all() == horizontal:
            out.append(arr)
    return out


def bars(fig, gid: str) -> np.ndarray:
    """Our bars as (xleft, ybottom, xright, ytop)."""
    return np.array([[p.get_x(), p.get_y(), p.get_x() + p.get_width(), p.get_y() + p.get_height()]
                     for p in by_gid(fig, gid)])  # fmt: skip


def test_points_are_metafors_gosh(metafor: dict, result) -> None:
    fig = gosh_plot(result)
    pts = by_gid(fig, "gosh-points")[0].get_offsets()
    np.testing.assert_allclose(pts[:, 0], metafor["res"]["estimate"], rtol=1e-8)
    np.testing.assert_allclose(pts[:, 1], metafor["res"]["I2"], rtol=1e-8, atol=1e-8)
    drawn = [c[0] for c in calls(metafor["plain"], "C_plotXY") if len(c[0]["x"]) == 127][0]
    np.testing.assert_allclose(pts, np.column_stack([vec(drawn["x"]), vec(drawn["y"])]), rtol=1e-8, atol=1e-8)
    alpha = by_gid(fig, "gosh-points")[0].get_alpha()
    assert alpha == pytest.approx(127 ** (-0.2))


def test_histograms_count_metafors_values(metafor: dict, result) -> None:
    """Each bar's height is the share of metafor's estimates (I² values) in its bin, right-closed as R's
    hist() counts (the lowest bin closed too), divided by its width."""
    fig = gosh_plot(result)
    for gid, values in (("gosh-xhist", metafor["res"]["estimate"]), ("gosh-yhist", metafor["res"]["I2"])):
        v = np.asarray(values)
        b = bars(fig, gid)
        if gid == "gosh-xhist":
            lo, hi, h = b[:, 0], b[:, 2], b[:, 3]
        else:
            lo, hi, h = b[:, 1], b[:, 3], b[:, 2]
        inside = [
            (v <= z) & ((v > a) if i else (v >= a)) for i, (a, z) in enumerate(zip(lo, hi, strict=True))
        ]
        np.testing.assert_allclose(
            h, [m.sum() / (v.size * (z - a)) for m, a, z in zip(inside, lo, hi, strict=True)]
        )
        assert sum(m.sum() for m in inside) == v.size


@pytest.mark.parametrize("case", ["plain", "out"])
def test_bars_breaks_and_densities_are_metafors(metafor: dict, result, case: str) -> None:
    fig = gosh_plot(result, out=OUT if case == "out" else None)
    drawn = metafor[case]
    suffixes = [""] if case == "plain" else ["", "-out"]  # metafor draws the "in" group first, then "out"
    for horizontal, axis in ((False, "x"), (True, "y")):
        theirs = rects(drawn, horizontal)
        assert len(theirs) == len(suffixes)
        for suffix, r in zip(suffixes, theirs, strict=True):
            ours = bars(fig, f"gosh-{axis}hist{suffix}")
            np.testing.assert_allclose(ours, r, atol=1e-12)  # breaks and heights
    # kernel densities: metafor's lines(d$x, d$y) for the estimates (top margin), drawn first
    lines = [c[0] for c in calls(drawn, "C_plotXY") if len(c[0]["x"]) == 512]
    gids = [f"gosh-xdens{s}" for s in suffixes] + [f"gosh-ydens{s}" for s in suffixes]
    assert len(lines) == len(gids)
    for gid, line in zip(gids, lines, strict=True):
        ours = line_xy(by_gid(fig, gid)[0])
        theirs = np.column_stack([vec(line["x"]), vec(line["y"])])
        dens_col = 0 if gid.startswith("gosh-ydens") else 1
        grid_col = 1 - dens_col
        np.testing.assert_allclose(ours[:, grid_col], theirs[:, grid_col], rtol=1e-9, atol=1e-9)
        # R bins the data for an FFT; we bin on a finer grid: both within 0.5% of the peak
        peak = theirs[:, dens_col].max()
        assert np.abs(ours[:, dens_col] - theirs[:, dens_col]).max() < 5e-3 * peak
    if case == "out":
        face = by_gid(fig, "gosh-points")[0].get_facecolors()[:, :3]
        with_study = np.asarray(metafor["incl"], bool)[:, OUT]
        np.testing.assert_array_equal(face[:, 0] == 1.0, with_study)  # red: subsets with study 5
        np.testing.assert_array_equal(face[:, 2] == 1.0, ~with_study)  # blue: the others


def test_density_is_rs(metafor: dict) -> None:
    x = np.asarray(metafor["res"]["estimate"])
    gx, gy = density(x)
    np.testing.assert_allclose(gx, metafor["dens"]["x"], rtol=1e-10)
    peak = max(metafor["dens"]["y"])
    assert np.abs(gy - np.asarray(metafor["dens"]["y"])).max() < 5e-3 * peak
    assert sturges_breaks(x).tolist() == pytest.approx([-1.8, -1.6, -1.4, -1.2, -1.0, -0.8, -0.6, -0.4, -0.2])


def test_breaks_are_rs_pretty(metafor: dict) -> None:
    ranges = [(0, 95.2, 8), (-1.62, -0.21, 8), (0.001, 0.0043, 11), (1, 1, 5), (-3, 250, 15), (0, 0, 8),
              (12.5, 13.7, 3), (1, 60.8, 20)]  # fmt: skip
    for (lo, hi, n), theirs in zip(ranges, metafor["pretty"], strict=True):
        np.testing.assert_allclose(pretty(lo, hi, n), theirs, rtol=1e-12, atol=1e-15)


def test_options_files_and_refusals(result, tmp_path) -> None:
    fig = gosh_plot(result, het="tau2", xhist=False)
    np.testing.assert_allclose(by_gid(fig, "gosh-points")[0].get_offsets()[:, 1], result.tau2)
    assert by_gid(fig, "gosh-xhist") == [] and by_gid(fig, "gosh-yhist")
    fig = gosh_plot(result, out=OUT, title="BCG")
    fig.savefig(tmp_path / "gosh.png")
    assert (tmp_path / "gosh.png").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="het"):
        gosh_plot(result, het="I2x")
    with pytest.raises(ValueError, match="out"):
        gosh_plot(result, out=7)
    with pytest.raises(TypeError, match="gosh"):
        gosh_plot([1, 2])  # type: ignore[arg-type]
    fit = meta([0.1, 0.3, 0.5, -0.2], [0.01, 0.02, 0.03, 0.01], method="EE")
    with pytest.raises(ValueError, match="tau2"):
        gosh_plot(fit, het="tau2")
    assert len(by_gid(gosh_plot(fit), "gosh-points")[0].get_offsets()) == 15
