"""The algorithmic GRADE-like rating (metaumbrella's add.evidence(criteria = "GRADE") rules)."""

from __future__ import annotations

import pytest

from metareview.synthesis.grade import grade_rating, power_smd


@pytest.mark.parametrize(
    ("n1", "n2", "d", "expected"),
    [  # R 4: 1 - pt(qt(.975, n1+n2-2), n1+n2-2, d/sqrt(1/n1+1/n2)) + pt(-qt(.975, n1+n2-2), n1+n2-2, ...)
        (394, 394, 0.2, 0.8006),
        (987, 1200, 0.2, 0.9965),
        (60, 70, 0.5, 0.8053),
        (30, 25, 0.5, 0.4416),
    ],
)
def test_power(n1: int, n2: int, d: float, expected: float) -> None:
    assert power_smd(n1, n2, d) == pytest.approx(expected, abs=5e-5)


@pytest.mark.metafor
def test_power_matches_r(rscript: str) -> None:
    from rharness import run_r

    out = run_r(rscript, "out <- list(p = power.t.test(n = 394, delta = 0.2)$power)")
    # power.t.test uses the same noncentral t with equal groups (its strict=FALSE drops the lower tail)
    assert power_smd(394, 394, 0.2) == pytest.approx(out["p"], abs=1e-5)


@pytest.mark.parametrize(
    ("kw", "level", "down"),
    [
        ({"i2": 30, "n_cases": 2000, "n_controls": 2000, "egger_p": 0.4, "rob_low_pct": 90}, "high",
         (0, 0, 0, 0)),
        ({"i2": 30, "n_cases": 2000, "n_controls": 2000, "egger_p": 0.4, "rob_low_pct": 60}, "moderate",
         (1, 0, 0, 0)),
        ({"i2": 70, "n_cases": 2000, "n_controls": 2000, "egger_p": 0.05, "rob_low_pct": 90}, "low",
         (0, 1, 0, 1)),
        # risk of bias not assessed: no downgrade (said so); 200 vs 200 has < 80% power for d = 0.2 (-1)
        ({"i2": 30, "n_cases": 200, "n_controls": 200, "egger_p": 0.4, "rob_low_pct": None}, "moderate",
         (0, 0, 1, 0)),
        # the earlier convention on request: not assessed counts as < 50% (-2)
        ({"i2": 30, "n_cases": 200, "n_controls": 200, "egger_p": 0.4, "rob_low_pct": None,
          "rob_missing": "downgrade"}, "very low", (2, 0, 1, 0)),
        # floor at very low; 30 vs 30: < 80% power even for d = 0.5 (-2)
        ({"i2": 80, "n_cases": 30, "n_controls": 30, "egger_p": float("nan"), "rob_low_pct": 10}, "very low",
         (2, 1, 2, 1)),
    ],
)
def test_downgrades(kw: dict, level: str, down: tuple[int, int, int, int]) -> None:
    r = grade_rating(**kw)
    assert r.level == level
    assert (r.risk_of_bias, r.inconsistency, r.imprecision, r.publication_bias) == down
    assert level in str(r)


def test_risk_of_bias_not_assessed_is_said() -> None:
    r = grade_rating(i2=30, n_cases=2000, n_controls=2000, egger_p=0.4, rob_low_pct=None)
    assert r.level == "high" and not r.risk_of_bias_assessed
    assert "risk of bias not assessed" in str(r)
    assessed = grade_rating(i2=30, n_cases=2000, n_controls=2000, egger_p=0.4, rob_low_pct=80)
    assert assessed.risk_of_bias_assessed
