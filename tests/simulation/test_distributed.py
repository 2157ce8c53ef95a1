"""Simulation studies and meta_many on dask.distributed (a local cluster of two worker processes):
the numbers are identical to the single-process run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from needs import skip_or_fail

from metareview.simulation import Condition, run_study
from metareview.stats import meta_many
from metareview.stats.batch import concat_many


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    try:
        import distributed  # noqa: F401

        from metareview.simulation.distributed import cluster_client
    except ModuleNotFoundError:
        skip_or_fail("dask.distributed is not installed (extra 'scale')")
    with cluster_client(n_workers=2, threads_per_worker=1, processes=True, memory_limit="1GiB") as c:
        yield c


def test_study_on_cluster_equals_single_process(client: Any) -> None:
    conds = [Condition(k=3, tau2=0.1), Condition(k=6, tau2=0.02, measure="SMD", publish_nonsig=0.3)]
    kw = {"reps": 3000, "methods": ("DL", "REML"), "tests": ("z", "knha"), "seed": 9, "chunk": 700}
    local = run_study(conds, replicates=True, **kw)
    dist = run_study(conds, client=client, replicates=True, **kw)
    assert local.results.keys() == dist.results.keys() and len(local.results) == 8
    for key, arrays in local.results.items():
        for name, arr in arrays.items():
            np.testing.assert_array_equal(arr, dist.results[key][name])
    assert local.summary().equals(dist.summary())
    # the default sends back only each chunk's sums: the same summary, bit for bit, and no replicates
    lean = run_study(conds, client=client, **kw)
    assert lean.results == {} and lean.summary().equals(local.summary())
    # the summary from the sums is the summary of the replicates
    s = local.summary().set_index(["condition", "method", "test"])
    for (i, method, test), r in local.results.items():
        c = conds[i]
        row = s.loc[(c.label(), method, test)]
        ok = np.isfinite(r["estimate"])
        err = r["estimate"][ok] - c.mu
        cover = (r["ci_lower"][ok] <= c.mu) & (c.mu <= r["ci_upper"][ok])
        assert row["reps"] == ok.sum()
        assert row["coverage"] == pytest.approx(cover.mean(), abs=1e-15)
        assert row["bias"] == pytest.approx(err.mean(), rel=1e-12)
        assert row["bias_mcse"] == pytest.approx(err.std(ddof=1) / np.sqrt(ok.sum()), rel=1e-9)
        assert row["rmse"] == pytest.approx(np.sqrt(np.mean(err**2)), rel=1e-12)


def test_meta_many_on_cluster_equals_meta_many(client: Any) -> None:
    from metareview.simulation.distributed import meta_many_distributed

    rng = np.random.default_rng(4)
    k = rng.integers(1, 12, size=500)
    groups = np.repeat(rng.permutation(500), k)  # groups not in order
    v = rng.uniform(0.01, 0.3, size=groups.size)
    y = rng.normal(0.2, 0.4, size=groups.size)
    one = meta_many(y, v, groups, method="REML", test="knha")
    many = meta_many_distributed(y, v, groups, client, blocks=7, method="REML", test="knha")
    np.testing.assert_array_equal(one.groups, many.groups)
    for name in ("estimate", "se", "ci_lower", "ci_upper", "tau2", "i2", "q", "tau2_ci_lower", "iterations"):
        np.testing.assert_array_equal(one.column(name), many.column(name))
    g = int(one.groups[17])
    np.testing.assert_array_equal(one[g].weights, many[g].weights)


def test_concat_many_needs_same_settings() -> None:
    from metareview.stats.errors import StatsInputError

    a = meta_many([0.1, 0.3], [0.01, 0.02], [1, 1], method="DL")
    b = meta_many([0.1, 0.3], [0.01, 0.02], [2, 2], method="REML")
    with pytest.raises(StatsInputError, match="method"):
        concat_many([a, b])


def _perm_stat(rng: np.random.Generator, size: int) -> np.ndarray:
    """Permutation null of a subgroup difference (DL pooled means of two groups of 6 effects)."""
    y = np.linspace(-0.3, 0.5, 12)
    v = np.linspace(0.01, 0.06, 12)
    perms = np.stack([rng.permutation(12) for _ in range(size)])
    labels = np.repeat(np.arange(size * 2), 6)
    res = meta_many(y[perms].ravel(), v[perms].ravel(), labels, method="DL")
    est = res.column("estimate").reshape(size, 2)
    return est[:, 1] - est[:, 0]


def test_permutation_draws_on_cluster_equal_local(client: Any) -> None:
    from metareview.simulation.distributed import map_draws

    local = np.concatenate(map_draws(_perm_stat, 900, seed=5, chunk=200))
    dist = np.concatenate(map_draws(_perm_stat, 900, seed=5, chunk=200, client=client))
    assert local.shape == (900,)
    np.testing.assert_array_equal(local, dist)
    # a difference of two weighted means of the effects can never exceed their range (0.8)
    assert np.all(np.abs(local) <= 0.8 + 1e-12) and np.unique(local).size > 100


def _same_permutest(a: Any, b: Any) -> None:
    assert (a.exact, a.iterations, a.seed, a.qm_pvalue) == (b.exact, b.iterations, b.seed, b.qm_pvalue)
    for name in ("pvalue", "statistic", "estimates_perm", "statistic_perm", "qm_perm"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_permutest_on_cluster_equals_local(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """metafor's permutest through the client: random sign flips, random and exact row permutations."""
    import importlib

    from metareview.stats import meta, meta_reg, permutest

    module = importlib.import_module("metareview.stats.permutest")  # the name is the function's too
    monkeypatch.setattr(module, "_CHUNK_ROWS", 6000)  # several blocks per test
    rng = np.random.default_rng(12)
    v = rng.uniform(0.01, 0.1, 12)
    y = 0.1 + rng.normal(0, np.sqrt(v + 0.03))
    fit = meta(y, v, method="REML")
    local = permutest(fit, iter=3000, seed=4)
    dist = permutest(fit, iter=3000, seed=4, client=client)
    assert not local.exact and local.iterations == 3000
    _same_permutest(local, dist)

    x = rng.normal(0, 1, 12)
    reg = meta_reg(0.3 * x + y, v, mods={"x": x}, method="DL", test="knha")
    _same_permutest(permutest(reg, iter=2500, seed=8), permutest(reg, iter=2500, seed=8, client=client))
    small = meta_reg(y[:7], v[:7], mods={"x": x[:7]}, method="REML")
    ex_local, ex_dist = permutest(small, exact=True), permutest(small, exact=True, client=client)
    assert ex_local.exact and ex_local.iterations == 5040
    _same_permutest(ex_local, ex_dist)


def test_permutest_many_on_cluster(client: Any) -> None:
    from metareview.simulation.distributed import permutest_many, permutest_seeds
    from metareview.stats import meta, permutest

    rng = np.random.default_rng(3)
    fits = []
    for k in (6, 9, 11):  # 64 sign vectors (exact), then random draws
        v = rng.uniform(0.01, 0.1, k)
        fits.append(meta(0.2 + rng.normal(0, np.sqrt(v)), v, method="DL"))
    local = permutest_many(fits, iter=500, seed=21)
    dist = permutest_many(fits, iter=500, seed=21, client=client)
    seeds = permutest_seeds(21, 3)
    assert len(set(seeds)) == 3 and [r.seed for r in local[1:]] == seeds[1:] and local[0].exact
    for a, b, fit in zip(local, dist, fits, strict=True):
        _same_permutest(a, b)
        _same_permutest(a, permutest(fit, iter=500, seed=a.seed))
