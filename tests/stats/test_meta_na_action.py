"""``na_action``: missing values raise by default and are omitted, with a warning, under ``"omit"``.

The omitted fit is compared with metafor 3.8.1, whose default ``na.action = "na.omit"`` drops the same
studies (one ``Rscript`` run); the BCG data (``dat.bcg``, log risk ratios) with values knocked out.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from rharness import run_r

from metareview.stats import StatsInputError, meta, meta_reg
from metareview.stats.missing import OmittedWarning

YI = [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01, -0.47, -1.37, -0.34, 0.45, -0.02]
VI = [0.33, 0.19, 0.42, 0.02, 0.05, 0.007, 0.22, 0.004, 0.06, 0.07, 0.012, 0.53, 0.07]
LAT = [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33]
ALLOC = ["random", "alternate", "random", "random", "random", "systematic", "random"] + [
    "random",
    "systematic",
    "systematic",
    "systematic",
    "random",
    "systematic",
]
NAN = float("nan")


def _knocked_out() -> tuple[list[float], list[float], list[float | None], list[str | None]]:
    yi, vi, lat = list(YI), list(VI), list[float | None](LAT)
    alloc: list[str | None] = list(ALLOC)
    yi[2] = NAN
    vi[5] = NAN
    lat[7] = None
    alloc[10] = None
    return yi, vi, lat, alloc


def test_missing_values_raise_by_default() -> None:
    yi, vi, lat, _ = _knocked_out()
    with pytest.raises(StatsInputError) as err:
        meta(yi, vi)
    assert (err.value.index, err.value.field) == (2, "yi")
    with pytest.raises(StatsInputError, match="lat"):
        meta_reg(YI, VI, {"lat": lat})


def test_omit_drops_the_studies_warns_and_records_them() -> None:
    yi, vi, lat, alloc = _knocked_out()
    with pytest.warns(OmittedWarning, match=r"2 studies with missing values omitted .*indices 2, 5"):
        res = meta(yi, vi, na_action="omit")
    assert res.omitted == (2, 5) and res.k == 11
    keep = [i for i in range(13) if i not in (2, 5)]
    ref = meta([YI[i] for i in keep], [VI[i] for i in keep])
    assert (res.estimate, res.tau2, res.se) == (ref.estimate, ref.tau2, ref.se)
    assert res.to_dict()["omitted"] == [2, 5]
    with pytest.warns(OmittedWarning):
        reg = meta_reg(yi, vi, {"lat": lat, "alloc": alloc}, na_action="na.omit")  # R's spelling too
    assert reg.omitted == (2, 5, 7, 10) and reg.k == 9


def test_omit_without_missing_values_is_silent_and_all_missing_raises() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert meta(YI, VI, na_action="omit").omitted == ()
    with pytest.raises(StatsInputError, match="every study"):
        meta([NAN, NAN], [0.1, 0.2], na_action="omit")
    with pytest.raises(StatsInputError, match="na_action"):
        meta(YI, VI, na_action="pass")


R_CODE = """
lat <- as.numeric(unlist(lapply(dat$lat, function(v) if (is.null(v)) NA else v)))
alloc <- unlist(lapply(dat$alloc, function(v) if (is.null(v)) NA else v))
w <- as.numeric(unlist(lapply(dat$w, function(v) if (is.null(v)) NA else v)))
res <- suppressWarnings(rma(yi, vi, mods = ~ lat + factor(alloc), method = "REML",
                            control = list(threshold = 1e-10)))
one <- suppressWarnings(rma(yi, vi, weights = w, method = "DL"))
out <- list(b = c(res$b), se = res$se, tau2 = res$tau2, QM = res$QM, k = res$k, R2 = res$R2,
            not_na = which(!res$not.na) - 1, b1 = c(one$b), se1 = one$se, tau21 = one$tau2, k1 = one$k)
"""


@pytest.mark.metafor
def test_omit_matches_metafors_na_omit(rscript: str) -> None:
    yi, vi, lat, alloc = _knocked_out()
    w: list[float | None] = [float(n) for n in range(10, 23)]
    w[11] = None
    want = run_r(
        rscript,
        R_CODE,
        data={
            "yi": [None if math.isnan(y) else y for y in yi],
            "vi": [None if math.isnan(v) else v for v in vi],
        }
        | {"lat": lat, "alloc": alloc, "w": w},
    )
    with pytest.warns(OmittedWarning):
        reg = meta_reg(yi, vi, {"lat": lat, "alloc": alloc}, na_action="omit", control={"threshold": 1e-10})
    assert list(reg.omitted) == want["not_na"] and reg.k == want["k"]
    np.testing.assert_allclose(reg.estimates, want["b"], atol=1e-6)
    np.testing.assert_allclose(reg.se, want["se"], atol=1e-6)
    assert reg.tau2 == pytest.approx(want["tau2"], abs=1e-6)
    assert reg.qm == pytest.approx(want["QM"], abs=1e-6)
    assert reg.r2 == pytest.approx(want["R2"], abs=1e-6)
    with pytest.warns(OmittedWarning):
        one = meta(yi, vi, weights=w, method="DL", na_action="omit")
    assert one.omitted == (2, 5, 11) and one.k == want["k1"]
    assert (one.estimate, one.se, one.tau2) == pytest.approx(
        (want["b1"], want["se1"], want["tau21"]), abs=1e-9
    )
