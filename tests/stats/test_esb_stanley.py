"""TESS / PSST / TESSPSST (Stanley et al. 2021) and the UWLS average (Stanley & Doucouliagos 2015).

UWLS is checked against R itself (``lm(t ~ 0 + prec)``, and metafor's equal-effects mean, which UWLS
equals); the excess-significance p-values against metaumbrella 1.1.0's published vignette ("conduct an
umbrella review", Example 1, ``summary(umbrella(df.OR))``, column ESB_p), which uses these formulas by
default (``method.esb = "TESSPSST"``, ``true_effect = "UWLS"``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rharness import run_r
from scipy import stats as sps

from metareview.stats import meta
from metareview.stats.errors import StatsInputError
from metareview.stats.esb import tess_psst, uwls

YI = [-0.889, -1.585, -1.348, -1.442, -0.218, -0.786, -1.621, 0.012, -0.469, -1.371, -0.339, 0.446, -0.017]
SEI = [0.571, 0.442, 0.415, 0.141, 0.227, 0.086, 0.223, 0.063, 0.239, 0.272, 0.112, 0.183, 0.267]


@pytest.mark.metafor
def test_uwls_matches_r_lm_and_the_equal_effects_mean(rscript: str) -> None:
    out = run_r(rscript, "t <- yi/sei; prec <- 1/sei; f <- summary(lm(t ~ 0 + prec)); "
                "out <- list(b = unname(coef(f)[1, 1]), se = unname(coef(f)[1, 2]), "
                "ee = c(rma(yi, sei = sei, method = 'EE')$b))", data={"yi": YI, "sei": SEI})
    res = uwls(YI, SEI)
    assert res.estimate == pytest.approx(out["b"], abs=1e-12)
    assert res.estimate == pytest.approx(out["ee"], abs=1e-12)
    assert res.se == pytest.approx(out["se"], abs=1e-12)
    assert res.k == 13 and "UWLS" in str(res)


# metaumbrella vignette, Example 1 (df.OR), summary(umb.OR): ESB_p as printed (3 significant digits)
VIGNETTE_ESB_P = {"ADHD": 3.75e-01, "ASD": 1.68e-01, "dyslexia": 5.47e-01, "ID": 4.61e-01}


@pytest.mark.parametrize("factor", sorted(VIGNETTE_ESB_P))
def test_tesspsst_reproduces_the_vignette(shared_data: Path, factor: str) -> None:
    raw = pd.read_csv(shared_data / "umbrella" / "metaumbrella" / "df.OR.csv")
    rows = raw[raw.factor == factor]
    yi = np.log(rows.value.to_numpy())
    # metaumbrella: the SE of a ratio from its 95% CI on the log scale
    sei = (np.log(rows.ci_up) - np.log(rows.ci_lo)).to_numpy() / (2 * sps.norm.ppf(0.975))
    tau2 = meta(yi, sei**2, method="REML").tau2
    res = tess_psst(yi, sei, tau2=tau2, theta=uwls(yi, sei).estimate)
    assert float(f"{res.pvalue:.2e}") == VIGNETTE_ESB_P[factor]
    assert res.pvalue == min(res.p_tess, res.p_psst)
    assert tess_psst(yi, sei, tau2=tau2, theta=0.2, method="TESS").pvalue == pytest.approx(
        tess_psst(yi, sei, tau2=tau2, theta=0.2).p_tess)


def test_formulas_on_a_hand_example() -> None:
    # four studies, two significant (|z| > 1.96): 0.5/0.1 and 0.4/0.15 (z = 5, 2.67); 0.1/0.2 and 0.15/0.1 not
    res = tess_psst([0.5, 0.1, 0.4, 0.15], [0.1, 0.2, 0.15, 0.1], tau2=0.0, theta=0.3, method="PSST")
    power = [1 - sps.norm.cdf((1.96 * s - 0.3) / s) for s in (0.1, 0.2, 0.15, 0.1)]
    assert res.observed == 3 - 1 and res.expected == pytest.approx(sum(power), abs=1e-12)
    pe = sum(power) / 4
    assert res.z_psst == pytest.approx((0.5 - pe) / math.sqrt(pe * (1 - pe) / 4), abs=1e-12)
    ess = (2 - sum(power)) / 4
    assert res.z_tess == pytest.approx((ess - 0.05) / math.sqrt(0.05 * 0.95 / 4), abs=1e-12)
    assert res.p_tess == pytest.approx(sps.norm.sf(res.z_tess), abs=1e-12)
    assert len(res.to_frame()) == 4 and "PSST" in str(res) and res.to_dict()["k"] == 4


def test_given_pvalues_and_bad_input() -> None:
    res = tess_psst([0.5, 0.1], [0.1, 0.2], tau2=0.0, theta=0.3, pvalues=[0.2, float("nan")])
    assert res.significant.tolist() == [False, True]  # a missing p counts as significant (metaumbrella)
    with pytest.raises(StatsInputError, match="sei"):
        tess_psst([0.1], [0.0], tau2=0, theta=0)
    with pytest.raises(StatsInputError, match="method"):
        tess_psst([0.1], [0.1], tau2=0, theta=0, method="IT")
    with pytest.raises(StatsInputError, match="tau2"):
        tess_psst([0.1], [0.1], tau2=-1, theta=0)
    with pytest.raises(StatsInputError, match="finite"):
        uwls([0.1, float("inf")], [0.1, 0.1])
