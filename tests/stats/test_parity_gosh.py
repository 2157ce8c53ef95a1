"""Parity of ``metareview.stats.gosh`` with metafor's ``gosh()`` (``res$res``, ``res$incl``), one Rscript run.

Data: the first 7 BCG vaccine trials (``dat.bcg`` from metadat, log risk ratios from ``escalc("RR")``), so
every one of the 127 subsets is fitted (exact), for five τ² estimators; and the 13 trials with 60 random
subsets drawn by R (``gosh(res, subsets = 60, seed = 7)``), whose ``incl`` our ``gosh(..., incl=)`` refits.
Both sides fit with tight iteration settings (metafor's default ``tol`` for the PM/SJ root search is only
about 1e-4, which would dominate the comparison); agreement within 1e-7 (relative, absolute near 0).
"""

from __future__ import annotations

import numpy as np
import pytest
from rharness import run_r

from metareview.stats import StatsInputError, escalc, meta
from metareview.stats.gosh import GoshResult, gosh

pytestmark = pytest.mark.metafor

METHODS = ("REML", "DL", "EE", "PM", "SJ")  # Fisher scoring, the two shortcuts, two root searches
CTRL = {"threshold": 1e-10, "maxiter": 1000, "tol": 1e-12}

R_CODE = """
dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
ctrl <- list(threshold = 1e-10, maxiter = 1000, tol = 1e-12)
one <- function(d, method, ...) {
  g <- gosh(rma(yi, vi, data = d, method = method, control = ctrl), progbar = FALSE, ...)
  list(res = as.list(g$res), incl = unname(g$incl * 1), fit = unname(g$fit))
}
out <- list(yi = dat$yi, vi = dat$vi,
            exact = lapply(setNames(nm = methods), function(m) one(dat[1:7, ], m)),
            random = one(dat, "DL", subsets = 60, seed = 7))
"""


@pytest.fixture(scope="module")
def metafor(rscript: str) -> dict:
    return run_r(rscript, f"methods <- c({', '.join(repr(m) for m in METHODS)})\n" + R_CODE)


def bcg() -> tuple[np.ndarray, np.ndarray]:
    # dat.bcg (Colditz et al. 1994) counts, as in tests/stats/test_analysis_bcg.py
    tpos = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
    tneg = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
    cpos = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
    cneg = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]
    es = escalc("RR", ai=tpos, bi=tneg, ci=cpos, di=cneg)
    return es.yi, es.vi


def close(ours: np.ndarray, theirs: list, tol: float = 1e-7) -> None:
    ref = np.array([np.nan if v is None else v for v in theirs], dtype=float)
    np.testing.assert_allclose(ours, ref, rtol=tol, atol=tol)


def check(g: GoshResult, r: dict) -> None:
    np.testing.assert_array_equal(g.incl, np.array(r["incl"], dtype=bool))
    np.testing.assert_array_equal(g.converged, np.array(r["fit"], dtype=bool))
    np.testing.assert_array_equal(g.k, r["res"]["k"])
    for ours, theirs in (("q", "QE"), ("i2", "I2"), ("h2", "H2"), ("tau2", "tau2"), ("estimate", "estimate")):
        close(getattr(g, ours), r["res"][theirs])


def test_the_data_are_metafors(metafor: dict) -> None:
    yi, vi = bcg()
    close(yi, metafor["yi"], 1e-12)
    close(vi, metafor["vi"], 1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_all_subsets_match_metafor(metafor: dict, method: str) -> None:
    yi, vi = bcg()
    g = gosh(meta(yi[:7], vi[:7], method=method, control=CTRL), control=CTRL)
    assert g.exact and len(g) == 127 and g.method == method
    check(g, metafor["exact"][method])


def test_random_subsets_from_r_refitted(metafor: dict) -> None:
    yi, vi = bcg()
    r = metafor["random"]
    g = gosh(meta(yi, vi, method="DL"), incl=np.array(r["incl"], dtype=bool), control=CTRL)
    assert not g.exact and len(g) == 60
    check(g, r)


def test_random_subsets_are_drawn_as_metafor_draws_them() -> None:
    """Sizes 1..k with probabilities dbinom(m, k, 0.5) (normalised), distinct studies, sorted by size,
    reproducible with a seed."""
    yi, vi = bcg()
    fit = meta(yi, vi, method="DL")
    g = gosh(fit, subsets=4000, seed=11)
    assert not g.exact and len(g) == 4000 and g.seed == 11
    assert np.array_equal(g.k, g.incl.sum(axis=1)) and np.all(np.diff(g.k) >= 0)
    import math

    expected = np.array([math.comb(13, m) for m in range(1, 14)], float)
    expected /= expected.sum()
    observed = np.bincount(g.k, minlength=14)[1:] / len(g)
    assert np.abs(observed - expected).max() < 0.03  # 4000 draws: sd of a share <= 0.008
    again = gosh(fit, subsets=4000, seed=11)
    np.testing.assert_array_equal(again.incl, g.incl)
    assert not np.array_equal(gosh(fit, subsets=4000, seed=12).incl, g.incl)
    # every random subset is refitted exactly: its row equals meta() on those studies
    for s in (0, 1999, 3999):
        one = meta(yi[g.incl[s]], vi[g.incl[s]], method="DL")
        assert g.estimate[s] == pytest.approx(one.estimate, rel=1e-12)
        assert g.tau2[s] == pytest.approx(one.tau2, rel=1e-12, abs=1e-15)


def test_exact_when_few_subsets_and_result_objects() -> None:
    yi, vi = bcg()
    g = gosh(meta(yi[:5], vi[:5], method="DL"), subsets=31)
    assert g.exact and len(g) == 31 and g.n_studies == 5
    frame = g.to_frame()
    assert list(frame.columns) == ["k", "q", "i2", "h2", "tau2", "estimate", "converged"]
    d = g.to_dict()
    assert d["incl"][0] == [0] and d["incl"][-1] == [0, 1, 2, 3, 4] and len(d["estimate"]) == 31
    text = str(g)
    assert "Model fits attempted: 31" in text and "estimate" in text and "tau2" in text
    assert "tau2" not in str(gosh(meta(yi[:5], vi[:5], method="EE"))).split("succeeded")[1]


def test_bad_input() -> None:
    yi, vi = bcg()
    fit = meta(yi[:4], vi[:4])
    with pytest.raises(StatsInputError, match="subsets"):
        gosh(fit, subsets=1)
    with pytest.raises(StatsInputError, match="columns"):
        gosh(fit, incl=np.ones((3, 5), bool))
    with pytest.raises(StatsInputError, match="at least one study"):
        gosh(fit, incl=np.array([[1, 0, 0, 0], [0, 0, 0, 0]]))
    with pytest.raises(StatsInputError, match="meta"):
        gosh("not a fit")  # type: ignore[arg-type]
    with pytest.raises(StatsInputError, match="k >= 2"):
        gosh(meta(yi[:1], vi[:1]))
