"""``meta_mv`` beyond the three-level model, without R: the likelihood engines against the dense formula,
the two engines against each other, input handling and the result's names.

(Agreement with metafor is test_parity_mv_structures.py.)
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import sparse

import metareview.stats.mvlik as mvlik
from metareview.stats import StatsInputError, meta_mv, robust, vcalc
from metareview.stats.mvlik import BlockLikelihood, NestedLikelihood


def _data(seed: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 6, 30)
    study = np.repeat(np.arange(30), sizes)
    k = study.size
    outcome = rng.integers(0, 4, k)
    vi = rng.uniform(0.01, 0.2, k)
    x = rng.normal(size=k)
    yi = (
        0.3
        + 0.2 * x
        + rng.normal(0, 0.3, 30)[study]
        + rng.normal(0, 0.25, 4)[outcome]
        + rng.normal(0, 0.2, k)
        + rng.normal(0, np.sqrt(vi))
    )
    return {"yi": yi, "vi": vi, "x": x, "study": study, "outcome": outcome, "es": np.arange(k)}


def _dense_loglik(y, x, cov, reml):
    """metafor's (restricted) log-likelihood from the full k x k marginal covariance."""
    k, p = x.shape
    inv = np.linalg.inv(cov)
    xvx = x.T @ inv @ x
    beta = np.linalg.solve(xvx, x.T @ inv @ y)
    r = y - x @ beta
    ll = -0.5 * np.linalg.slogdet(cov)[1] - 0.5 * r @ inv @ r
    if not reml:
        return ll - 0.5 * k * np.log(2 * np.pi)
    return (
        ll
        - 0.5 * (k - p) * np.log(2 * np.pi)
        + 0.5 * np.linalg.slogdet(x.T @ x)[1]
        - 0.5 * np.linalg.slogdet(xvx)[1]
    )


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_crossed_fit_maximises_the_dense_likelihood(method):
    d = _data()
    res = meta_mv(
        d["yi"],
        d["vi"],
        random=["~ 1 | study/es", "~ 1 | outcome"],
        data=d,
        mods={"x": d["x"]},
        method=method,
    )
    assert res.converged and res.s_names == ("study", "study/es", "outcome")
    reml = method == "REML"
    x = np.column_stack([np.ones(d["x"].size), d["x"]])
    best = _dense_loglik(d["yi"], x, res.marginal_vcov(), reml)
    assert res.loglik == pytest.approx(best, abs=1e-9)
    for j in range(3):
        for step in (1e-3, -1e-3):
            s = np.array(res.sigma2)
            s[j] = max(s[j] + step, 0.0)
            cov = np.diag(d["vi"]) + sum(
                sj * (c[:, None] == c[None, :]) for sj, c in zip(s, res.factor_codes, strict=True)
            )
            if not np.allclose(s, res.sigma2):
                assert _dense_loglik(d["yi"], x, cov, reml) < best


@pytest.mark.parametrize("reml", [True, False])
def test_engines_agree_and_scores_are_gradients(reml):
    d = _data(9)
    k = d["yi"].size
    x = np.column_stack([np.ones(k), d["x"]])
    idx = np.arange(k)
    nested = NestedLikelihood(d["yi"], d["vi"], x, d["study"], d["es"], reml)
    block = BlockLikelihood(d["yi"], x, (idx, idx, d["vi"]), [d["study"], d["es"]], reml)
    s = np.array([0.07, 0.03])
    a, b = nested.evaluate(s, score=True), block.evaluate(s, score=True)
    assert a.ll_reml == pytest.approx(b.ll_reml, abs=1e-10) and a.ll_ml == pytest.approx(b.ll_ml, abs=1e-10)
    assert np.allclose(a.score, b.score, atol=1e-8)
    assert nested.typical_vi() == pytest.approx(block.typical_vi(), rel=1e-12)
    # the score is the gradient (central differences) -- for a model with a low-rank (crossed) term too
    lik = BlockLikelihood(d["yi"], x, (idx, idx, d["vi"]), [d["study"], d["outcome"], d["es"]], reml)
    assert lik.lowrank == [1]  # the 4-level outcome factor goes into the Woodbury term
    s = np.array([0.05, 0.1, 0.03])
    ev = lik.evaluate(s, score=True)
    for j in range(3):
        up, dn = s.copy(), s.copy()
        up[j] += 1e-6
        dn[j] -= 1e-6
        f = (lambda e: e.ll_reml) if reml else (lambda e: e.ll_ml)
        assert ev.score[j] == pytest.approx((f(lik.evaluate(up)) - f(lik.evaluate(dn))) / 2e-6, rel=1e-5)


def test_low_rank_term_equals_dense_blocks(monkeypatch):
    d = _data(3)
    kw = dict(random=["~ 1 | study", "~ 1 | outcome"], data=d, mods={"x": d["x"]})
    with_lowrank = meta_mv(d["yi"], d["vi"], **kw)
    monkeypatch.setattr(mvlik, "_MAX_LOWRANK", 0)  # everything in one dense block
    dense = meta_mv(d["yi"], d["vi"], **kw)
    assert np.allclose(with_lowrank.sigma2, dense.sigma2, atol=1e-9)
    assert with_lowrank.loglik == pytest.approx(dense.loglik, abs=1e-10)
    assert np.allclose(with_lowrank.se_coef, dense.se_coef, atol=1e-10)


def test_v_matrix_dense_sparse_and_diagonal_agree():
    d = _data(4)
    V = vcalc(d["vi"], d["study"], obs=d["es"], rho=0.6)
    kw = dict(random="~ 1 | study/es", data=d)
    dense = meta_mv(d["yi"], V=V, **kw)
    sp = meta_mv(d["yi"], V=sparse.csr_matrix(V), **kw)
    assert np.allclose(dense.sigma2, sp.sigma2, atol=1e-12) and dense.qe == pytest.approx(sp.qe, rel=1e-12)
    # a diagonal V matrix is the vi model
    diag = meta_mv(d["yi"], V=np.diag(d["vi"]), **kw)
    vi = meta_mv(d["yi"], d["vi"], d["study"])
    assert np.allclose(diag.sigma2, vi.sigma2, atol=1e-9) and diag.loglik == pytest.approx(
        vi.loglik, abs=1e-9
    )
    # robust() on a V model: the default path needs no nesting, clubSandwich's does
    assert robust(dense, d["study"], clubsandwich=True).n_clusters == 30


def test_fixed_components_single_levels_and_names():
    d = _data(6)
    res = meta_mv(d["yi"], d["vi"], random="~ 1 | study/es", data=d, sigma2=[0.05, None])
    assert res.sigma2[0] == 0.05 and res.sigma2_fixed == (True, False)
    assert "yes" in next(line for line in str(res).splitlines() if "sigma^2.1" in line)
    everything = meta_mv(d["yi"], d["vi"], random="~ 1 | study/es", data=d, sigma2=0.02)
    assert everything.sigma2 == (0.02, 0.02) and everything.iterations == 0
    # a factor with a single level: fixed at 0 with a warning, as metafor
    one = {**d, "all": np.zeros(d["yi"].size)}
    with pytest.warns(UserWarning, match="single-level"):
        res = meta_mv(d["yi"], d["vi"], random=["~ 1 | all", "~ 1 | study"], data=one)
    assert res.sigma2[0] == 0.0 and res.sigma2_fixed[0]
    # the three-level names exist only for two components
    three = meta_mv(d["yi"], d["vi"], random=["~ 1 | study/es", "~ 1 | outcome"], data=d)
    with pytest.raises(AttributeError, match="3 components"):
        _ = three.sigma2_cluster
    assert three.n_clusters == 30 and len(three.i2) == 3
    assert three.to_dict()["sigma2"] == list(three.sigma2)
    assert "study/es" in str(three) and three.to_frame().shape == (1, 7)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"random": "~ outcome | study"}, "random"),  # inner | outer structures are not supported
        ({"random": "~ 1 | nowhere"}, "random"),
        ({"random": ["~ 1 | study", "~ 1 | study"]}, "random"),  # not identifiable
        ({"random": "~ 1 | study", "cluster": [1] * 5}, "random"),
        ({"random": "~ 1 | study", "sigma2": [0.1, 0.2]}, "sigma2"),
        ({"random": "~ 1 | study", "sigma2": -1.0}, "sigma2"),
        ({"random": "~ 1 | study", "dfs": "between"}, "dfs"),
        ({"random": "~ 1 | study", "V": np.eye(5)}, "vi"),  # both vi and V
    ],
)
def test_bad_structures_name_the_field(kwargs, field):
    data = {"study": [1, 1, 2, 2, 3], "outcome": [1, 2, 1, 2, 1]}
    with pytest.raises(StatsInputError) as err:
        meta_mv([0.1, 0.2, 0.3, 0.4, 0.5], [0.01] * 5, data=data, **kwargs)
    assert err.value.field == field


def test_bad_v_matrix():
    y = [0.1, 0.2, 0.3, 0.4]
    data = {"s": [1, 1, 2, 2]}
    with pytest.raises(StatsInputError, match="symmetric"):
        meta_mv(
            y,
            V=np.array([[1, 0.5, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]) * 0.01,
            random="~1|s",
            data=data,
        )
    with pytest.raises(StatsInputError, match="4 x 4"):
        meta_mv(y, V=np.eye(3), random="~1|s", data=data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = meta_mv(y, V=np.eye(4) * 0.01, random="~1|s", data=data)  # a clean fit warns nothing
    assert res.k == 4
