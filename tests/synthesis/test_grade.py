"""The algorithmic GRADE-like rating: metaumbrella 1.1.0's add.evidence(criteria = "GRADE") rules (its manual,
?add.evidence, "GRADE" classification) and the earlier four-domain simplification (rules="four-domain")."""

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
def test_four_domain_downgrades(kw: dict, level: str, down: tuple[int, int, int, int]) -> None:
    r = grade_rating(**kw, rules="four-domain")
    assert r.level == level
    assert (r.risk_of_bias, r.inconsistency, r.imprecision, r.publication_bias) == down
    assert level in str(r)


def test_risk_of_bias_not_assessed_is_said() -> None:
    r = grade_rating(i2=30, n_cases=2000, n_controls=2000, egger_p=0.4, rob_low_pct=None, rules="four-domain")
    assert r.level == "high" and not r.risk_of_bias_assessed
    assert "risk of bias not assessed" in str(r)
    assessed = grade_rating(i2=30, n_cases=2000, n_controls=2000, egger_p=0.4, rob_low_pct=80,
                            rules="four-domain")
    assert assessed.risk_of_bias_assessed
    # metaumbrella's rule: not reported means assumed high risk (-2), and it is said
    mu = grade_rating(i2=30, n_cases=2000, n_controls=2000, egger_p=0.4, rob_low_pct=None, indirectness="no",
                      ci=(0.3, 0.5), pi=(0.2, 0.6), k=10, esb_p=0.5)
    assert mu.risk_of_bias == 2 and "assumed high" in str(mu)
    on_request = grade_rating(i2=30, n_cases=2000, n_controls=2000, egger_p=0.4, rob_low_pct=None,
                              indirectness="no", ci=(0.3, 0.5), pi=(0.2, 0.6), k=10, esb_p=0.5,
                              rob_missing="not assessed")
    assert on_request.risk_of_bias == 0 and on_request.level == "high"


# metaumbrella's GRADE, rule by rule (R/functions_evidence.R; the manual's wording in each comment)
BASE = {"i2": 10.0, "n_cases": 2000, "n_controls": 2000, "egger_p": 0.5, "rob_low_pct": 90.0, "k": 10,
        "esb_p": 0.5, "indirectness": "no", "measure": "SMD", "ci": (0.3, 0.5), "pi": (0.2, 0.6)}


@pytest.mark.parametrize(
    ("change", "domain", "down"),
    [
        ({}, "risk_of_bias", 0),
        ({"rob_low_pct": 75.0}, "risk_of_bias", 0),  # >= 75% of participants in low-risk studies
        ({"rob_low_pct": 74.9}, "risk_of_bias", 1),  # 50-75%
        ({"rob_low_pct": 49.9}, "risk_of_bias", 2),  # < 50%
        ({"indirectness": "serious"}, "indirectness", 1),
        ({"indirectness": "very serious"}, "indirectness", 2),
        ({"indirectness": None}, "indirectness", 2),  # not reported: assumed very serious
        # CI above 0 (g), PI reaching below -0.10 (out of the equivalence range): CINeMA row 4a, -2
        ({"pi": (-0.3, 0.9)}, "inconsistency", 2),
        # CI above 0, PI below 0 but within [-0.10, 0): row 4b, -1
        ({"pi": (-0.05, 0.9)}, "inconsistency", 1),
        # CI within the range on both sides, PI out on both sides: row 8, -2
        ({"ci": (-0.05, 0.05), "pi": (-0.5, 0.5)}, "inconsistency", 2),
        # CI within the range on the lower side only, PI out on that side: row 6, -1
        ({"ci": (-0.05, 0.3), "pi": (-0.5, 0.4)}, "inconsistency", 1),
        # no PI (one study): I² >= 50% with >= 10% contradicting studies, -2; I² >= 30%, -1
        ({"pi": None, "i2": 60.0, "perc_contradict": 0.2}, "inconsistency", 2),
        ({"pi": None, "i2": 35.0, "perc_contradict": 0.2}, "inconsistency", 1),
        ({"pi": None, "i2": 60.0, "perc_contradict": 0.05}, "inconsistency", 0),
        # CI includes both 0 and a large effect (0.8) with >= 394 per arm: -1; with fewer than 394: -2
        ({"ci": (-0.1, 0.9)}, "imprecision", 1),
        ({"ci": (-0.1, 0.9), "n_cases": 300}, "imprecision", 2),
        ({"n_controls": 300}, "imprecision", 1),  # fewer than 394 (80% power for g = 0.2)
        ({"n_controls": 60}, "imprecision", 2),  # fewer than 64 (80% power for g = 0.5)
        ({"egger_p": 0.10}, "publication_bias", 1),  # Egger p <= .10
        ({"esb_p": 0.09}, "publication_bias", 1),  # excess significance p <= .10
        ({"report_rob_pct": 40.0}, "publication_bias", 1),  # < 50% at low risk of selective reporting
        ({"egger_p": None, "esb_p": None}, "publication_bias", 1),  # nothing known: assumed
        ({"k": 4}, "small_k", 1),  # fewer than 5 studies: moderate at best
    ],
)
def test_metaumbrella_domains(change: dict, domain: str, down: int) -> None:
    r = grade_rating(**(BASE | change))
    assert getattr(r, domain) == down, str(r)


def test_metaumbrella_levels_and_ratio_scale() -> None:
    assert grade_rating(**BASE).label == "High"
    assert grade_rating(**(BASE | {"k": 4})).label == "Moderate"
    assert grade_rating(**(BASE | {"k": 4, "egger_p": 0.01})).label == "Weak"
    assert grade_rating(**(BASE | {"k": 4, "egger_p": 0.01, "indirectness": "serious"})).label == "Very weak"
    assert grade_rating(**(BASE | {"k": 4, "egger_p": 0.01, "indirectness": "serious"})).level == "very low"
    # ratios: equivalence range 0.80-1.25 and large effect OR 5 (on the OR scale, not the log)
    ratio = BASE | {"measure": "OR", "ci": (1.5, 2.0), "pi": (0.9, 3.0)}
    assert grade_rating(**ratio).inconsistency == 1  # PI below 1 but within [0.80, 1)
    assert grade_rating(**(ratio | {"pi": (0.5, 3.0)})).inconsistency == 2
    assert grade_rating(**(ratio | {"ci": (0.9, 5.5)})).imprecision == 1
    with pytest.raises(ValueError, match="rules"):
        grade_rating(**(BASE | {"rules": "cochrane"}))


def test_indirectness_not_reported_downgrades_or_is_not_assessed_on_request() -> None:
    """metaumbrella: indirectness not reported counts as very serious (-2). A review grading its own findings
    can say "not assessed" instead: no downgrade, the domain listed, the rating provisional."""
    kw = BASE | {"indirectness": None}
    mu = grade_rating(**kw)
    assert mu.indirectness == 2 and not mu.indirectness_assessed and not mu.provisional
    assert "indirectness not reported (assumed very serious)" in str(mu)
    own = grade_rating(**kw, indirectness_missing="not assessed")
    assert own.indirectness == 0 and own.not_assessed == ("indirectness",) and own.provisional
    assert own.level == "high" and "indirectness not assessed" in str(own)
    both = grade_rating(**(kw | {"rob_low_pct": None}), rob_missing="not assessed",
                        indirectness_missing="not assessed")
    assert both.not_assessed == ("risk_of_bias", "indirectness") and both.level == "high"
    judged = grade_rating(**(kw | {"indirectness": "serious"}), indirectness_missing="not assessed")
    assert judged.indirectness == 1 and not judged.provisional  # a judgement given is used as it is
    with pytest.raises(ValueError, match="indirectness_missing"):
        grade_rating(**kw, indirectness_missing="assume")  # type: ignore[arg-type]
