"""The bubble plot against metafor's ``regplot()`` on the BCG vaccine trials (``dat.bcg`` from metadat, log
risk ratios against absolute latitude): bubble positions and sizes are the values metafor returns (xi, yi,
psize), the regression line, the CI and PI band edges and shaded polygons, the reference line and the axis
limits are what it draws, read back from R's display list; one Rscript run. REML with tight iteration
settings on both sides (the fits then agree to about 1e-10)."""

from __future__ import annotations

import numpy as np
import pytest
from rharness import run_r

from metareview.report.plots import regplot
from metareview.report.plots._base import marker_area
from metareview.stats import escalc, meta, meta_reg
from tests.report.plots_metafor import DRAWN, by_gid, calls, line_xy, vec

pytestmark = pytest.mark.metafor
CTRL = {"threshold": 1e-10, "maxiter": 1000}

R_CODE = (
    DRAWN
    + """
suppressMessages(library(metadat))
ctrl <- list(threshold = 1e-10, maxiter = 1000)
dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
res1 <- rma(yi, vi, mods = ~ ablat, data = dat, control = ctrl)
res2 <- rma(yi, vi, mods = ~ ablat + year, data = dat, control = ctrl)
rp <- function(...) { v <- regplot(...); class(v) <- "data.frame"; v }  # its return value, as a data frame
res3 <- rma(yi, vi, mods = ~ ablat + alloc, data = dat, method = "EE")
out <- list(
  data = as.list(dat.bcg[, c("tpos", "tneg", "cpos", "cneg", "ablat", "year", "alloc")]),
  ablat = .drawn(rp(res1, pi = TRUE, refline = 0)),
  year = .drawn(rp(res2, mod = "year")),
  factor_ee = .drawn(rp(res3, mod = "ablat")),
  exp = .drawn(rp(res1, transf = exp, pi = TRUE, shade = FALSE))
)
"""
)

CASES = {
    "ablat": ({"ablat"}, "REML", {"pi": True, "refline": 0.0}),
    "year": ({"ablat", "year"}, "REML", {"mod": "year"}),
    "factor_ee": ({"ablat", "alloc"}, "EE", {"mod": "ablat"}),
    "exp": ({"ablat"}, "REML", {"transf": "exp", "pi": True, "shade": False}),
}


@pytest.fixture(scope="module")
def metafor(rscript: str) -> dict:
    return run_r(rscript, R_CODE)


def fit_for(metafor: dict, mods: set, method: str):
    d = metafor["data"]
    es = escalc("RR", ai=d["tpos"], bi=d["tneg"], ci=d["cpos"], di=d["cneg"])
    cols = {name: d[name] for name in ("ablat", "year", "alloc") if name in mods}
    return meta_reg(es.yi, es.vi, mods=cols, method=method, control=CTRL)


@pytest.mark.parametrize("case", list(CASES))
def test_every_drawn_number_is_metafors(metafor: dict, case: str) -> None:
    mods, method, kw = CASES[case]
    fig = regplot(fit_for(metafor, mods, method), **kw)
    r = metafor[case]
    value = r["value"]
    xi, yi, cex = (np.array([p[c] for p in value]) for c in ("xi", "yi", "psize"))
    order = np.argsort(-cex, kind="stable")
    pts = by_gid(fig, "regplot-points")[0]
    np.testing.assert_allclose(pts.get_offsets(), np.column_stack([xi[order], yi[order]]), rtol=1e-10)
    np.testing.assert_allclose(pts.get_sizes(), marker_area(cex[order]), rtol=1e-8)
    # lines in metafor's drawing order: CI edges, PI edges, the regression line
    lines = [c[0] for c in calls(r, "C_plotXY") if c[1] == "l"]
    gids = ["regplot-ci-lower", "regplot-ci-upper"]
    if kw.get("pi"):
        gids += ["regplot-pi-lower", "regplot-pi-upper"]
    gids.append("regplot-pred")
    assert len(lines) == len(gids)
    for gid, line in zip(gids, lines, strict=True):
        ours = line_xy(by_gid(fig, gid)[0])
        np.testing.assert_allclose(
            ours, np.column_stack([vec(line["x"]), vec(line["y"])]), rtol=1e-8, atol=1e-10
        )
    # shaded bands: metafor's polygons (PI first, then CI)
    polys = calls(r, "C_polygon")
    bands = (
        []
        if kw.get("shade") is False
        else (["regplot-pi-band"] if kw.get("pi") else []) + ["regplot-ci-band"]
    )
    assert len(polys) == len(bands)
    for gid, poly in zip(bands, polys, strict=True):
        theirs = np.column_stack([vec(poly[0]), vec(poly[1])])
        ours = by_gid(fig, gid)[0].get_paths()[0].vertices
        # fill_between's path holds every vertex of metafor's polygon (lower edge, then upper edge reversed)
        dist = np.abs(ours[None, :, :] - theirs[:, None, :]).max(axis=2).min(axis=1)
        assert dist.max() < 1e-8
    if "refline" in kw:
        assert vec(calls(r, "C_abline")[0][2])[0] == kw["refline"]
        assert by_gid(fig, "regplot-refline")[0].get_ydata()[0] == kw["refline"]
    ax = fig.axes[0]
    np.testing.assert_allclose([*ax.get_xlim(), *ax.get_ylim()], r["usr"], rtol=1e-8)
    assert ax.get_xlabel() == ("year" if case == "year" else "ablat")


def test_defaults_refusals_and_files(metafor: dict, tmp_path) -> None:
    fit = fit_for(metafor, {"ablat", "year"}, "REML")
    with pytest.raises(ValueError, match="several moderators"):
        regplot(fit)
    with pytest.raises(ValueError, match="does not name"):
        regplot(fit, mod="latitude")
    assert regplot(fit, mod="ye").axes[0].get_xlabel() == "year"  # a unique prefix, as metafor's charmatch
    assert regplot(fit, mod=1).axes[0].get_xlabel() == "ablat"
    ee = fit_for(metafor, {"ablat"}, "EE")
    with pytest.warns(UserWarning, match="no prediction interval"):
        fig = regplot(ee, pi=True)
    assert by_gid(fig, "regplot-pi-lower") == []
    with pytest.raises(TypeError, match="meta_reg"):
        regplot(meta(ee.yi, ee.vi))  # type: ignore[arg-type]
    fig = regplot(fit_for(metafor, {"ablat"}, "REML"), pi=True)
    fig.savefig(tmp_path / "regplot.png")
    assert (tmp_path / "regplot.png").read_bytes().startswith(b"\x89PNG")
