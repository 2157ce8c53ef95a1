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
