"""Permutation tests for ``meta`` and ``meta_reg`` fits, as metafor's ``permutest.rma.uni``.

* Intercept-only models (a :class:`MetaResult`): the signs of the effect sizes are flipped; the exact test
  uses all 2^k sign vectors.
* Meta-regression (a :class:`MetaRegResult`): the rows of the model matrix are permuted against
  (yᵢ, vᵢ); the exact test uses every *distinct* arrangement, k! / ∏ nⱼ! of them when the model matrix has
  groups of nⱼ identical rows.

Every permuted data set is refitted with the fit's τ² estimator and test (τ² re-estimated each time), as
metafor does. The p-values are metafor's defaults (``alternative="two.sided"``, ``p2defn="abs"``,
``stat="test"``): for coefficient j, the share of permutations with |zⱼ*| ≥ |zⱼ| − tol, and for the omnibus
test the share with QM* ≥ QM − tol, tol = √(machine ε) ≈ 1.5e-8 (metafor's ``comptol``). The observed
arrangement is one of the permutations counted (it is in the exact enumeration; in random mode the first
draw is replaced by it, as metafor does), so no p-value is below 1/iterations. Permutations whose refit
fails (an iterative τ² estimator that does not converge) are left out of the shares, as metafor's
``na.rm=TRUE`` leaves them out in exact mode (in random mode metafor draws a replacement; here the share is
then over fewer than ``iter`` permutations, NaN rows in ``statistic_perm``).

Random mode (more permutations than ``iter``, or ``exact=False``) draws ``iter`` sign vectors / row
permutations from ``numpy.random.default_rng(seed)``: the same seed gives the same p-values, but not the
ones R's ``set.seed`` gives (different generators); its p-values agree with the exact ones within Monte
Carlo error (binomial, sd = √(p(1−p)/iter)).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from metareview.stats.batch import fit_stack
from metareview.stats.design import INTERCEPT
from metareview.stats.errors import StatsInputError
from metareview.stats.results import FloatArray, MetaRegResult, MetaResult, format_p, format_table
from metareview.stats.tau2 import Control, Segments

COMPTOL = float(np.finfo(float).eps) ** 0.5  # metafor's control$comptol
MAX_EXACT = 5_000_000  # refuse exact tests with more refits than this
_CHUNK_ROWS = 200_000  # rows per stacked fit


@dataclass(frozen=True)
class PermutestResult:
    """Permutation p-values (metafor's ``permutest`` object).

    ``pvalue``/``qm_pvalue`` are the permutation p-values; ``statistic``/``qm`` the observed test statistics
    (z or t; QM, or F under Knapp–Hartung); ``statistic_perm`` (iterations × p), ``estimates_perm`` and
    ``qm_perm`` the permutation distributions (NaN where a refit failed); ``exact_iterations`` is the number
    of permutations an exact test needs (2^k, or the number of distinct row arrangements).
    """

    names: list[str]
    estimates: FloatArray
    statistic: FloatArray
    pvalue: FloatArray
    qm: float
    qm_df: int
    qm_pvalue: float
    exact: bool
    iterations: int
    exact_iterations: float
    seed: int | None
    estimates_perm: FloatArray
    statistic_perm: FloatArray
    qm_perm: FloatArray

    def to_dict(self) -> dict[str, Any]:
        return {
            k: (v.tolist() if isinstance(v, np.ndarray) else v)
            for k, v in self.__dict__.items()
            if not k.endswith("_perm")
        }

    def __str__(self) -> str:
        kind = "exact" if self.exact else "approximate"
        rows = [
            [n, b, z, format_p(float(p))]
            for n, b, z, p in zip(self.names, self.estimates, self.statistic, self.pvalue, strict=True)
        ]
        head = f"\nPermutation test ({kind}, {self.iterations} permutations)\n\n"
        omni = (
            f"Test of moderators: QM(df = {self.qm_df}) = {self.qm:.4f}, "
            f"p-val* = {format_p(self.qm_pvalue)}\n\n"
        )
        return head + omni + format_table(["", "estimate", "stat", "pval*"], rows) + "\n"


def permutest(
    fit: MetaResult | MetaRegResult,
    *,
    iter: int = 1000,
    exact: bool | None = None,
    seed: int | None = None,
    control: Mapping[str, float] | None = None,
    client: Any = None,
) -> PermutestResult:
    """Permutation test of a :func:`meta` or :func:`meta_reg` fit, as ``permutest(res, iter=, exact=)``.

    ``exact=None`` (metafor's default): exact when the number of permutations is at most ``iter``, else
    ``iter`` random ones; ``exact=True`` forces the exact test (refused above 5,000,000 permutations);
    ``exact=False`` forces random permutations even when an exact test is possible (metafor would then
    still go exact). ``seed`` seeds ``numpy.random.default_rng`` (None: fresh entropy, and the seed used is
    reported). ``control`` is passed to every refit (give the one the fit used). ``client``: a
    ``dask.distributed.Client`` (see :mod:`metareview.simulation.distributed`) to refit the permuted data
    sets on its workers, in the same blocks as without one, so the result is identical; the permutations
    are drawn here and sent compactly (int8 signs or row indices).

    Example::

        >>> from metareview.stats import meta, permutest
        >>> res = meta([0.1, 0.3, 0.2, 0.4], [0.01, 0.02, 0.015, 0.02], method="DL")
        >>> pt = permutest(res)
        >>> pt.exact, pt.iterations, float(pt.pvalue[0])
        (True, 16, 0.125)
    """
    if isinstance(iter, bool) or not isinstance(iter, int | np.integer) or iter < 2:
        raise StatsInputError(f"iter must be an integer >= 2, not {iter!r}", field="iter")
    ctrl = Control.from_mapping(control)
    if isinstance(fit, MetaResult):
        return _signflip(fit, int(iter), exact, seed, ctrl, client)
    if isinstance(fit, MetaRegResult):
        return _rowperm(fit, int(iter), exact, seed, ctrl, client)
    raise StatsInputError(
        f"permutest needs a meta() or meta_reg() result, not {type(fit).__name__}", field="fit"
    )


def _mode(exact: bool | None, exact_count: float, iter: int) -> bool:
    go_exact = exact_count <= iter if exact is None else bool(exact)
    if go_exact and exact_count > MAX_EXACT:
        raise StatsInputError(
            f"an exact test needs {exact_count:.4g} permutations (more than {MAX_EXACT}); "
            "use exact=None or False",
            field="exact",
        )
    return go_exact


def _seed(seed: int | None) -> int:
    return int(np.random.SeedSequence().entropy % 2**63) if seed is None else int(seed)  # type: ignore[operator]


def _signflip(
    fit: MetaResult, iter: int, exact: bool | None, seed: int | None, ctrl: Control, client: Any
) -> PermutestResult:
    y, v, k = fit.yi, fit.vi, fit.k
    count = 2.0**k
    go_exact = _mode(exact, count, iter)
    used_seed: int | None = None
    if go_exact:
        codes = np.arange(int(count), dtype=np.int64)
        signs = np.where((codes[:, None] >> np.arange(k)) & 1, np.int8(-1), np.int8(1))
    else:
        used_seed = _seed(seed)
        rng = np.random.default_rng(used_seed)
        signs = rng.choice(np.array([-1.0, 1.0]), size=(iter, k)).astype(np.int8)
        signs[0] = 1
    beta, stat, qm = _refit(
        y, v, None, signs, [0], fit.method, fit.test, fit.level, ctrl, client, fit.user_weights
    )
    obs_stat = np.array([fit.statistic])
    obs_qm = fit.statistic**2
    return _result(
        [INTERCEPT], np.array([fit.estimate]), obs_stat, obs_qm, 1, go_exact, count, used_seed, beta, stat, qm
    )


def _rowperm(
    fit: MetaRegResult, iter: int, exact: bool | None, seed: int | None, ctrl: Control, client: Any
) -> PermutestResult:
    x, y, v, k = fit.X, fit.yi, fit.vi, fit.k
    uniq, labels, counts = np.unique(x, axis=0, return_inverse=True, return_counts=True)
    labels = labels.reshape(-1)
    count = float(math.factorial(k))
    for c in counts:
        count /= math.factorial(int(c))
    count = float(round(count))
    go_exact = _mode(exact, count, iter)
    used_seed: int | None = None
    if go_exact:  # rows of the distinct model-matrix rows ``uniq``
        table, rows = uniq, np.array(list(_multiset_perms(np.sort(labels))), dtype=np.int64)
    else:  # rows of ``x``
        used_seed = _seed(seed)
        rng = np.random.default_rng(used_seed)
        rows = np.argsort(rng.random((iter, k)), axis=1)
        rows[0] = np.arange(k)
        table = x
    btt = [j for j, name in enumerate(fit.names) if name != INTERCEPT]
    beta, stat, qm = _refit(  # user weights stay with (yi, vi)
        y, v, table, rows, btt, fit.method, fit.test, fit.level, ctrl, client, fit.user_weights
    )
    return _result(
        list(fit.names),
        fit.estimates,
        fit.statistic,
        fit.qm,
        fit.qm_df,
        go_exact,
        count,
        used_seed,
        beta,
        stat,
        qm,
    )


def _multiset_perms(a: NDArray[np.int64]) -> Iterator[NDArray[np.int64]]:
    """Every distinct permutation of the sorted array ``a``, in lexicographic order."""
    a = a.copy()
    n = a.size
    while True:
        yield a.copy()
        i = n - 2
        while i >= 0 and a[i] >= a[i + 1]:
            i -= 1
        if i < 0:
            return
        j = n - 1
        while a[j] <= a[i]:
            j -= 1
        a[i], a[j] = a[j], a[i]
        a[i + 1 :] = a[i + 1 :][::-1].copy()


def _refit(
    y: FloatArray,
    v: FloatArray,
    table: FloatArray | None,
    perms: NDArray[Any],
    btt: list[int],
    method: str,
    test: str,
    level: float,
    ctrl: Control,
    client: Any = None,
    weights: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Refit every permuted data set: coefficients, z/t values and QM per data set.

    ``perms`` has one row per data set: the signs of ``y`` (``table`` None: intercept-only) or the rows
    of ``table`` that make its model matrix. The data sets are fitted in blocks of about
    ``_CHUNK_ROWS`` rows, here or (``client``) on a Dask cluster's workers; the blocks are the same
    either way, so are the results. ``weights``: the fit's user weights, one per study (None: inverse
    variance).
    """
    n, k = perms.shape
    step = max(1, _CHUNK_ROWS // k)
    jobs = [
        (y, v, table, perms[lo : min(n, lo + step)], btt, method, test, level, ctrl, weights)
        for lo in range(0, n, step)
    ]
    if client is None:
        parts = [_refit_block(job) for job in jobs]
    else:
        parts = list(client.gather(client.map(_refit_block, jobs, pure=False)))
    beta = np.concatenate([p[0] for p in parts])
    stat = np.concatenate([p[1] for p in parts])
    qm = np.concatenate([p[2] for p in parts])
    return beta, stat, qm


def _refit_block(job: tuple[Any, ...]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Fit one block of permuted data sets (a job of :func:`_refit`; module level, so picklable)."""
    y, v, table, perms, btt, method, test, level, ctrl, w = job
    m, k = perms.shape
    if table is None:
        ys = (perms * y).reshape(-1)
        xs = np.ones((m * k, 1))
    else:
        ys = np.tile(y, m)
        xs = table[perms].reshape(m * k, table.shape[1])
    seg = Segments.from_codes(np.repeat(np.arange(m, dtype=np.int64), k), m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        f = fit_stack(
            ys, np.tile(v, m), xs, seg, method=method, test=test, pi="z", level=level,
            control=ctrl, tau2_ci=False, weights=None if w is None else np.tile(w, m),
        )  # fmt: skip
        ok: NDArray[np.bool_] = f.converged & np.isfinite(f.statistic).all(axis=1)
        beta = np.where(ok[:, None], f.beta, np.nan)
        stat = np.where(ok[:, None], f.statistic, np.nan)
        qm = np.where(ok, _qm(f.beta, f.vcov, btt, test), np.nan)
    return beta, stat, qm


def _qm(beta: FloatArray, vcov: FloatArray, btt: list[int], test: str) -> FloatArray:
    """QM = b'V⁻¹b over ``btt`` per model (divided by m under Knapp–Hartung, metafor's F); NaN if singular."""
    if not btt:
        return np.full(beta.shape[0], np.nan)
    b = beta[:, btt]
    sub = vcov[:, btt][:, :, btt]
    out = np.full(beta.shape[0], np.nan)
    good = np.asarray(np.isfinite(sub).all(axis=(1, 2)) & np.isfinite(b).all(axis=1), dtype=bool)
    good = good & np.asarray(
        np.abs(np.linalg.det(np.where(good[:, None, None], sub, np.eye(len(btt))))) > 0, dtype=bool
    )
    if good.any():
        sol = np.linalg.solve(sub[good], b[good][:, :, None])[:, :, 0]
        out[good] = np.einsum("ga,ga->g", b[good], sol)
    return out / len(btt) if test == "knha" else out


def _result(
    names: list[str],
    estimates: FloatArray,
    obs_stat: FloatArray,
    obs_qm: float,
    qm_df: int,
    go_exact: bool,
    count: float,
    seed: int | None,
    beta: FloatArray,
    stat: FloatArray,
    qm: FloatArray,
) -> PermutestResult:
    if not go_exact:  # metafor puts the observed values in the first row
        qm[0] = obs_qm
        stat[0] = obs_stat
        beta[0] = estimates
    with np.errstate(invalid="ignore"):
        hits = np.abs(stat) >= np.abs(obs_stat) - COMPTOL
    valid = ~np.isnan(stat)
    pval = np.minimum(1.0, (hits & valid).sum(axis=0) / valid.sum(axis=0))
    qvalid = ~np.isnan(qm)
    qm_p = float(np.sum(qm[qvalid] >= obs_qm - COMPTOL) / qvalid.sum()) if qvalid.any() else math.nan
    return PermutestResult(
        names=names,
        estimates=np.asarray(estimates, dtype=float),
        statistic=np.asarray(obs_stat, dtype=float),
        pvalue=pval,
        qm=float(obs_qm),
        qm_df=qm_df,
        qm_pvalue=qm_p,
        exact=go_exact,
        iterations=int(stat.shape[0]),
        exact_iterations=count,
        seed=seed,
        estimates_perm=beta,
        statistic_perm=stat,
        qm_perm=qm,
    )
