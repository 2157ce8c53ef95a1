"""Parity of ``pet_peese`` with R's weighted least squares, ``lm(yi ~ sei, weights = 1/vi)`` and
``lm(yi ~ vi, weights = 1/vi)`` (Stanley & Doucouliagos 2014), and the conditional rule computed in R, on
Hypothesis-generated data in one Rscript run; within 1e-8 relative."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from rharness import draw_distinct, parity_seed, run_r

from metareview.stats import StatsInputError, pet_peese

pytestmark = pytest.mark.metafor
SEED = parity_seed(20261318)


@st.composite
def dataset(draw: st.DrawFn) -> dict[str, Any]:
    k = draw(st.integers(3, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    vi = rng.uniform(0.002, draw(st.sampled_from([0.05, 0.5])), k)
    bias = draw(st.sampled_from([0.0, 1.0, 3.0]))
    yi = draw(st.floats(-0.5, 0.5)) + bias * np.sqrt(vi) + rng.normal(0, np.sqrt(vi))
    return {"yi": yi.round(8).tolist(), "vi": vi.round(8).tolist(), "sided": draw(st.sampled_from([1, 2]))}


R_CODE = """
cases <- fromJSON(cases, simplifyVector = TRUE, simplifyDataFrame = FALSE)
out <- lapply(cases, function(cs) {
  yi <- cs$yi; vi <- cs$vi; sei <- sqrt(vi)
  pet <- summary(lm(yi ~ sei, weights = 1 / vi))$coefficients
  peese <- summary(lm(yi ~ vi, weights = 1 / vi))$coefficients
  p <- pet[1, 4] / (3 - cs$sided)
  chosen <- if (p < 0.05) peese else pet
  list(pet = c(pet), peese = c(peese), p = p, est = chosen[1, 1], se = chosen[1, 2])
})
"""


def test_pet_peese_matches_r(rscript: str) -> None:
    cases = draw_distinct(dataset(), 30, seed=SEED)
    results = run_r(rscript, R_CODE, data={"cases": json.dumps(cases)})
    failures = []
    for i, (cs, want) in enumerate(zip(cases, results, strict=True)):
        r = pet_peese(cs["yi"], cs["vi"], sided=cs["sided"])
        for name, fit in (("pet", r.pet), ("peese", r.peese)):
            ours = np.concatenate([fit.estimates, fit.se, fit.statistic, fit.pvalue])
            if not np.allclose(ours, want[name], rtol=1e-8, atol=1e-12):
                failures.append(f"case {i} {name}: ours {ours} R {want[name]}")
        got = [r.pet_pvalue, r.estimate, r.se]
        if not np.allclose(got, [want["p"], want["est"], want["se"]], rtol=1e-8, atol=1e-12):
            failures.append(f"case {i} rule: ours {got} R {want}")
    assert not failures, "\n".join(failures[:20])


def test_pet_peese_bad_input() -> None:
    with pytest.raises(StatsInputError, match="k >= 3"):
        pet_peese([0.1, 0.2], [0.01, 0.02])
    with pytest.raises(StatsInputError, match="sided"):
        pet_peese([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], sided=3)
