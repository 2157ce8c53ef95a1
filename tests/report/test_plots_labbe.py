"""The L'Abbé plot against metafor's ``labbe()`` on the BCG vaccine trials (``dat.bcg`` from metadat) for the
three measures (RR/REML, OR/DL, RD/EE) and on a copy with zero cells (metafor's default ``add = 1/2``,
``to = "only0"``): point positions and sizes are the values metafor returns (x, y, cex), the two lines and
the axis limits are what it draws, read back from R's display list; one Rscript run."""

from __future__ import annotations

import numpy as np
import pytest
from rharness import run_r

from metareview.report.plots import labbe
from metareview.report.plots._base import marker_area
from metareview.report.plots.labbe import arm_outcomes
from metareview.stats import escalc, meta, meta_reg
from tests.report.plots_metafor import DRAWN, by_gid, calls, line_xy, vec

pytestmark = pytest.mark.metafor

R_CODE = (
    DRAWN
    + """
suppressMessages(library(metadat))
bcg <- dat.bcg
zero <- dat.bcg[1:6, ]
zero$tpos[2] <- 0; zero$cneg[5] <- 0
one <- function(d, measure, method, ...) {
  res <- rma(measure = measure, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d, method = method)
  c(.drawn(labbe(res, ...)), list(b = c(res$beta)))
}
out <- list(
  bcg = as.list(bcg[, c("tpos", "tneg", "cpos", "cneg")]),
  zero = as.list(zero[, c("tpos", "tneg", "cpos", "cneg")]),
  rr = one(bcg, "RR", "REML"), or = one(bcg, "OR", "DL"), rd = one(bcg, "RD", "EE"),
  rr_exp = one(bcg, "RR", "REML", transf = exp), zero_or = one(zero, "OR", "REML"),
  pln = c(escalc("PLN", xi = zero$tpos, mi = zero$tneg)$vi)
)
"""
)

CASES = {
    "rr": ("bcg", "RR", "REML", {}),
    "or": ("bcg", "OR", "DL", {}),
    "rd": ("bcg", "RD", "EE", {}),
    "rr_exp": ("bcg", "RR", "REML", {"transf": "exp"}),
    "zero_or": ("zero", "OR", "REML", {}),
}


@pytest.fixture(scope="module")
def metafor(rscript: str) -> dict:
    return run_r(rscript, R_CODE)


def draw(metafor: dict, case: str):
    data, measure, method, kw = CASES[case]
    d = metafor[data]
    tables = {"ai": d["tpos"], "bi": d["tneg"], "ci": d["cpos"], "di": d["cneg"]}
    fit = meta(*_effects(measure, tables), method=method)
    assert fit.estimate == pytest.approx(metafor[case]["b"], rel=1e-6)
    return labbe(fit, measure, **tables, **kw)


def _effects(measure: str, tables: dict):
    es = escalc(measure, **tables)
    return es.yi, es.vi


@pytest.mark.parametrize("case", list(CASES))
def test_every_drawn_number_is_metafors(metafor: dict, case: str) -> None:
    fig = draw(metafor, case)
    r = metafor[case]
    x = np.array([p["x"] for p in r["value"]])
    y = np.array([p["y"] for p in r["value"]])
    cex = np.array([p["cex"] for p in r["value"]])
    order = np.argsort(-cex, kind="stable")  # R's order(psize, decreasing = TRUE)
    pts = by_gid(fig, "labbe-points")[0]
    np.testing.assert_allclose(pts.get_offsets(), np.column_stack([x[order], y[order]]), rtol=1e-10)
    np.testing.assert_allclose(pts.get_sizes(), marker_area(cex[order]), rtol=1e-10)
    drawn = [c for c in calls(r, "C_plotXY") if c[1] == "p" and isinstance(c[0]["x"], list)][0]
    np.testing.assert_allclose(pts.get_offsets(), np.column_stack([vec(drawn[0]["x"]), vec(drawn[0]["y"])]))
    # the dashed line of the pooled estimate, and the diagonal abline(a = 0, b = 1)
    line = [c for c in calls(r, "C_plotXY") if c[1] == "l"][0][0]
    ours = line_xy(by_gid(fig, "labbe-estimate")[0])
    np.testing.assert_allclose(ours, np.column_stack([vec(line["x"]), vec(line["y"])]), rtol=1e-9, atol=1e-12)
    assert [vec(a)[0] for a in calls(r, "C_abline")[0][:2]] == [0, 1]
    diag = by_gid(fig, "labbe-null")[0]
    assert tuple(diag.get_xy1()) == (0.0, 0.0) and diag.get_slope() == 1.0
    ax = fig.axes[0]
    np.testing.assert_allclose([*ax.get_xlim(), *ax.get_ylim()], r["usr"], rtol=1e-10)


def test_log_proportions_are_metafors_pln(metafor: dict) -> None:
    d = metafor["zero"]
    _, vi = arm_outcomes("RR", d["tpos"], d["tneg"], None)
    np.testing.assert_allclose(vi, metafor["pln"], rtol=1e-12)


def test_group_sizes_files_and_refusals(metafor: dict, tmp_path) -> None:
    d = metafor["bcg"]
    n1 = np.add(d["tpos"], d["tneg"])
    n2 = np.add(d["cpos"], d["cneg"])
    fit = meta(*_effects("RR", {"ai": d["tpos"], "bi": d["tneg"], "ci": d["cpos"], "di": d["cneg"]}))
    a = labbe(fit, "RR", ai=d["tpos"], bi=d["tneg"], ci=d["cpos"], di=d["cneg"])
    b = labbe(fit, "rr", ai=d["tpos"], n1i=n1, ci=d["cpos"], n2i=n2)
    np.testing.assert_array_equal(by_gid(a, "labbe-points")[0].get_offsets(),
                                  by_gid(b, "labbe-points")[0].get_offsets())  # fmt: skip
    # the pooled line is y = x + estimate
    xy = line_xy(by_gid(a, "labbe-estimate")[0])
    np.testing.assert_allclose(xy[:, 1] - xy[:, 0], fit.estimate, atol=1e-12)
    assert fit.estimate < 0 and xy[-1, 0] == 0.0  # metafor ends the line where the control proportion is 1
    a.savefig(tmp_path / "labbe.png")
    assert (tmp_path / "labbe.png").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="measure"):
        labbe(fit, "SMD", ai=d["tpos"], bi=d["tneg"], ci=d["cpos"], di=d["cneg"])
    with pytest.raises(ValueError, match="bi or n1i"):
        labbe(fit, "RR", ai=d["tpos"], ci=d["cpos"], di=d["cneg"])
    with pytest.raises(ValueError, match="k = 13"):
        labbe(fit, "RR", ai=d["tpos"][:3], bi=d["tneg"][:3], ci=d["cpos"][:3], di=d["cneg"][:3])
    reg = meta_reg(fit.yi, fit.vi, mods={"x": np.arange(13.0)})
    with pytest.raises(TypeError, match="without moderators"):
        labbe(reg, "RR", ai=d["tpos"], bi=d["tneg"], ci=d["cpos"], di=d["cneg"])  # type: ignore[arg-type]
