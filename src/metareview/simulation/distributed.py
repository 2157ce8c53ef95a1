"""Running simulation studies and :func:`metareview.stats.meta_many` on ``dask.distributed``
(optional extra ``scale``).

* :func:`cluster_client` — a client for a local cluster (default: 2 worker processes, 1 thread each) or,
  given a scheduler address (``tcp://host:8786``), for a real cluster;
* :func:`map_tasks` — run picklable tasks on the workers and gather the results *in task order*;
* :func:`meta_many_distributed` — split the groups of a long table into contiguous blocks, fit each block
  with ``meta_many`` on a worker and join the blocks (:func:`metareview.stats.batch.concat_many`): each
  model is fitted alone-or-among-others with the same bits (``Segments.subset``), so the result equals
  the single-process ``meta_many`` exactly;
* :func:`permutest_many` — metafor's ``permutest`` for many fits (one task per fit), and
  ``stats.permutest(fit, client=client)`` for one fit with many permutations: the same results as in one
  process;
* :func:`map_draws` — any Monte Carlo or permutation distribution in seeded chunks.

Example::

    from metareview.simulation.distributed import cluster_client
    from metareview.simulation import Condition, run_study
    with cluster_client(n_workers=2) as client:
        study = run_study([Condition(k=5, tau2=0.1)], reps=100_000, client=client)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from metareview.errors import InputError


def _dask() -> Any:
    try:
        import distributed
    except ModuleNotFoundError:
        raise InputError("dask.distributed is not installed: pip install 'metareview[scale]'") from None
    return distributed


# Dask's monitoring, which a batch of CPU-bound tasks does not need: the statistical profiler samples
# every worker's threads every 10 ms, and every scheduler, nanny and worker checks its event loop every
# 20 ms and its host every 0.5 s. Measured on an idle 2-worker LocalCluster: 0.11 CPU-seconds per second
# by default, 0.014 with these settings (bench/bench_dask.py reports the CPU time of every process).
QUIET = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}


# glibc malloc settings for the worker processes (read by glibc at process start). A chunk's fit
# allocates and frees arrays of up to a few MB many times; by default glibc hands freed memory back to the
# kernel and every reuse page-faults afresh (Dask's own default, MALLOC_TRIM_THRESHOLD_=65536, made it
# worse: 3-4x the system time). Measured with chunks of 10,000 REML fits (k = 10) in one process:
# 1.6 minor page faults and 4-5 us of system time per fit by default, none with these settings, and the
# same peak RSS. The same variables speed up a single process when set before it starts (README).
MALLOC = {
    "MALLOC_MMAP_THRESHOLD_": 64 * 2**20,
    "MALLOC_TRIM_THRESHOLD_": 256 * 2**20,
    "MALLOC_TOP_PAD_": 64 * 2**20,
}


@contextmanager
def cluster_client(
    address: str | None = None,
    *,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    processes: bool = True,
    memory_limit: str | None = None,
) -> Iterator[Any]:
    """A ``dask.distributed.Client``: to the scheduler at ``address``, else to a new local cluster of
    ``n_workers`` processes of ``threads_per_worker`` threads (closed when the block ends), with Dask's
    monitoring turned down (:data:`QUIET`) and glibc's allocator told to keep freed memory
    (:data:`MALLOC`). Workers of a real cluster are set up by whoever runs it; there, too, use one thread
    per worker process, :data:`QUIET` and the :data:`MALLOC` environment variables for this workload."""
    distributed = _dask()
    if address:
        client = distributed.Client(address)
        try:
            yield client
        finally:
            client.close()
        return
    import dask

    kwargs: dict[str, Any] = {"memory_limit": memory_limit} if memory_limit else {}
    environ = {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1, **MALLOC}
    with (
        dask.config.set({"distributed.nanny.pre-spawn-environ": environ, **QUIET}),
        distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=processes,
            dashboard_address=None,
            **kwargs,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def map_tasks(client: Any, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
    """``[fn(t) for t in tasks]`` computed on the cluster's workers (results in task order)."""
    futures = client.map(fn, list(tasks), pure=False)
    return list(client.gather(futures))


def _fit_block(args: tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]) -> Any:
    from metareview.stats import meta_many

    y, v, g, kw = args
    return meta_many(y, v, g, **kw)


def meta_many_distributed(
    yi: ArrayLike,
    vi: ArrayLike,
    groups: Sequence[Any] | np.ndarray,
    client: Any,
    *,
    blocks: int | None = None,
    method: str = "REML",
    test: str = "z",
    pi: str = "z",
    level: float = 95.0,
    control: Mapping[str, float] | None = None,
) -> Any:
    """:func:`metareview.stats.meta_many` with its groups spread over the workers of ``client``.

    ``blocks`` (default: 4 per worker) contiguous blocks of the sorted groups are fitted separately and
    joined; the :class:`~metareview.stats.batch.ManyResult` is identical to the single-process one.
    """
    from metareview.stats.batch import concat_many

    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    labels = np.asarray(groups)
    if y.shape != v.shape or labels.shape != y.shape or y.ndim != 1:
        raise InputError("yi, vi and groups must be 1-d arrays of one length", field="groups")
    uniq, codes = np.unique(labels, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    y, v, labels, codes = y[order], v[order], labels[order], codes[order]
    n_blocks = blocks or 4 * max(1, len(client.scheduler_info().get("workers", {})))
    edges = np.searchsorted(
        codes, np.linspace(0, len(uniq), min(n_blocks, len(uniq)) + 1).round().astype(int)
    )
    kw = {"method": method, "test": test, "pi": pi, "level": level, "control": control}
    parts = [(y[a:b], v[a:b], labels[a:b], kw) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
    return concat_many(map_tasks(client, _fit_block, parts))


def _draw_chunk(args: tuple[Callable[[np.random.Generator, int], Any], int, int, int]) -> Any:
    fn, seed, index, size = args
    return fn(np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,))), size)


def map_draws(
    fn: Callable[[np.random.Generator, int], Any],
    n: int,
    *,
    seed: int = 0,
    chunk: int = 1000,
    client: Any | None = None,
) -> list[Any]:
    """Run ``fn(rng, size)`` over ``n`` draws in chunks, in this process or on ``client``'s workers.

    The generic path for Monte Carlo and permutation distributions (e.g. a permutation test of a
    credibility criterion or of a meta-regression moderator, ``fn`` returning the statistic of ``size``
    permutations): chunk ``i`` draws from ``SeedSequence(seed, spawn_key=(i,))``, so the results (in
    chunk order) are the same wherever they run. ``fn`` must be picklable (a module-level function).
    """
    if n < 1 or chunk < 1:
        raise InputError("n and chunk must be at least 1", field="n")
    tasks = [(fn, seed, i, min(chunk, n - start)) for i, start in enumerate(range(0, n, chunk))]
    if client is None:
        return [_draw_chunk(t) for t in tasks]
    return map_tasks(client, _draw_chunk, tasks)


def _permutest_task(args: tuple[Any, int, bool | None, int, Mapping[str, float] | None]) -> Any:
    from metareview.stats import permutest

    fit, iters, exact, seed, control = args
    return permutest(fit, iter=iters, exact=exact, seed=seed, control=control)


def permutest_seeds(seed: int, n: int) -> list[int]:
    """The seed of each of ``n`` permutation tests of one run: ``SeedSequence(seed, spawn_key=(i,))``."""
    return [
        int(np.random.SeedSequence(seed, spawn_key=(i,)).generate_state(1, np.uint64)[0]) for i in range(n)
    ]


def permutest_many(
    fits: Sequence[Any],
    *,
    iter: int = 1000,
    exact: bool | None = None,
    seed: int = 0,
    control: Mapping[str, float] | None = None,
    client: Any | None = None,
) -> list[Any]:
    """:func:`metareview.stats.permutest` of many fits (e.g. every factor of an umbrella review), one task
    per fit, here or on ``client``'s workers, with the same results either way.

    Fit ``i`` is tested with the seed ``permutest_seeds(seed, len(fits))[i]`` (reported in its result's
    ``seed``), so ``permutest(fits[i], iter=iter, seed=result.seed)`` gives the same result alone. For a
    single fit with very many permutations, use ``permutest(fit, client=client)`` instead, which spreads
    the refits of one test over the workers.

    Example (a sign-flip permutation p-value for the pooled effect of every factor)::

        from metareview.stats import meta
        fits = [meta(f.yi, f.vi, method="REML") for f in umbrella.factors]
        with cluster_client(n_workers=2) as client:
            tests = permutest_many(fits, iter=100_000, seed=1, client=client)
        pvals = [float(t.pvalue[0]) for t in tests]
    """
    seeds = permutest_seeds(seed, len(fits))
    tasks = [(fit, int(iter), exact, s, control) for fit, s in zip(fits, seeds, strict=True)]
    if client is None:
        return [_permutest_task(t) for t in tasks]
    return map_tasks(client, _permutest_task, tasks)
