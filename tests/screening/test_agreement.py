"""Agreement statistics: published worked examples, and the SE formulas against simulation."""

from __future__ import annotations

import numpy as np
import pytest

from metareview.errors import InputError
from metareview.screening.agreement import cohen_kappa, counts_from_ratings, fleiss_kappa, percent_agreement

# Fleiss (1971)-style worked example as printed in the Wikipedia article "Fleiss' kappa" (10 subjects,
# 14 raters, 5 categories): P-bar = 0.378, Pe-bar = 0.213, kappa = 0.210.
WIKI_FLEISS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_cohen_kappa_worked_example():
    # Wikipedia "Cohen's kappa", worked example: 50 proposals, yes/yes 20, yes/no 5, no/yes 10, no/no 15:
    # po = 0.70, pe = 0.50, kappa = 0.40
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    res = cohen_kappa(a, b)
    assert res.percent_agreement == pytest.approx(0.70, abs=1e-12)
    assert res.estimate == pytest.approx(0.40, abs=1e-12)
    assert res.ci_lower < 0.40 < res.ci_upper
    assert "Cohen's kappa" in str(res) and res.to_frame().shape == (1, 12)


def test_fleiss_kappa_worked_example():
    res = fleiss_kappa(WIKI_FLEISS)
    assert res.percent_agreement == pytest.approx(0.378, abs=5e-4)
    assert res.estimate == pytest.approx(0.210, abs=5e-4)
    assert res.raters == 14 and res.n == 10


def _kappa(table: np.ndarray) -> float:
    p = table / table.sum()
    po, pe = np.trace(p), p.sum(1) @ p.sum(0)
    return (po - pe) / (1 - pe)


def test_cohen_se_matches_simulated_sampling_sd():
    rng = np.random.default_rng(1)
    truth = np.array([[0.45, 0.05, 0.02], [0.08, 0.25, 0.03], [0.02, 0.03, 0.07]])
    n = 400
    sims = rng.multinomial(n, truth.ravel(), size=4000).reshape(-1, 3, 3)
    sd = np.std([_kappa(t) for t in sims])
    # the formula evaluated on a table equal to the truth (expected counts)
    cells = [(i, j) for i in range(3) for j in range(3) for _ in range(int(round(truth[i, j] * n)))]
    se = cohen_kappa([c[0] for c in cells], [c[1] for c in cells]).se
    assert se == pytest.approx(sd, rel=0.05)


def test_fleiss_se_matches_simulated_sampling_sd():
    rng = np.random.default_rng(2)
    # items of three kinds, each rated by 4 raters with kind-specific category probabilities
    kinds = np.array([[0.8, 0.15, 0.05], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5]])
    n = 300
    kappas, ses = [], []
    for _ in range(1500):
        k = rng.integers(0, 3, size=n)
        counts = np.array([rng.multinomial(4, kinds[j]) for j in k])
        res = fleiss_kappa(counts)
        kappas.append(res.estimate)
        ses.append(res.se)
    assert np.mean(ses) == pytest.approx(np.std(kappas), rel=0.07)


def test_fleiss_null_test_and_counts():
    counts = counts_from_ratings([["in", "in", "out"], ["out", "out", "out"], ["in", "in", "in"]])
    assert counts.tolist() == [[2, 1], [0, 3], [3, 0]]
    res = fleiss_kappa(WIKI_FLEISS)
    assert res.z is not None and res.z > 0 and res.p_value is not None and res.p_value < 0.05


def test_bad_input():
    with pytest.raises(InputError):
        percent_agreement(["a"], ["a", "b"])
    with pytest.raises(InputError):
        cohen_kappa(["a", "a"], ["a", "a"])
    with pytest.raises(InputError):
        fleiss_kappa([[1, 1], [2, 1]])


def test_interval_stays_within_the_range_of_kappa():
    # 5 items, near-perfect agreement: kappa = 0.6154 (po = 0.8, pe = 0.48, by hand) with a Wald
    # half-width of about 0.62 (se 0.3175), so the unbounded upper limit would be about 1.24;
    # kappa cannot exceed 1
    a = ["in", "in", "ex", "ex", "in"]
    b = ["in", "in", "ex", "ex", "ex"]
    res = cohen_kappa(a, b)
    assert res.estimate == pytest.approx((0.8 - 0.48) / (1 - 0.48))
    assert res.estimate + 1.959964 * res.se > 1
    assert res.ci_upper == 1.0 and -1.0 <= res.ci_lower < res.estimate
