"""The Baujat plot against metafor's ``baujat()`` on the BCG vaccine trials (``dat.bcg`` from metadat, log
risk ratios): the label positions are the coordinates metafor returns (and draws), the labels its ``ids``,
the axis limits its ``par("usr")``; one Rscript run. REML fits on both sides with tight iteration settings
(the leave-one-out refits then agree to about 1e-9; metafor's default threshold of 1e-5 would set the
precision of the comparison)."""

from __future__ import annotations

import numpy as np
import pytest
from rharness import run_r

from metareview.report.plots import baujat_plot
from metareview.stats import baujat, escalc, meta, meta_reg
from tests.report.plots_metafor import DRAWN, by_gid, calls, vec

pytestmark = pytest.mark.metafor
CTRL = {"threshold": 1e-10, "maxiter": 1000}

R_CODE = (
    DRAWN
    + """
suppressMessages(library(metadat))
ctrl <- list(threshold = 1e-10, maxiter = 1000)
dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
out <- list(
  data = as.list(dat.bcg[, c("tpos", "tneg", "cpos", "cneg", "ablat")]),
  reml = .drawn(baujat(rma(yi, vi, data = dat, control = ctrl))),
  ee_reg = .drawn(baujat(rma(yi, vi, mods = ~ ablat, data = dat, method = "EE")))
)
"""
)


@pytest.fixture(scope="module")
def metafor(rscript: str) -> dict:
    return run_r(rscript, R_CODE)


def bcg(metafor: dict):
    d = metafor["data"]
    es = escalc("RR", ai=d["tpos"], bi=d["tneg"], ci=d["cpos"], di=d["cneg"])
    return es.yi, es.vi, np.asarray(d["ablat"], float)


def fits(metafor: dict):
    yi, vi, ablat = bcg(metafor)
    return {
        "reml": meta(yi, vi, control=CTRL),
        "ee_reg": meta_reg(yi, vi, mods={"ablat": ablat}, method="EE"),
    }


@pytest.mark.parametrize("case", ["reml", "ee_reg"])
def test_labels_are_where_metafor_puts_them(metafor: dict, case: str) -> None:
    fit = fits(metafor)[case]
    fig = baujat_plot(fit, control=CTRL)
    r = metafor[case]
    texts = by_gid(fig, "baujat-label")
    pos = np.array([t.get_position() for t in texts])
    np.testing.assert_allclose(pos[:, 0], [p["x"] for p in r["value"]], rtol=1e-9)
    np.testing.assert_allclose(pos[:, 1], [p["y"] for p in r["value"]], rtol=1e-7)
    drawn = calls(r, "C_text")[0]  # metafor's text(xhati, yhati, x$ids)
    np.testing.assert_allclose(pos, np.column_stack([vec(drawn[0]["x"]), vec(drawn[0]["y"])]), rtol=1e-7)
    assert [t.get_text() for t in texts] == [str(int(v)) for v in drawn[1]]
    ax = fig.axes[0]
    np.testing.assert_allclose([*ax.get_xlim(), *ax.get_ylim()], r["usr"], rtol=1e-7)
    assert ax.get_xlabel() == ("Squared Pearson Residual" if case == "reml" else
                               "Contribution to Residual Heterogeneity")  # fmt: skip
    assert ax.get_ylabel() == (
        "Influence on Overall Result" if case == "reml" else "Influence on Fitted Value"
    )


def test_takes_a_baujat_result_labels_and_points(metafor: dict, tmp_path) -> None:
    fit = fits(metafor)["reml"]
    res = baujat(fit, control=CTRL)
    names = [f"Trial {i}" for i in range(1, 14)]
    fig = baujat_plot(res, labels=names)
    texts = by_gid(fig, "baujat-label")
    assert [t.get_text() for t in texts] == names
    np.testing.assert_array_equal([t.get_position() for t in texts], np.column_stack([res.x, res.y]))
    dots = baujat_plot(fit, symbol="points", control=CTRL)
    np.testing.assert_allclose(
        by_gid(dots, "baujat-points")[0].get_offsets(), np.column_stack([res.x, res.y])
    )
    assert by_gid(dots, "baujat-label") == []
    fig.savefig(tmp_path / "baujat.png")
    assert (tmp_path / "baujat.png").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="labels"):
        baujat_plot(res, labels=["a"])
    with pytest.raises(TypeError, match="baujat"):
        baujat_plot([1, 2])  # type: ignore[arg-type]


def test_studies_without_a_leave_one_out_fit_are_not_drawn() -> None:
    """A moderator only one study makes estimable: metafor skips that refit (y is NA), so does the plot."""
    fit = meta_reg([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.01, 0.02], mods={"x": [0, 0, 0, 1]}, method="EE")
    res = baujat(fit)
    assert np.isnan(res.y[3]) and np.isfinite(res.y[:3]).all()
    assert [t.get_text() for t in by_gid(baujat_plot(fit), "baujat-label")] == ["1", "2", "3"]
