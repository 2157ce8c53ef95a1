"""metaumbrella's published classes for df.OR (its vignette; values in ../shared/data/README.md).

Pooled with REML from the 2x2 counts, I² Q-based, prediction interval with t on k - 1 df, Egger's
regression test; every number to the published 3 decimals. df.radua2019 is run too (structure only).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from metareview.synthesis.credibility import CLASSES, CredibilityCriteria, assess_umbrella
from metareview.synthesis.umbrella_input import read_umbrella

# factor: k, cases, OR, CI low, CI up, p, I² (%), PI low, PI up, Egger p, class  (metaumbrella vignette)
PUBLISHED = {
    "ADHD": (10, 987, 1.526, 1.043, 2.231, 2.94e-02, 70.886, 0.437, 5.327, 0.484, "IV"),
    "ASD": (18, 1967, 1.020, 0.778, 1.339, 8.84e-01, 67.742, 0.354, 2.939, 0.506, "ns"),
    "dyslexia": (7, 626, 1.498, 1.004, 2.236, 4.80e-02, 60.556, 0.476, 4.714, 0.229, "IV"),
    "ID": (25, 2586, 1.355, 1.078, 1.703, 9.21e-03, 67.231, 0.491, 3.741, 0.600, "IV"),
}


@pytest.fixture(scope="module")
def df_or(shared_data: Path):  # type: ignore[no-untyped-def]
    data = read_umbrella(shared_data / "umbrella" / "metaumbrella" / "df.OR.csv")
    return assess_umbrella(data, CredibilityCriteria(method="REML", pi="t", i2="q"))


@pytest.mark.parametrize("factor", sorted(PUBLISHED))
def test_df_or_matches_metaumbrella(df_or, factor: str) -> None:  # type: ignore[no-untyped-def]
    k, cases, est, lo, hi, p, i2, pil, piu, egger, klass = PUBLISHED[factor]
    a = df_or[factor]
    assert (a.k, a.n_cases) == (k, cases)
    for got, want in [(math.exp(a.estimate), est), (math.exp(a.ci_lower), lo), (math.exp(a.ci_upper), hi),
                      (math.exp(a.pi_lower), pil), (math.exp(a.pi_upper), piu), (a.egger_p, egger)]:
        assert round(got, 3) == want
    assert float(f"{a.pvalue:.2e}") == p
    assert round(a.i2, 3) == i2
    assert a.klass == klass


def test_thresholds_are_configurable(df_or) -> None:  # type: ignore[no-untyped-def]
    from metareview.synthesis.credibility import reclassify

    # with cases > 500 required instead of 1000, ID (2586 cases, p = 9.21e-3) is still IV (p >= 1e-3) ...
    loose = CredibilityCriteria(min_cases=500, p_class_iii=0.01)
    # ... but class III once p < 0.01 is enough for it
    assert reclassify(df_or["ID"], loose).klass == "III"
    assert reclassify(df_or["ADHD"], loose).klass == "IV"  # p = 0.029
    assert df_or.counts() == {"I": 0, "II": 0, "III": 0, "IV": 3, "ns": 1}
    assert "PI t" in str(df_or) or "95% PI t" in str(df_or)


def test_radua2019_runs(shared_data: Path) -> None:
    data = read_umbrella(shared_data / "umbrella" / "metaumbrella" / "df.radua2019.csv")
    table = assess_umbrella(data)
    assert len(table.assessments) == 7 and sum(table.counts().values()) == 7
    for a in table.assessments:
        assert a.klass in CLASSES
        assert (a.klass == "ns") == (a.pvalue >= 0.05)
        if a.n_cases <= 1000:
            assert a.klass in {"IV", "ns"}
    frame = table.to_frame()
    assert list(frame["name"]) == [f.name for f in data.factors]
