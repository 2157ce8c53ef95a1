"""GOSH (graphical display of study heterogeneity; Olkin, Dahabreh & Trikalinos 2012): the model refitted to
subsets of the studies, as metafor's ``gosh()`` for ``rma.uni`` fits without moderators.

Every subset is fitted with the fit's τ² estimator in one vectorised pass (:func:`~metareview.stats.meta_many`
with one group per subset), so all 2^k − 1 subsets of 15 studies (32,767 REML fits) take about a second.
Which subsets:

* all non-empty subsets when there are at most ``subsets`` of them (metafor's default ``subsets``: 10⁶,
  i.e. exact up to k = 19), in metafor's order: ``expand.grid``'s (study 1 varies fastest), then sorted by
  size (stable);
* otherwise ``subsets`` random ones drawn as metafor draws them — a size m from 1..k with probabilities
  ``dbinom(m, k, 0.5)``, then m distinct studies — from ``numpy.random.default_rng(seed)`` (so not the
  subsets of R's ``set.seed``; give R's ``res$incl`` as ``incl`` to refit exactly those);
* or exactly the rows of ``incl`` (a boolean matrix, one column per study).

A subset whose fit does not converge gives NaN in every column (metafor's ``NA`` for a failed fit) and
``converged`` False. I² and H² are those of metafor's ``gosh()``: as ``rma()`` computes them (τ²-based for
random-effects fits, Q-based for ``EE``), except that for ``DL`` metafor's shortcut reports the Q-based
H² = Q/(k − 1), below 1 when Q < k − 1 (where the τ²-based one is 1); k = 1 gives Q = 0, I² = 0, H² = 1.

Example::

    >>> from metareview.stats import meta
    >>> from metareview.stats.gosh import gosh
    >>> g = gosh(meta([0.1, 0.3, 0.5, -0.2], [0.01, 0.02, 0.03, 0.01], method="DL"))
    >>> len(g), g.exact, g.k.tolist()[:5]
    (15, True, [1, 1, 1, 1, 2])
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from metareview.stats.batch import meta_many
from metareview.stats.errors import StatsInputError
from metareview.stats.results import FloatArray, MetaResult, format_table

__all__ = ["DEFAULT_SUBSETS", "GoshResult", "gosh"]

#: metafor's default: all subsets when there are at most this many, else this many random ones
DEFAULT_SUBSETS = 1_000_000
_MAX_ROWS_PER_PASS = 2_000_000  # study rows fitted per meta_many call (bounds the memory of a pass)
_COLUMNS = ("k", "q", "i2", "h2", "tau2", "estimate")


@dataclass(frozen=True)
class GoshResult:
    """One row per subset (metafor's ``res$res``, ``res$incl`` and ``res$fit``).

    ``incl[s, i]`` says whether study i is in subset s; ``k``, ``q``, ``i2`` (%), ``h2``, ``tau2`` and
    ``estimate`` are the subset's fit (``q`` is metafor's ``QE``); ``converged`` is metafor's ``fit``.
    ``exact`` is True when every subset was fitted. ``tau2`` is 0 for ``EE`` fits.
    """

    method: str
    exact: bool
    incl: NDArray[np.bool_]
    k: NDArray[np.int64]
    q: FloatArray
    i2: FloatArray
    h2: FloatArray
    tau2: FloatArray
    estimate: FloatArray
    converged: NDArray[np.bool_]
    seed: int | None = field(default=None)

    def __len__(self) -> int:
        return int(self.k.size)

    @property
    def n_studies(self) -> int:
        """The number of studies of the full fit (columns of ``incl``)."""
        return int(self.incl.shape[1])

    def to_dict(self) -> dict[str, Any]:
        """Settings, one list per column (NaN as ``None``) and ``incl`` as lists of 0-based study indices."""
        out: dict[str, Any] = {
            "method": self.method,
            "exact": self.exact,
            "seed": self.seed,
            "n_studies": self.n_studies,
        }
        for name in _COLUMNS:
            values = getattr(self, name)
            out[name] = [None if isinstance(v, float) and math.isnan(v) else v for v in values.tolist()]
        out["converged"] = self.converged.tolist()
        out["incl"] = [np.flatnonzero(row).tolist() for row in self.incl]
        return out

    def to_frame(self) -> Any:
        """A :class:`pandas.DataFrame`, one row per subset: ``k, q, i2, h2, tau2, estimate, converged``."""
        import pandas as pd

        frame = pd.DataFrame({name: getattr(self, name) for name in _COLUMNS})
        frame["converged"] = self.converged
        return frame

    def __str__(self) -> str:
        """Laid out as metafor's ``print.gosh.rma``: fits attempted/succeeded and a summary per column."""
        ok = self.converged
        rows = []
        for name, label in zip(_COLUMNS, ("k", "Q", "I2", "H2", "tau2", "estimate"), strict=True):
            if name == "tau2" and self.method == "EE":
                continue
            v = getattr(self, name)[ok].astype(float)
            if v.size == 0:
                rows.append([label, *([math.nan] * 6)])
                continue
            # R's quantile() type 7 is numpy's default "linear"
            q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
            rows.append([label, v.mean(), v.min(), q1, med, q3, v.max()])
        kind = "all possible" if self.exact else "random"
        head = (
            f"\nModel fits attempted: {len(self)} ({kind} subsets; tau^2 estimator: {self.method})\n"
            f"Model fits succeeded: {int(ok.sum())}\n\n"
        )
        return head + format_table(["", "mean", "min", "q1", "median", "q3", "max"], rows)


def _all_subsets(k: int) -> NDArray[np.bool_]:
    """Every non-empty subset of k studies, in metafor's order: ``expand.grid`` rows (study 1 varies
    fastest, i.e. bit i of the row number), the empty row dropped, then a stable sort by size."""
    codes = np.arange(1, 2**k, dtype=np.int64)
    incl = ((codes[:, None] >> np.arange(k, dtype=np.int64)) & 1).astype(bool)
    return incl[np.argsort(incl.sum(axis=1), kind="stable")]


def _random_subsets(k: int, n: int, rng: np.random.Generator) -> NDArray[np.bool_]:
    """n random subsets: a size m ~ dbinom(m, k, 0.5) restricted to 1..k, then m distinct studies."""
    sizes = np.arange(1, k + 1)
    prob = np.array([math.comb(k, int(m)) for m in sizes], dtype=float)
    m = rng.choice(sizes, size=n, replace=True, p=prob / prob.sum())
    ranks = np.argsort(np.argsort(rng.random((n, k)), axis=1), axis=1)  # a random permutation per row
    return np.asarray(ranks < m[:, None])


def _check_incl(incl: ArrayLike, k: int) -> NDArray[np.bool_]:
    arr = np.asarray(incl)
    if arr.ndim != 2 or arr.shape[1] != k or arr.shape[0] == 0:
        raise StatsInputError(
            f"incl must be a matrix with one row per subset and {k} columns (one per study), "
            f"got shape {arr.shape}",
            field="incl",
        )
    if arr.dtype != np.bool_:
        if not np.all(np.isin(arr, (0, 1))):
            raise StatsInputError("incl must hold booleans (or 0/1)", field="incl")
        arr = arr.astype(bool)
    empty = np.flatnonzero(~arr.any(axis=1))
    if empty.size:
        raise StatsInputError("every subset needs at least one study", index=int(empty[0]), field="incl")
    return arr


def gosh(
    fit: MetaResult,
    subsets: int = DEFAULT_SUBSETS,
    *,
    seed: int | None = None,
    incl: ArrayLike | None = None,
    control: Mapping[str, float] | None = None,
) -> GoshResult:
    """Refit ``fit`` (a :func:`~metareview.stats.meta` result) to subsets of its studies: metafor's
    ``gosh(res, subsets, seed=)``.

    All 2^k − 1 subsets when there are at most ``subsets`` of them, else ``subsets`` random ones drawn
    with ``seed``; or the rows of ``incl``. ``control`` is passed to every fit (give the one the fit used).
    Rows are sorted by subset size, as metafor sorts them.
    """
    if not isinstance(fit, MetaResult):
        raise StatsInputError(
            f"gosh needs a meta() result (models without moderators), not {type(fit).__name__}",
            field="fit",
        )
    if getattr(fit, "user_weights", None) is not None:
        raise StatsInputError("gosh does not refit models with user weights", field="fit")
    k = fit.k
    if k < 2:
        raise StatsInputError("gosh needs k >= 2", field="fit")
    total = 2**k - 1
    if incl is not None:
        sets = _check_incl(incl, k)
        exact = False
    else:
        if isinstance(subsets, bool) or not isinstance(subsets, int | np.integer) or subsets < 2:
            raise StatsInputError(f"subsets must be an integer >= 2, not {subsets!r}", field="subsets")
        exact = total <= subsets
        if exact:
            sets = _all_subsets(k)
        else:
            sets = _random_subsets(k, int(subsets), np.random.default_rng(seed))
            sets = sets[np.argsort(sets.sum(axis=1), kind="stable")]
    sizes = sets.sum(axis=1).astype(np.int64)
    n = sets.shape[0]
    cols = {name: np.full(n, math.nan) for name in ("q", "i2", "h2", "tau2", "estimate")}
    converged = np.zeros(n, dtype=bool)
    start = 0
    while start < n:  # passes of at most _MAX_ROWS_PER_PASS study rows (at least one subset each)
        stop = max(start + 1, min(n, _pass_end(sizes, start)))
        block = sets[start:stop]
        rows, study = np.nonzero(block)  # row-major: subsets in order, studies in order within each
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a non-converged subset is reported as NaN
            many = meta_many(
                fit.yi[study], fit.vi[study], rows, method=fit.method, test=fit.test, level=fit.level,
                control=control, tau2_ci=False,
            )  # fmt: skip
        ok = np.asarray(many.column("converged"), dtype=bool)
        idx = np.arange(start, stop)[np.asarray(many.groups, dtype=np.int64)]
        converged[idx] = ok
        for name in cols:
            values = np.asarray(many.column(name), dtype=float)
            cols[name][idx] = np.where(ok, values, math.nan)
        if fit.method == "DL":  # metafor's gosh() shortcut for DL: Q-based H^2 (the I^2 values agree)
            kk = sizes[idx]
            with np.errstate(divide="ignore", invalid="ignore"):
                cols["h2"][idx] = np.where(kk > 1, cols["q"][idx] / (kk - 1), 1.0)
        start = stop
    return GoshResult(
        method=fit.method, exact=exact, incl=sets, k=sizes, converged=converged, seed=seed, **cols
    )


def _pass_end(sizes: NDArray[np.int64], start: int) -> int:
    """The end (exclusive) of the pass that starts at subset ``start``."""
    return int(start + np.searchsorted(np.cumsum(sizes[start:]), _MAX_ROWS_PER_PASS, side="right"))
