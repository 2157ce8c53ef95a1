"""Parity of ``fsn`` with metafor's ``fsn()`` (Rosenthal, Orwin unweighted/weighted/with target, Rosenberg),
on Hypothesis-generated data, one Rscript run; within 1e-8 relative."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from rharness import draw_distinct, parity_seed, run_r

from metareview.stats import StatsInputError, fsn

pytestmark = pytest.mark.metafor
SEED = parity_seed(20261315)


@st.composite
def dataset(draw: st.DrawFn) -> dict[str, Any]:
    k = draw(st.integers(2, 50))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    vi = rng.uniform(0.005, draw(st.sampled_from([0.05, 0.5, 3.0])), k)
    yi = draw(st.floats(-1, 1)) + rng.normal(0, np.sqrt(vi))
    return {
        "yi": yi.round(8).tolist(),
        "vi": vi.round(8).tolist(),
        "alpha": draw(st.sampled_from([0.05, 0.1])),
    }


R_CODE = """
cases <- fromJSON(cases, simplifyVector = TRUE, simplifyDataFrame = FALSE)
g <- function(r) c(r$fsnum, if (is.na(r$pval)) NA else r$pval, r$meanes, r$target)
out <- lapply(cases, function(cs) list(
  Rosenthal = g(fsn(cs$yi, cs$vi, alpha = cs$alpha)),
  Orwin = g(fsn(cs$yi, cs$vi, type = "Orwin")),
  Orwin_w = g(fsn(cs$yi, cs$vi, type = "Orwin", weighted = TRUE)),
  Orwin_t = g(fsn(cs$yi, cs$vi, type = "Orwin", target = 0.1)),
  Rosenberg = g(fsn(cs$yi, cs$vi, type = "Rosenberg", alpha = cs$alpha))))
"""


def test_fsn_matches_metafor(rscript: str) -> None:
    cases = draw_distinct(dataset(), 30, seed=SEED)
    results = run_r(rscript, R_CODE, data={"cases": json.dumps(cases)})
    failures = []
    for i, (cs, want) in enumerate(zip(cases, results, strict=True)):
        y, v, a = cs["yi"], cs["vi"], cs["alpha"]
        got = {
            "Rosenthal": fsn(y, v, alpha=a),
            "Orwin": fsn(y, type="Orwin"),
            "Orwin_w": fsn(y, v, type="Orwin", weighted=True),
            "Orwin_t": fsn(y, type="Orwin", target=0.1),
            "Rosenberg": fsn(y, v, type="Rosenberg", alpha=a),
        }
        for name, r in got.items():
            ours = np.array([r.fsnum, r.pvalue, r.meanes, r.target], dtype=float)
            ref = np.array([np.nan if x is None else x for x in want[name]], dtype=float)
            same = np.isclose(ours, ref, rtol=1e-8, atol=1e-10) | (np.isnan(ours) & np.isnan(ref))
            if not same.all():
                failures.append(f"case {i} {name}: ours {ours} metafor {ref}")
    assert not failures, "\n".join(failures[:20])


def test_fsn_bad_input() -> None:
    with pytest.raises(StatsInputError, match="type"):
        fsn([0.1, 0.2], [0.01, 0.01], type="REM")
    with pytest.raises(StatsInputError):
        fsn([0.1, 0.2], type="Rosenthal")
