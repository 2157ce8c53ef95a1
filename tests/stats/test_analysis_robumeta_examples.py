"""robumeta's own examples: ``help(robu)`` and ``help(sensitivity)`` of robumeta 2.0.

Data: ``corrdat`` and ``hierdat`` of the R package robumeta (Fisher & Tipton 2015), read from R at test
time (172 and 68 rows; not typed in). Expected values: robumeta 2.0's ``print()`` of the help-page fits
(R 4.2.2), as printed (3 significant digits in the tables, 7 for tau.sq and I.sq):

    robu(effectsize ~ males + college + binge, data = corrdat, modelweights = "CORR",
         studynum = studyid, var.eff.size = var, rho = .8, small = TRUE)
    sensitivity(<that fit>)
    robu(effectsize ~ binge + followup + sreport + age, data = hierdat, studynum = studyid,
         var.eff.size = var, modelweights = "HIER", small = TRUE)

Each value is checked to half a unit of its last printed digit.
"""

from __future__ import annotations

import subprocess
from typing import Any

import numpy as np
import pytest
from needs import skip_or_fail
from rharness import run_r

from metareview.stats import robu, robu_sensitivity

pytestmark = pytest.mark.metafor


def _half_unit(printed: str) -> float:
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return 0.5 * 10.0**-decimals + 1e-12


def _check(got: float, printed: str) -> None:
    assert abs(got - float(printed)) <= _half_unit(printed), (got, printed)


@pytest.fixture(scope="module")
def data(rscript: str) -> Any:
    proc = subprocess.run([rscript, "-e", "library(robumeta)"], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        skip_or_fail("R package robumeta not installed (apt-get install r-cran-robumeta)")
    code = (
        "suppressMessages(library(robumeta)); data(corrdat); data(hierdat)\n"
        "out <- list(corr = corrdat, hier = hierdat)"
    )
    return run_r(rscript, code)


def _columns(rows: Any) -> dict[str, list[Any]]:
    if isinstance(rows, dict):  # column-wise already
        return rows
    return {key: [r[key] for r in rows] for key in rows[0]}


@pytest.fixture(scope="module")
def corr(data: Any) -> Any:
    c = _columns(data["corr"])
    mods = {"males": c["males"], "college": c["college"], "binge": c["binge"]}
    return robu(c["effectsize"], c["var"], c["studyid"], mods=mods, modelweights="CORR", rho=0.8, small=True)


def test_correlated_effects_example(corr: Any) -> None:
    assert corr.n_studies == 39 and corr.k == 172
    assert int(corr.study_sizes.min()) == 1 and int(corr.study_sizes.max()) == 18
    _check(corr.i2, "75.08352")  # I.sq
    _check(corr.tau2, "0.1557714")  # Tau.sq
    printed = {  # Estimate, StdErr, t-value, dfs, P(|t|>), 95% CI.L, 95% CI.U
        "intrcpt": ("0.31936", "0.28111", "1.14", "14.9", "0.2739", "-0.28018", "0.9189"),
        "males": ("-0.00331", "0.00381", "-0.87", "15.0", "0.3980", "-0.01143", "0.0048"),
        "college": ("0.41226", "0.19031", "2.17", "13.1", "0.0493", "0.00145", "0.8231"),
        "binge": ("0.13774", "0.12706", "1.08", "22.7", "0.2897", "-0.12529", "0.4008"),
    }
    for j, name in enumerate(corr.names):
        row = printed[name]
        got = (corr.estimates, corr.se, corr.statistic, corr.df, corr.pvalue, corr.ci_lower, corr.ci_upper)
        for value, text in zip(got, row, strict=True):
            _check(float(value[j]), text)


def test_sensitivity_example(corr: Any) -> None:
    sens = robu_sensitivity(corr)
    printed = [  # rows of the printed table; columns rho = 0, 0.2, ..., 1
        ("0.31942", "0.31941", "0.31939", "0.31937", "0.31936", "0.31934"),  # intercept
        ("0.28116", "0.28115", "0.28114", "0.28112", "0.28111", "0.28110"),
        ("-0.00332", "-0.00332", "-0.00332", "-0.00332", "-0.00331", "-0.00331"),  # males
        ("0.00381", "0.00381", "0.00381", "0.00381", "0.00381", "0.00381"),
        ("0.41167", "0.41182", "0.41197", "0.41211", "0.41226", "0.41241"),  # college
        ("0.19040", "0.19037", "0.19035", "0.19033", "0.19031", "0.19029"),
        ("0.13770", "0.13771", "0.13772", "0.13773", "0.13774", "0.13775"),  # binge
        ("0.12711", "0.12710", "0.12709", "0.12707", "0.12706", "0.12705"),
        ("0.15336", "0.15396", "0.15457", "0.15517", "0.15577", "0.15637"),  # Tau.sq
    ]
    inter = np.empty((6, 8))
    inter[:, 0::2], inter[:, 1::2] = sens.estimates, sens.se
    ours = np.column_stack([inter, sens.tau2]).T
    for row, texts in zip(ours, printed, strict=True):
        for value, text in zip(row, texts, strict=True):
            _check(float(value), text)


def test_hierarchical_effects_example(data: Any) -> None:
    h = _columns(data["hier"])
    mods = {name: h[name] for name in ("binge", "followup", "sreport", "age")}
    res = robu(h["effectsize"], h["var"], h["studyid"], mods=mods, modelweights="HIER", small=True)
    assert res.n_studies == 15 and res.k == 68
    _check(res.omega2, "0.1086551")  # Omega.sq
    _check(res.tau2, "0.02362071")  # Tau.sq
    printed = {
        "intrcpt": ("0.39695", "0.658006", "0.603", "3.06", "0.5882", "-1.67534", "2.46924"),
        "binge": ("0.45158", "0.101641", "4.443", "3.59", "0.0144", "0.15628", "0.74689"),
        "followup": ("0.00133", "0.000723", "1.842", "2.03", "0.2048", "-0.00173", "0.00439"),
        "sreport": ("0.53876", "0.143398", "3.757", "4.36", "0.0170", "0.15324", "0.92428"),
        "age": ("-0.04371", "0.037874", "-1.154", "2.69", "0.3404", "-0.17235", "0.08492"),
    }
    for j, name in enumerate(res.names):
        got = (res.estimates, res.se, res.statistic, res.df, res.pvalue, res.ci_lower, res.ci_upper)
        for value, text in zip(got, printed[name], strict=True):
            _check(float(value[j]), text)
