"""selmodel: arguments, errors and output (its numbers are checked against metafor in
test_parity_selmodel.py and test_analysis_selmodel_hackshaw1998.py)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from test_analysis_hackshaw1998 import VI, YI

from metareview.stats import StatsInputError, meta, meta_reg, selmodel
from metareview.stats.selmodel import one_sided_p


@pytest.fixture(scope="module")
def fit() -> object:
    return meta(YI, VI)  # REML: selmodel refits by ML, as metafor


def test_three_parameter_model_output(fit: object) -> None:
    sel = selmodel(fit, "stepfun", steps=[0.025])  # type: ignore[arg-type]
    assert sel.method == "ML" and sel.lrt_df == 1 and sel.delta[0] == 1.0
    assert sel.delta_fixed.tolist() == [True, False]
    assert sel.ptable.sum() == len(YI)
    assert math.isnan(sel.se_delta[0]) and sel.se_delta[1] > 0
    text = str(sel)
    assert "Test for Selection Model Parameters:" in text and "0.025 < p <= 1" in text
    frame = sel.to_frame()
    assert frame["parameter"].tolist() == ["intrcpt", "0     < p <= 0.025", "0.025 < p <= 1"]
    d = sel.to_dict()
    assert d["lrt_df"] == 1 and "vcov" not in d


def test_fixed_delta_and_equal_effects() -> None:
    ee = meta(YI, VI, method="EE")
    sel = selmodel(ee, "stepfun", steps=[0.025, 0.5], delta=[1, math.nan, 0.5])
    assert sel.method == "EE" and sel.tau2 == 0 and math.isnan(sel.se_tau2) and math.isnan(sel.lrt_tau2)
    assert sel.delta[2] == 0.5 and sel.lrt_df == 1


def test_moderators_get_a_wald_test() -> None:
    x = np.linspace(-1, 1, len(YI))
    sel = selmodel(meta_reg(YI, VI, {"x": x}, method="ML"), "stepfun", steps=[0.025])
    assert sel.names == ["intrcpt", "x"] and sel.qm_df == 1
    assert sel.qm == pytest.approx((sel.estimates[1] / sel.se[1]) ** 2)


def test_errors(fit: object) -> None:
    with pytest.raises(StatsInputError, match="needs steps"):
        selmodel(fit, "stepfun")  # type: ignore[arg-type]
    with pytest.raises(StatsInputError, match="type must be"):
        selmodel(fit, "stepfunction")  # type: ignore[arg-type]
    with pytest.raises(StatsInputError, match="no study"):  # no p-value in (0.025, 0.03] here
        selmodel(fit, "stepfun", steps=[0.025, 0.03])  # type: ignore[arg-type]
    with pytest.raises(StatsInputError, match="user weights"):
        selmodel(meta(YI, VI, weights=np.ones(len(YI))), "stepfun", steps=[0.025])
    with pytest.raises(StatsInputError, match="single step"):
        selmodel(fit, "negexp", steps=[0.025, 0.5])  # type: ignore[arg-type]
    with pytest.raises(StatsInputError, match="alternative"):
        selmodel(fit, "beta", alternative="two-sided")  # type: ignore[arg-type]
    with pytest.raises(StatsInputError, match="needs the sample sizes"):
        selmodel(fit, "negexp", prec="ninv")  # type: ignore[arg-type]
    with pytest.raises(StatsInputError, match="too few"):
        selmodel(meta(YI[:3], VI[:3]), "stepfun", steps=[0.5, 0.9])


def test_precision_scaling_runs(fit: object) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sel = selmodel(fit, "negexp", prec="sei")  # type: ignore[arg-type]
    assert np.isfinite(sel.loglik) and sel.lrt_df == 1


def test_one_sided_p_values() -> None:
    p = one_sided_p(np.array([1.96, -1.96]), np.array([1.0, 1.0]), "greater")
    assert p == pytest.approx([0.0249979, 0.9750021], abs=1e-7)
    assert one_sided_p(np.array([-1.96]), np.array([1.0]), "two.sided")[0] == pytest.approx(
        0.0499958, abs=1e-7
    )
