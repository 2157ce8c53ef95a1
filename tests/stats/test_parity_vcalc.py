"""Parity of ``vcalc`` with metafor's ``vcalc`` (live, one Rscript run).

Hypothesis draws 40 designs (3 to 8 clusters of 1 to 5 effect sizes) of eight kinds, each sent to
``metafor::vcalc`` with the same arguments:

* ``obs`` -- several observations per cluster, ``vcalc(vi, cluster, obs = obs, rho = r)``;
* ``type`` -- several constructs, ``type = type, rho = r``;
* ``type_obs`` -- both, ``rho = c(r_obs, r_type)``;
* ``time`` -- ``time1 = time, phi = f`` (correlation ``phi ^ |t_i - t_j|``);
* ``type_time`` -- ``type``, ``time1``, ``rho`` and ``phi``;
* ``groups`` -- several treatments against a shared control, ``grp1 = trt, grp2 = ctrl, w1 = n1, w2 = n2``;
* ``matrix`` -- ``type`` with a correlation matrix (a dimnamed matrix in R, a ``{(a, b): r}`` mapping here);
* ``subgroup`` -- ``subgroup = sub`` splitting clusters, with ``obs`` and ``rho``.

Every entry of the k x k matrix must agree within 1e-12 (dense and ``sparse=True``).
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from rharness import draw_distinct, parity_seed, run_r

from metareview.stats import StatsInputError, vcalc

pytestmark = pytest.mark.metafor

N_CASES = 40
SEED = parity_seed(20261315)
KINDS = ("obs", "type", "type_obs", "time", "type_time", "groups", "matrix", "subgroup")
TYPES = ["a", "b", "c"]


@st.composite
def design(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(KINDS))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    sizes = rng.integers(1, 6, int(rng.integers(3, 9)))
    cluster = np.repeat(np.arange(sizes.size), sizes)
    k = cluster.size
    within = np.concatenate([np.arange(s) for s in sizes])  # position in the cluster
    case: dict[str, Any] = {
        "kind": kind,
        "vi": np.round(rng.uniform(0.005, 0.3, k), 6).tolist(),
        "cluster": (cluster + 101).tolist(),
    }
    r1 = float(draw(st.sampled_from([0.2, 0.5, 0.8, -0.3])))
    r2 = float(draw(st.sampled_from([0.1, 0.4, 0.7])))
    types = [TYPES[int(t)] for t in rng.integers(0, 3, k)]
    if kind == "obs":
        case.update(obs=(within + 1).tolist(), rho=r1)
    elif kind == "type":
        case.update(type=types, rho=r1)
    elif kind == "type_obs":
        case.update(type=types, obs=(within // 2 + 1).tolist(), rho=[r1, r2])
    elif kind == "time":
        phi = float(draw(st.sampled_from([0.9, 0.5])))
        case.update(time1=(within * rng.integers(1, 4)).tolist(), phi=phi)
    elif kind == "type_time":
        case.update(type=types, time1=rng.integers(0, 4, k).tolist(), rho=r2, phi=0.8)
    elif kind == "groups":
        n1 = rng.integers(10, 80, k)
        n2 = np.repeat(rng.integers(10, 80, sizes.size), sizes)  # one control group per cluster
        case.update(
            grp1=[f"t{w + 1}" for w in within.tolist()], grp2=["c"] * k, w1=n1.tolist(), w2=n2.tolist()
        )
    elif kind == "matrix":
        case.update(type=types, rho_matrix={"ab": r2, "ac": 0.3, "bc": 0.6})
    else:  # subgroup
        case.update(subgroup=(within % 2).tolist(), obs=(within + 1).tolist(), rho=r1)
    return case


R_CODE = """
cases <- fromJSON(cases, simplifyVector = TRUE, simplifyDataFrame = FALSE)
out <- lapply(cases, function(cs) {
  args <- list(vi = cs$vi, cluster = cs$cluster)
  for (nm in c("obs", "type", "time1", "grp1", "grp2", "w1", "w2", "subgroup", "rho", "phi"))
    if (!is.null(cs[[nm]])) args[[nm]] <- cs[[nm]]
  if (!is.null(cs$rho_matrix)) {
    m <- diag(3); dimnames(m) <- list(c("a", "b", "c"), c("a", "b", "c"))
    m["a", "b"] <- m["b", "a"] <- cs$rho_matrix$ab
    m["a", "c"] <- m["c", "a"] <- cs$rho_matrix$ac
    m["b", "c"] <- m["c", "b"] <- cs$rho_matrix$bc
    args$rho <- m
  }
  V <- suppressWarnings(do.call(vcalc, args))
  unname(V)
})
"""


def _ours(case: dict[str, Any], sparse: bool = False) -> Any:
    kwargs: dict[str, Any] = {
        name: case[name]
        for name in ("obs", "type", "time1", "grp1", "grp2", "w1", "w2", "subgroup", "phi")
        if name in case
    }
    if "rho" in case:
        kwargs["rho"] = tuple(case["rho"]) if isinstance(case["rho"], list) else case["rho"]
    if "rho_matrix" in case:
        m = case["rho_matrix"]
        kwargs["rho"] = {("a", "b"): m["ab"], ("a", "c"): m["ac"], ("c", "b"): m["bc"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return vcalc(case["vi"], case["cluster"], sparse=sparse, **kwargs)


def test_vcalc_matches_metafor(rscript: str) -> None:
    cases = draw_distinct(design(), N_CASES, seed=SEED)
    assert {c["kind"] for c in cases} == set(KINDS)
    results = run_r(rscript, R_CODE, data={"cases": json.dumps(cases)})
    worst = 0.0
    for case, want in zip(cases, results, strict=True):
        got = _ours(case)
        want_arr = np.array(want, dtype=float)
        assert got.shape == want_arr.shape, case["kind"]
        worst = max(worst, float(np.max(np.abs(got - want_arr))))
        assert np.array_equal(_ours(case, sparse=True).toarray(), got)
        assert np.array_equal(got, got.T)
    assert worst <= 1e-12, worst


def test_not_positive_definite_block_warns() -> None:
    # three types with correlations 0.9, 0.9 and -0.9 cannot all hold
    rho = {("a", "b"): 0.9, ("a", "c"): 0.9, ("b", "c"): -0.9}
    with pytest.warns(UserWarning, match="not positive definite in cluster 'x'"):
        vcalc([0.1, 0.1, 0.1, 0.2], ["x", "x", "x", "y"], type=["a", "b", "c", "a"], rho=rho)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"obs": [1, 2, 1]}, "rho"),  # obs without rho
        ({"time1": [0, 1, 0]}, "phi"),  # time without phi
        ({"time1": [0, 1, 0], "phi": 1.5}, "phi"),
        ({"obs": [1, 2, 1], "rho": 1.2}, "rho"),
        ({"type": ["a", "b", "a"], "obs": [1, 2, 1], "rho": 0.5}, "rho"),  # needs a pair
        ({"type": ["a", "b", "a"], "rho": {("a", "c"): 0.5}}, "rho"),  # no entry for (a, b)
        ({"grp2": [1, 1, 1]}, "grp2"),
        ({"obs": [1, 2], "rho": 0.5}, "obs"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(StatsInputError) as err:
        vcalc([0.1, 0.2, 0.3], [1, 1, 2], **kwargs)
    assert err.value.field == field
