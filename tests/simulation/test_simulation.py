"""Simulation studies (issue 12). Expected values are exact results of theory, not outputs of the code:

* HKSJ with equal within-study variances: every study gets the same weight whatever τ², so the estimate is
  the sample mean and the Knapp-Hartung variance is s²/k; under the normal-normal model
  (ȳ − μ)/(s/√k) ~ t(k − 1) exactly, and the 95% interval covers μ with probability 0.95 exactly
  (Hartung 1999, Biometrical Journal 41:901; Sidik & Jonkman 2002, Stat Med 21:3153).
* Hedges' g with the exact correction factor J is unbiased for δ (Hedges 1981, J Educ Stat 6:107), and
  E[s₁²/n₁ + s₂²/n₂] = 1/n₁ + 1/n₂ for unit SDs.

A published table is reproduced cell by cell in ``test_simulation_published.py`` (Friedrich et al. 2008,
Table 3). IntHout et al. 2014 (BMC Med Res Methodol 14:25) give their error rates in figures only; its
abstract's claims are checked qualitatively below, not pinned. Tolerances are multiples of the Monte
Carlo standard error.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from typer.testing import CliRunner

from metareview.cli import app
from metareview.errors import InputError
from metareview.simulation import Condition, generate, run_study
from metareview.simulation.generate import rng_for


@pytest.mark.parametrize("k", [2, 3, 5])
@pytest.mark.parametrize("tau2", [0.0, 0.1, 1.0])
def test_hksj_is_exact_with_equal_variances(k: int, tau2: float) -> None:
    reps = 20_000
    c = Condition(k=k, tau2=tau2, n_min=100, n_max=100)  # equal N: equal v_i = 4/N
    s = run_study([c], reps=reps, methods=("DL", "REML"), tests=("knha",), seed=11).summary()
    mcse = math.sqrt(0.95 * 0.05 / reps)
    for cov in s["coverage"]:
        assert abs(cov - 0.95) < 4 * mcse, cov


def test_generators_match_theory() -> None:
    rng = rng_for(5, 0, 0)
    g, _ = generate(Condition(k=4, tau2=0.0, mu=0.5, measure="SMD", n_min=10, n_max=10), 50_000, rng)
    assert abs(g.mean() - 0.5) < 4 * g.std() / math.sqrt(g.size)  # Hedges' g is unbiased
    _, v = generate(Condition(k=4, tau2=0.0, measure="MD", n_min=20, n_max=20), 50_000, rng)
    assert abs(v.mean() - (1 / 10 + 1 / 10)) < 4 * v.std() / math.sqrt(v.size)
    # selection: with mu = tau2 = 0 and known v, z ~ N(0, 1); a study is significant (one-sided 5%) with
    # probability 0.05 and a non-significant one is kept with probability 0.1, so the published share of
    # significant studies is 0.05 / (0.05 + 0.1 * 0.95)
    y, v = generate(Condition(k=3, tau2=0.0, publish_nonsig=0.1), 20_000, rng)
    share = float(np.mean(y / np.sqrt(v) > 1.6448536269514722))
    want = 0.05 / (0.05 + 0.1 * 0.95)
    assert y.shape == (20_000, 3) and abs(share - want) < 4 * math.sqrt(want * (1 - want) / y.size)
    y, v = generate(Condition(k=3, tau2=0.2, measure="OR", p0=0.1), 1000, rng)
    assert np.all(np.isfinite(y)) and np.all(v > 0)


def test_inthout_2014_direction_hksj_closer_to_nominal_than_dl() -> None:
    # IntHout et al. 2014 (abstract): HKSJ "consistently resulted in more adequate error rates than the DL
    # method", DL being worse with unequal trial sizes and heterogeneity. Scenarios in their spirit: k 3-10,
    # a quarter of the trials 10 times larger, I^2 around 50% or more.
    conds = [
        Condition(k=k, tau2=0.05, n_min=40, n_max=100, large_share=0.25, large_factor=10) for k in (4, 8)
    ]
    s = run_study(conds, reps=5000, methods=("DL",), tests=("z", "knha"), seed=3).summary()
    for _, g in s.groupby("condition"):
        err = g.set_index("test")["coverage"].rsub(1)
        assert abs(err["knha"] - 0.05) < abs(err["z"] - 0.05)
        assert err["z"] > 0.05


def test_same_seed_same_numbers_and_bias_shows() -> None:
    conds = [Condition(k=5, tau2=0.0, mu=0.0, publish_nonsig=0.2), Condition(k=5, tau2=0.0, mu=0.0)]
    a = run_study(conds, reps=3000, seed=2, chunk=1000)
    b = run_study(conds, reps=3000, seed=2, chunk=1000)
    assert a.summary().equals(b.summary())
    s = a.summary().set_index("cond_publish_nonsig")
    assert s.loc[0.2, "bias"] > 10 * s.loc[0.2, "bias_mcse"]  # small-study bias inflates the estimate
    assert abs(s.loc[1.0, "bias"]) < 4 * s.loc[1.0, "bias_mcse"]


def test_bad_condition() -> None:
    with pytest.raises(InputError, match="measure"):
        Condition(k=3, tau2=0.1, measure="HR")
    with pytest.raises(InputError, match="tau2"):
        Condition(k=3, tau2=-1)


def test_cli_writes_summary_and_plot(tmp_path) -> None:
    out = tmp_path / "sim"
    run = CliRunner().invoke(
        app,
        [
            "simulate-meta",
            "--k",
            "3,5",
            "--tau2",
            "0.1",
            "--reps",
            "200",
            "--methods",
            "DL",
            "--tests",
            "z,knha",
            "--out",
            str(out),
        ],
    )
    assert run.exit_code == 0, run.output
    assert "coverage" in run.output and (out / "plot.png").stat().st_size > 1000
    assert len((out / "summary.csv").read_text().splitlines()) == 1 + 2 * 2
