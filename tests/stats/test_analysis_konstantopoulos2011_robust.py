"""Cluster-robust inference for the three-level model of Konstantopoulos (2011), as ``help(robust)``.

The example of metafor's ``robust()`` help page: ``res <- rma.mv(yi, vi, random = ~ 1 | district/school,
data = dat.konstantopoulos2011)``, then ``robust(res, cluster = district)`` and
``robust(res, cluster = district, clubSandwich = TRUE)``; plus the REML model with the centred year as
moderator. Data: typed in ``test_analysis_konstantopoulos2011.py`` (metadat's dat.konstantopoulos2011).
Expected values: metafor 3.8.1 with clubSandwich 0.5.8 (fits with ``control = list(optCtrl =
list(rel.tol = 1e-14))``), printed to 10 digits and rounded to 4; each value says which call produced it.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_analysis_konstantopoulos2011 import DISTRICT, SCHOOL, VI, YEAR, YI

from metareview.stats import meta_mv, robust

TOL = 5e-5


@pytest.fixture(scope="module")
def reml():
    return meta_mv(YI, VI, cluster=DISTRICT, effect=SCHOOL, method="REML")


def test_robust_cr1_as_metafor(reml):
    rob = robust(reml, DISTRICT)
    assert rob.vcov_type == "CR1" and rob.n_clusters == 11
    assert rob.estimates[0] == pytest.approx(0.1847, abs=TOL)  # robust(res, cluster=district)
    assert rob.se[0] == pytest.approx(0.0845, abs=TOL)  # idem
    assert rob.statistic[0] == pytest.approx(2.1859, abs=TOL)  # idem (t)
    assert rob.df[0] == 10  # idem: 11 districts - 1
    assert rob.pvalue[0] == pytest.approx(0.0537, abs=TOL)  # idem
    assert rob.ci_lower[0] == pytest.approx(-0.0036, abs=TOL)  # idem
    assert rob.ci_upper[0] == pytest.approx(0.3730, abs=TOL)  # idem


def test_robust_cr2_satterthwaite_as_clubsandwich(reml):
    rob = robust(reml, DISTRICT, clubsandwich=True)
    assert rob.vcov_type == "CR2"
    assert rob.se[0] == pytest.approx(0.0845, abs=TOL)  # robust(res, cluster=district, clubSandwich=TRUE)
    assert rob.statistic[0] == pytest.approx(2.1870, abs=TOL)  # idem
    assert rob.df[0] == pytest.approx(9.8632, abs=TOL)  # idem (Satterthwaite)
    assert rob.pvalue[0] == pytest.approx(0.0540, abs=TOL)  # idem
    assert rob.ci_lower[0] == pytest.approx(-0.0038, abs=TOL)  # idem
    assert rob.ci_upper[0] == pytest.approx(0.3733, abs=TOL)  # idem


def test_robust_with_year_moderator():
    year = np.asarray(YEAR, dtype=float)
    res = meta_mv(YI, VI, cluster=DISTRICT, effect=SCHOOL, mods={"year": year - year.mean()})
    cr2 = robust(res, DISTRICT, clubsandwich=True)
    # robust(rma.mv(yi, vi, mods = ~ I(year - mean(year)), random = ~ 1 | district/school), district,
    # clubSandwich = TRUE)
    assert cr2.se == pytest.approx([0.0902, 0.0100], abs=TOL)
    assert cr2.df == pytest.approx([7.8404, 4.1890], abs=TOL)
    assert cr2.pvalue == pytest.approx([0.0842, 0.6223], abs=TOL)
    assert cr2.qm == pytest.approx(0.2820, abs=TOL)  # HTZ F
    assert (cr2.qm_df1, cr2.qm_df2) == (1, pytest.approx(4.1890, abs=TOL))
    assert cr2.qm_pvalue == pytest.approx(0.6223, abs=TOL)
    cr1 = robust(res, DISTRICT)  # robust(..., cluster = district)
    assert cr1.se == pytest.approx([0.0883, 0.0095], abs=TOL)
    assert cr1.qm == pytest.approx(0.3147, abs=TOL)
    assert (cr1.qm_df1, cr1.qm_df2) == (1, 9)
    assert cr1.qm_pvalue == pytest.approx(0.5885, abs=TOL)


def test_print_and_dict(reml):
    rob = robust(reml, DISTRICT, clubsandwich=True)
    text = str(rob)
    assert "clusters = 11" in text and "CR2" in text and "intrcpt" in text
    d = rob.to_dict()
    assert d["n_clusters"] == 11 and d["coefficients"][0]["df"] == pytest.approx(9.8632, abs=TOL)
