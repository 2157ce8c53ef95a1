"""Published stopping methods (target, knee, budget, Poisson process, SAFE) against hand-derived values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import poisson

from metareview.errors import InputError
from metareview.screening.stopping_methods import (
    budget_method,
    knee_method,
    poisson_process,
    quant_rule,
    safe_procedure,
    slope_ratio,
    target_method,
    target_size,
)

# ------------------------------------------------------------------------------------------ target method


def test_target_size_is_the_smallest_k_with_tau_to_the_k_below_alpha():
    # 0.95^58 = 0.0510 > 0.05 >= 0.95^59 = 0.0485;  0.7^8 = 0.0576 > 0.05 >= 0.7^9 = 0.0404
    assert target_size(0.95, 0.95) == 59
    assert target_size(0.70, 0.95) == 9
    # 0.9^28 = 0.0523 > 0.05 >= 0.9^29 = 0.0471
    assert target_size(0.90, 0.95) == 29
    with pytest.raises(InputError):
        target_size(1.0, 0.95)


def test_target_method_stops_once_every_target_is_reached():
    # tau = 0.7: 9 targets. Sample: records 100..117, every other one relevant -> the 9 targets are
    # 100, 102, ..., 116 (the draw stops at the 9th relevant, record 116: 17 drawn).
    sample = np.arange(100, 117)
    s_lab = (np.arange(17) % 2 == 0).astype(int)
    assert s_lab.sum() == 9
    targets = sample[s_lab == 1]
    order = np.array([5, *targets[:8], 7, 8])  # 8 of the 9 targets reached
    lab = np.array([1, *[1] * 8, 0, 0])
    res = target_method(order, lab, 1000, sample, s_lab, 0.7, 0.95)
    assert not res.stop and "8 of the 9" in res.basis
    order2 = np.append(order, targets[8])
    res2 = target_method(order2, np.append(lab, 1), 1000, sample, s_lab, 0.7, 0.95)
    assert res2.stop and res2.sample_size == 17
    # cost: the union of the sample (17) and the prioritised records (12, 9 of them in the sample) = 20
    assert res2.screened == 20 and res2.relevant_found == 10


def test_target_method_keeps_sampling_until_k_relevant():
    sample = np.arange(10)
    res = target_method([], [], 1000, sample, [1, 0, 0, 0, 0, 0, 0, 0, 0, 1], 0.7, 0.95)
    assert not res.stop and "2 of the 9 target records found in 10 drawn" in res.basis


def test_target_method_reliability_by_simulation():
    # The claim itself: over random target draws, P(recall < tau at the stop) <= tau^k. R = 40 relevant
    # found in a fixed order; the stop is where the last of k random targets is found.
    rng = np.random.default_rng(1)
    tau, k, r = 0.7, target_size(0.7, 0.95), 40
    misses = 0
    for _ in range(4000):
        last = rng.choice(r, k, replace=False).max() + 1  # relevant found when the last target is reached
        misses += last / r < tau
    assert misses / 4000 <= tau**k + 0.01


# ------------------------------------------------------------------------------------- knee and budget


def test_knee_method_slope_ratio_by_hand():
    # 30 relevant then irrelevant: the knee is at 30 screened; rho = (30/30) / ((30 - 30 + 1)/(s - 30))
    y = [1] * 30 + [0] * 120  # s = 150: rho = 120 < 156 - 30 = 126
    rho, knee = slope_ratio(y)
    assert knee == 30 and rho == pytest.approx(120.0)
    assert not knee_method(y, 2000).stop
    y2 = [1] * 30 + [0] * 170  # s = 200: rho = 170 >= 126
    assert slope_ratio(y2)[0] == pytest.approx(170.0) and knee_method(y2, 2000).stop
    # below 150 screened it never stops, whatever rho says
    assert not knee_method([1] * 10 + [0] * 139, 2000).stop  # rho = 139 >= 146? no; and s < 150
    assert not knee_method([1] * 5 + [0] * 144, 2000).stop


def test_knee_with_a_mixed_curve():
    # rel: 1 at 1, 2 at 3, 3 at 10, then zeros to s = 200. Difference curve rel(i)/3 - i/200 peaks at i = 10
    # (1 - 0.05 = 0.95; at i = 3: 0.667 - 0.015). rho = (3/10) / (1/190) = 57.
    y = np.zeros(200, dtype=int)
    y[[0, 2, 9]] = 1
    rho, knee = slope_ratio(y)
    assert knee == 10 and rho == pytest.approx(57.0)


def test_budget_method():
    # 30 relevant then irrelevant, N = 1000: budget 10 * 1000 / 30 = 333.3 records
    assert not budget_method([1] * 30 + [0] * 270, 1000).stop  # rho = 270 >= 6 but 300 < 333.3
    assert budget_method([1] * 30 + [0] * 304, 1000).stop  # 334 screened
    assert budget_method([1, 0] * 375, 1000).stop  # no knee to speak of, but 75% screened


# ---------------------------------------------------------------------------------------- Poisson process


def test_poisson_constant_rate_by_hand():
    # One relevant in every 10 records over 500 screened of N = 5000: each of the 10 windows (50 records)
    # has rate 0.1, so the fit is a = 0.1, k = 0; Lambda = int_1^5000 0.1 dx = 499.9 relevant expected.
    y = ([1] + [0] * 9) * 50
    res = poisson_process(y, 5000, 0.95, 0.95)
    assert res.estimated_relevant == pytest.approx(poisson.ppf(0.95, 499.9), abs=1)
    # normal approximation as an independent check: 499.9 + 1.645 * sqrt(499.9) = 536.7
    assert abs(res.estimated_relevant - (499.9 + 1.645 * math.sqrt(499.9))) < 2
    assert not res.stop and res.relevant_found == 50


def test_poisson_stops_when_the_rate_has_died_out():
    y = [1] * 12 + [0, 1] * 4 + [0] * 980  # 16 relevant early, none in the last 980 of N = 1200
    res = poisson_process(y, 1200)
    assert res.stop and res.estimated_relevant is not None and res.estimated_relevant <= 16 / 0.95
    assert res.target_recall == 0.95 and res.confidence == 0.95 and "Sneyd" in res.rule


def test_poisson_needs_enough_relevant():
    res = poisson_process([1] * 4 + [0] * 500, 1000, min_relevant=5)
    assert not res.stop and "too few" in res.basis


# ----------------------------------------------------------------------------------------------- SAFE


def test_safe_conditions_by_hand():
    # N = 1000: 10% = 100 records, then 50 irrelevant in a row
    assert not safe_procedure([1] * 10 + [0] * 60, 1000).stop  # 70 < 100 screened
    assert safe_procedure([1] * 10 + [0] * 90, 1000).stop  # 100 screened, 90 in a row
    assert not safe_procedure([1] * 60 + [0] * 49, 1000).stop  # 49 in a row
    # a random set of 20 with 2 relevant: estimate 100 relevant, so 200 must be screened
    head = [0] * 18 + [1, 1]
    y = head + [1] * 10 + [0] * 169
    assert not safe_procedure(y, 1000, 20, 2).stop  # 199 screened
    res = safe_procedure([*y, 0], 1000, 20, 2)
    assert res.stop and res.estimated_relevant == pytest.approx(100.0) and res.sample_size == 20


def test_safe_extra_run():
    # the conditions first hold at 100 screened; 50 more irrelevant needed after that
    assert not safe_procedure([1] * 10 + [0] * 139, 1000, extra_run=50).stop
    assert safe_procedure([1] * 10 + [0] * 140, 1000, extra_run=50).stop
    # a relevant record after the conditions held restarts the count
    y = [1] * 10 + [0] * 100 + [1] + [0] * 49
    assert not safe_procedure(y, 1000, extra_run=50).stop
    assert safe_procedure([*y, 0], 1000, extra_run=50).stop


def test_bad_input():
    with pytest.raises(InputError):
        safe_procedure([1, 0], 100, 5, 1)  # the random set is longer than the decisions
    with pytest.raises(InputError):
        knee_method([1, 3], 100)
    with pytest.raises(InputError):
        poisson_process([1, 0], 100, target_recall=0)


# ------------------------------------------------------------------------------------- Quant / QuantCI


def test_quant_by_hand():
    # screened: p = 0.9, 0.9, 0.2 -> A = 2.0, Var(A) = 0.09 + 0.09 + 0.16 = 0.34;
    # unscreened: 0.1 x 4 -> B = 0.4, Var(B) = 4 * 0.09 = 0.36.  recall = 2 / 2.4 = 0.8333;
    # Var = (0.16 * 0.34 + 4 * 0.36) / 2.4^4 = 1.4944 / 33.1776 = 0.045043, sd = 0.21223
    res = quant_rule([1, 1, 0], [0.9, 0.9, 0.2], [0.1] * 4, target_recall=0.8, n_sd=0)
    assert res.stop and "estimated recall 0.833" in res.basis
    ci = quant_rule([1, 1, 0], [0.9, 0.9, 0.2], [0.1] * 4, target_recall=0.6, n_sd=2)
    assert not ci.stop and f"lower {0.833333 - 2 * 0.21223:.3f}" in ci.basis
    assert quant_rule([1, 1, 0], [0.9, 0.9, 0.2], [0.1] * 4, target_recall=0.4, n_sd=2).stop
    with pytest.raises(InputError):
        quant_rule([1, 0], [0.5], [0.5])
