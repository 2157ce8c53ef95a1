"""Fitting many independent models at once: the engine behind ``meta``, ``meta_reg`` and ``meta_many``.

:func:`fit_stack` fits a *stack* of independent equal/random-effects models (rows of ``y``, ``v``,
``X`` labelled by :class:`~metareview.stats.tau2.Segments`) with array operations only, so a
single model and 10,000 models go through the same code: ``meta()`` is a stack of one, and
``meta_many()`` gives exactly what ``meta()`` gives on each group.

Example::

    >>> import numpy as np
    >>> from metareview.stats import meta_many
    >>> res = meta_many([0.1, 0.3, 0.2, 0.5, 0.4], [0.01, 0.02, 0.01, 0.03, 0.02],
    ...                 ["a", "a", "a", "b", "b"], method="DL")
    >>> len(res), res["b"].k
    (2, 2)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from metareview.stats.errors import StatsInputError, check_effects, check_weights
from metareview.stats.results import FloatArray, MetaResult, format_table
from metareview.stats.tau2 import (
    Control,
    Projection,
    Segments,
    Tau2Estimate,
    estimate_tau2,
    normalize_method,
    solve_q,
)

TESTS = ("z", "t", "knha", "adhoc")
#: the tests with t/F reference distributions and k − p degrees of freedom (metafor's ``ddf``)
T_TESTS = ("t", "knha", "adhoc")
PI_METHODS = ("z", "t", "riley")
_EPS = float(np.finfo(float).eps)


# Distribution functions straight from scipy.special (scipy.stats adds ~0.1 ms of checks per call,
# which dominates a single small fit).
def _f64(value: Any) -> FloatArray:
    return np.asarray(value, dtype=np.float64)


def _norm_isf(a: float) -> FloatArray:
    return _f64(-special.ndtri(a))


def _norm_sf(x: FloatArray) -> FloatArray:
    return _f64(special.ndtr(-x))


def _t_isf(a: float, df: ArrayLike) -> FloatArray:
    return _f64(-special.stdtrit(df, a))


def _t_sf(x: FloatArray, df: ArrayLike) -> FloatArray:
    return _f64(special.stdtr(df, -x))


def _chi2_sf(x: ArrayLike, df: ArrayLike) -> FloatArray:
    return _f64(special.chdtrc(df, x))


def _chi2_isf(a: float, df: ArrayLike) -> FloatArray:
    return _f64(special.chdtri(df, a))


def _chi2_ppf(a: float, df: ArrayLike) -> FloatArray:
    return _f64(special.chdtri(df, 1 - a))


def check_options(test: str, pi: str, level: float) -> None:
    """Validate ``test``, ``pi`` and ``level`` (a percentage in [1, 100); metafor also reads 0.95 as 95%,
    which we refuse rather than guess)."""
    if test not in TESTS:
        raise StatsInputError(f"test must be one of {TESTS}, not {test!r}", field="test")
    if pi not in PI_METHODS:
        raise StatsInputError(f"pi must be one of {PI_METHODS}, not {pi!r}", field="pi")
    if not 1 <= level < 100:  # 0.95 would silently mean a 0.95% interval
        raise StatsInputError(f"level is a percentage such as 95, not {level!r}", field="level")


@dataclass(frozen=True)
class StackFit:
    """Everything fitted for a stack of ``n`` models with ``p`` coefficients (arrays indexed by model)."""

    method: str
    test: str
    pi_method: str
    level: float
    k: NDArray[np.int64]
    p: int
    beta: FloatArray
    vcov: FloatArray
    se: FloatArray
    statistic: FloatArray
    pvalue: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    ddf: FloatArray
    tau2: FloatArray
    se_tau2: FloatArray
    converged: NDArray[np.bool_]
    iterations: NDArray[np.int64]
    q: FloatArray
    q_df: NDArray[np.int64]
    q_pvalue: FloatArray
    vt: FloatArray
    i2: FloatArray
    h2: FloatArray
    i2_q: FloatArray
    h2_q: FloatArray
    tau2_ci_lower: FloatArray
    tau2_ci_upper: FloatArray
    i2_ci_lower: FloatArray
    i2_ci_upper: FloatArray
    h2_ci_lower: FloatArray
    h2_ci_upper: FloatArray
    pi_lower: FloatArray
    pi_upper: FloatArray
    weights: FloatArray


@np.errstate(divide="ignore", invalid="ignore")
def fit_stack(
    y: FloatArray,
    v: FloatArray,
    x: FloatArray,
    seg: Segments,
    *,
    method: str,
    test: str,
    pi: str,
    level: float,
    control: Control,
    tau2_est: Tau2Estimate | None = None,
    tau2_ci: bool = True,
    weights: FloatArray | None = None,
) -> StackFit:
    """Fit every model of the stack (metafor's ``rma.uni`` step by step, vectorised over models).

    ``x`` must have full column rank within each model and k ≥ p (+1 for a random-effects method).
    Divisions by zero and invalid operations give inf/NaN silently (degenerate models) and are
    handled where they matter. ``tau2_est`` passes τ² estimated elsewhere (the torch backend);
    ``tau2_ci=False`` skips the Q-profile CI of τ² (NaN), the most expensive part of a fit.
    ``weights`` (one per row, > 0) are metafor's user ``weights``: β = (X'AX)⁻¹X'Ay with the sandwich
    variance (X'AX)⁻¹X'A(V + τ²)AX(X'AX)⁻¹; the Knapp–Hartung factor still comes from the
    inverse-variance fit, as metafor's.
    """
    method = normalize_method(method)
    check_options(test, pi, level)
    p = x.shape[1]
    k = seg.k
    kf = k.astype(float)
    alpha = 1 - level / 100
    est = tau2_est if tau2_est is not None else estimate_tau2(y, v, x, seg, method, control, weights)
    tau2 = est.tau2
    rows_w = 1.0 / (v + tau2[seg.idx])
    fit = Projection(seg, x, rows_w, y)
    vcov: FloatArray = fit.m.copy()
    beta = fit.beta
    if weights is not None:
        user = Projection(seg, x, weights, y)
        beta = user.beta
        meat = seg.cross(x, x, weights * weights * (v + tau2[seg.idx]))
        vcov = np.einsum("gab,gbc,gcd->gad", user.m, meat, user.m)
    df_res = kf - p
    tdist = (test in T_TESTS) & (df_res > 0)
    if test in ("knha", "adhoc"):
        rss = fit.ypy()
        s2w = np.where(rss <= _EPS, 0.0, rss / df_res)
        if test == "adhoc":  # metafor's ad hoc correction: the Knapp-Hartung factor, at least 1
            s2w = np.maximum(s2w, 1.0)
        vcov = np.where(tdist[:, None, None], vcov * s2w[:, None, None], vcov)
    se = np.sqrt(np.einsum("gaa->ga", vcov))
    stat = beta / se
    ddf = np.where(tdist, df_res, np.nan)
    crit = np.where(tdist, _t_isf(alpha / 2, np.where(tdist, df_res, 1)), _norm_isf(alpha / 2))
    pval = np.where(
        tdist[:, None],
        2 * _t_sf(np.abs(stat), np.where(tdist, df_res, 1)[:, None]),
        2 * _norm_sf(np.abs(stat)),
    )
    ci_lo = beta - crit[:, None] * se
    ci_hi = beta + crit[:, None] * se

    ymc = y - seg.mean(y)[seg.idx]
    fe = Projection(seg, x, 1.0 / v, ymc)
    has_df = k > p
    q = np.where(has_df, np.maximum(0.0, fe.ypy()), 0.0)
    q_df = np.maximum(k - p, 0)
    q_p = np.where(has_df, _chi2_sf(q, np.maximum(q_df, 1)), 1.0)
    vt = np.where(has_df, df_res / fe.tr_p(), 0.0)
    i2_q = np.where(has_df, np.where(q > 0, np.maximum(0.0, 100 * (q - df_res) / q), 0.0), np.nan)
    h2_q = np.where(has_df, q / df_res, np.nan)
    if method == "EE":
        i2 = np.where(has_df, i2_q, 0.0)
        h2 = np.where(has_df, h2_q, 1.0)
    else:
        i2 = np.where(has_df, 100 * tau2 / (vt + tau2), 0.0)
        h2 = np.where(has_df, tau2 / vt + 1, 1.0)

    if tau2_ci:
        tlo, thi = _q_profile(y, v, x, seg, tau2, alpha, method, control)
    else:
        tlo, thi = np.full(seg.n, np.nan), np.full(seg.n, np.nan)
    pi_lo, pi_hi = _prediction_interval(beta, se, tau2, k, p, method, pi, alpha)
    used = rows_w if weights is None else weights
    return StackFit(
        method=method,
        test=test,
        pi_method=pi,
        level=level,
        k=k,
        p=p,
        beta=beta,
        vcov=vcov,
        se=se,
        statistic=stat,
        pvalue=pval,
        ci_lower=ci_lo,
        ci_upper=ci_hi,
        ddf=ddf,
        tau2=tau2,
        se_tau2=est.se_tau2,
        converged=est.converged,
        iterations=est.iterations,
        q=q,
        q_df=q_df,
        q_pvalue=q_p,
        vt=vt,
        i2=i2,
        h2=h2,
        i2_q=i2_q,
        h2_q=h2_q,
        tau2_ci_lower=tlo,
        tau2_ci_upper=thi,
        i2_ci_lower=100 * tlo / (vt + tlo),
        i2_ci_upper=100 * thi / (vt + thi),
        h2_ci_lower=tlo / vt + 1,
        h2_ci_upper=thi / vt + 1,
        pi_lower=pi_lo,
        pi_upper=pi_hi,
        weights=100 * used / seg.sum(used)[seg.idx],
    )


def _q_profile(
    y: FloatArray,
    v: FloatArray,
    x: FloatArray,
    seg: Segments,
    tau2: FloatArray,
    alpha: float,
    method: str,
    control: Control,
) -> tuple[FloatArray, FloatArray]:
    """Q-profile CI for τ² (metafor's ``confint(res)``; Viechtbauer 2007), NaN for EE and k ≤ p.

    Searched on [0, max(100, 10 τ²)]; a bound that would lie beyond is set to the search limit.
    """
    n = seg.n
    df = (seg.k - x.shape[1]).astype(float)
    active = (seg.k > x.shape[1]) & (method != "EE")
    if not active.any():
        return np.full(n, np.nan), np.full(n, np.nan)
    dfa = np.where(active, df, 1.0)
    crit_u = _chi2_isf(alpha / 2, dfa)
    crit_l = _chi2_ppf(alpha / 2, dfa)
    zero = np.zeros(n)
    upper = np.maximum(100.0, 10 * tau2)
    q0 = _q_at(y, v, x, seg, zero)
    qmax = _q_at(y, v, x, seg, upper)
    null = q0 < crit_l
    ub_cap = ~null & (qmax > crit_l)
    ub_root, _ = solve_q(seg, x, y, v, crit_l, zero, upper, active & ~null & ~ub_cap, control)
    ub = np.where(null, 0.0, np.where(ub_cap, upper, ub_root))
    lb_cap = qmax > crit_u
    lb_zero = ~lb_cap & (q0 < crit_u)
    lb_root, _ = solve_q(seg, x, y, v, crit_u, zero, upper, active & ~lb_cap & ~lb_zero, control)
    lb = np.where(lb_cap, upper, np.where(lb_zero, 0.0, lb_root))
    ub = np.where(lb_cap, upper, ub)
    return np.where(active, lb, np.nan), np.where(active, ub, np.nan)


def _q_at(y: FloatArray, v: FloatArray, x: FloatArray, seg: Segments, tau2: FloatArray) -> FloatArray:
    return Projection(seg, x, 1.0 / (v + tau2[seg.idx]), y).ypy()


def _prediction_interval(
    beta: FloatArray,
    se: FloatArray,
    tau2: FloatArray,
    k: NDArray[np.int64],
    p: int,
    method: str,
    pi: str,
    alpha: float,
) -> tuple[FloatArray, FloatArray]:
    """PI for a new study's true effect, estimate ± crit·√(se² + τ²) (metafor's ``predict``).

    ``z``: normal quantile; ``t``: t with k − 1 df; ``riley``: t with k − 2 df, at least 1 df as
    metafor's ``predict(pi.type="riley")``. NaN for an equal-effects model (metafor gives none), for
    models with moderators (p > 1), and for ``t``/``riley`` when k = 1.
    """
    nan = np.full(k.shape, np.nan)
    if p != 1 or method == "EE":
        return nan, nan
    if pi == "z":
        crit = np.full(k.shape, _norm_isf(alpha / 2))
    else:
        df = (k - p - (1 if pi == "riley" else 0)).astype(float)
        crit = np.where(k > 1, _t_isf(alpha / 2, np.maximum(df, 1.0)), np.nan)
    half = crit * np.sqrt(se[:, 0] ** 2 + tau2)
    return beta[:, 0] - half, beta[:, 0] + half


def meta_result(
    fit: StackFit,
    g: int,
    y: FloatArray,
    v: FloatArray,
    rows: NDArray[np.int64],
    *,
    user_weights: FloatArray | None = None,
    omitted: tuple[int, ...] = (),
) -> MetaResult:
    """The :class:`MetaResult` of model ``g`` of an intercept-only stack; ``rows`` are its rows
    (``user_weights``: the stack's user weights, all rows; ``omitted``: rows left out for missing values)."""

    def f(a: FloatArray) -> float:
        return float(a[g])

    return MetaResult(
        k=int(fit.k[g]),
        method=fit.method,
        test=fit.test,
        pi_method=fit.pi_method,
        level=fit.level,
        estimate=float(fit.beta[g, 0]),
        se=float(fit.se[g, 0]),
        statistic=float(fit.statistic[g, 0]),
        pvalue=float(fit.pvalue[g, 0]),
        ci_lower=float(fit.ci_lower[g, 0]),
        ci_upper=float(fit.ci_upper[g, 0]),
        tau2=f(fit.tau2),
        se_tau2=f(fit.se_tau2),
        tau=math.sqrt(f(fit.tau2)),
        i2=f(fit.i2),
        h2=f(fit.h2),
        i2_q=f(fit.i2_q),
        h2_q=f(fit.h2_q),
        q=f(fit.q),
        q_df=int(fit.q_df[g]),
        q_pvalue=f(fit.q_pvalue),
        tau2_ci_lower=f(fit.tau2_ci_lower),
        tau2_ci_upper=f(fit.tau2_ci_upper),
        i2_ci_lower=f(fit.i2_ci_lower),
        i2_ci_upper=f(fit.i2_ci_upper),
        h2_ci_lower=f(fit.h2_ci_lower),
        h2_ci_upper=f(fit.h2_ci_upper),
        pi_lower=f(fit.pi_lower),
        pi_upper=f(fit.pi_upper),
        ddf=f(fit.ddf),
        yi=y[rows],
        vi=v[rows],
        weights=fit.weights[rows],
        converged=bool(fit.converged[g]),
        iterations=int(fit.iterations[g]),
        user_weights=None if user_weights is None else user_weights[rows],
        omitted=omitted,
    )


# columns of ManyResult.to_frame(), in order (MetaResult's scalar fields)
_FRAME_FIELDS = (
    "k",
    "estimate",
    "se",
    "statistic",
    "pvalue",
    "ci_lower",
    "ci_upper",
    "tau2",
    "se_tau2",
    "tau",
    "i2",
    "h2",
    "i2_q",
    "h2_q",
    "q",
    "q_df",
    "q_pvalue",
    "tau2_ci_lower",
    "tau2_ci_upper",
    "i2_ci_lower",
    "i2_ci_upper",
    "h2_ci_lower",
    "h2_ci_upper",
    "pi_lower",
    "pi_upper",
    "converged",
    "iterations",
)


_PRINT_ROWS = 20  # ManyResult prints the first and last 10 groups when there are more


class ManyResult:
    """Many independent meta-analyses fitted at once (from :func:`meta_many`).

    ``len(res)`` models, ``res[label]`` is the :class:`MetaResult` of one group, ``res.groups`` the
    labels (sorted), ``res.to_frame()`` one row per group.
    """

    def __init__(
        self,
        fit: StackFit,
        groups: NDArray[Any],
        y: FloatArray,
        v: FloatArray,
        seg: Segments,
        user_weights: FloatArray | None = None,
    ) -> None:
        self.fit = fit
        self.groups = groups
        self.seg = seg
        self._y, self._v = y, v
        self._w = user_weights
        self._pos = {g.item() if hasattr(g, "item") else g: i for i, g in enumerate(groups)}
        self._order = np.argsort(seg.idx, kind="stable")  # rows grouped by model, in their original order
        self._starts = np.concatenate(([0], np.cumsum(seg.k)[:-1]))

    def __len__(self) -> int:
        return len(self.groups)

    def __getitem__(self, label: Any) -> MetaResult:
        try:
            g = self._pos[label]
        except KeyError:
            raise KeyError(f"no group {label!r}") from None
        start = self._starts[g]
        rows = self._order[start : start + int(self.fit.k[g])]
        return meta_result(self.fit, g, self._y, self._v, rows, user_weights=self._w)

    def column(self, name: str) -> NDArray[Any]:
        """One field for every group, as an array in the order of :attr:`groups`."""
        fit = self.fit
        if name == "tau":
            return np.sqrt(fit.tau2)
        if name in ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper"):
            return np.asarray(getattr(fit, "beta" if name == "estimate" else name)[:, 0])
        return np.asarray(getattr(fit, name))

    def to_dict(self) -> dict[str, Any]:
        """Settings plus one list per field (``groups`` first)."""
        out: dict[str, Any] = {
            "method": self.fit.method,
            "test": self.fit.test,
            "pi_method": self.fit.pi_method,
            "level": self.fit.level,
            "groups": [str(g) for g in self.groups],
        }
        out.update({name: self.column(name).tolist() for name in _FRAME_FIELDS})
        return out

    def to_frame(self) -> Any:
        """A :class:`pandas.DataFrame` with one row per group (column ``group`` first)."""
        import pandas as pd

        frame = pd.DataFrame({name: self.column(name) for name in _FRAME_FIELDS})
        frame.insert(0, "group", self.groups)
        return frame

    def __str__(self) -> str:
        head = (
            f"{len(self)} meta-analyses (tau^2 estimator: {self.fit.method}; test: {self.fit.test}; "
            f"{self.fit.level:g}% CI)\n\n"
        )
        cols = ("k", "estimate", "se", "ci_lower", "ci_upper", "pvalue", "tau2", "i2", "q_pvalue")
        values = [self.column(c) for c in cols]
        n = len(self)
        shown = (
            list(range(n))
            if n <= _PRINT_ROWS
            else [*range(_PRINT_ROWS // 2), *range(n - _PRINT_ROWS // 2, n)]
        )
        rows = [[str(self.groups[i])] + [col[i] for col in values] for i in shown]
        table = format_table(["group", *cols], rows)
        if n > _PRINT_ROWS:
            lines = table.splitlines()
            cut = 1 + _PRINT_ROWS // 2
            table = (
                "\n".join(
                    [
                        *lines[:cut],
                        f"... {n - _PRINT_ROWS} more groups (to_frame() has all) ...",
                        *lines[cut:],
                    ]
                )
                + "\n"
            )
        return head + table


def meta_many(
    yi: ArrayLike,
    vi: ArrayLike | None,
    groups: Sequence[Any] | NDArray[Any],
    *,
    sei: ArrayLike | None = None,
    method: str = "REML",
    test: str = "z",
    pi: str = "z",
    level: float = 95.0,
    control: Mapping[str, float] | None = None,
    backend: str = "numpy",
    device: str | None = None,
    tau2_ci: bool = True,
    weights: ArrayLike | None = None,
) -> ManyResult:
    """Fit one meta-analysis per group, all at once (vectorised; same numbers as :func:`meta` per group).

    ``yi``, ``vi`` (or ``sei``) and ``groups`` are long arrays of equal length; the groups come out
    sorted. Every estimator of :func:`meta` is available; iterative ones (ML, REML, EB) update all
    groups together with a per-group convergence mask.

    ``backend="torch"`` estimates τ² (EE, DL, ML, REML) with PyTorch in float64 on ``device`` (``"cpu"``
    by default, ``"cuda"`` when present; see :mod:`metareview.stats.tau2_torch`), the rest as with
    NumPy: the same numbers to 1e-10. ``tau2_ci=False`` skips the Q-profile CI of τ² (NaN columns).
    ``weights`` are user weights as in :func:`~metareview.stats.meta` (one per row; ``GENQ`` needs them);
    ``test`` may be ``"z"``, ``"t"``, ``"knha"`` or ``"adhoc"``.

    Example::

        >>> res = meta_many([0.1, 0.3, 0.2, 0.5], [0.01, 0.02, 0.01, 0.03], [1, 1, 2, 2])
        >>> res.to_frame()[["group", "k"]].values.tolist()
        [[1, 2], [2, 2]]
    """
    y, v = check_effects(yi, vi, sei)
    w = check_weights(weights, y.size)
    labels = np.asarray(groups)
    if labels.ndim != 1 or labels.size != y.size:
        raise StatsInputError(
            f"groups must have one label per effect ({y.size}), got {labels.size}", field="groups"
        )
    try:
        uniq, codes = np.unique(labels, return_inverse=True)
    except TypeError:
        uniq, codes = np.unique(labels.astype(str), return_inverse=True)
    seg = Segments.from_codes(codes.astype(np.int64).ravel(), len(uniq))
    ctrl = Control.from_mapping(control)
    tau2_est = None
    if backend == "torch":
        from metareview.stats.tau2_torch import estimate_tau2_torch

        tau2_est = estimate_tau2_torch(y, v, seg, method, ctrl, device)
    elif backend != "numpy":
        raise StatsInputError(f"backend must be 'numpy' or 'torch', not {backend!r}", field="backend")
    fit = fit_stack(
        y,
        v,
        np.ones((y.size, 1)),
        seg,
        method=method,
        test=test,
        pi=pi,
        level=level,
        control=ctrl,
        tau2_est=tau2_est,
        tau2_ci=tau2_ci,
        weights=w,
    )
    return ManyResult(fit, uniq, y, v, seg, w)


_SCALAR_FIELDS = ("method", "test", "pi_method", "level", "p")


def _joined_weights(parts: Sequence[ManyResult]) -> FloatArray | None:
    weights = [part._w for part in parts if part._w is not None]
    return np.concatenate(weights) if len(weights) == len(parts) else None


def concat_many(parts: Sequence[ManyResult]) -> ManyResult:
    """Join :class:`ManyResult` objects fitted on disjoint blocks of groups (with the same settings) into
    one, as if fitted together: groups in block order (sorted overall when the blocks were cut from the
    sorted groups). Each model's numbers are those of its block (``meta_many`` fits every model with the
    same bits alone or in a stack), so the join equals one ``meta_many`` call on all the rows.

    Example::

        >>> a = meta_many([0.1, 0.3, 0.2], [0.01, 0.02, 0.01], ["a", "a", "a"], method="DL")
        >>> b = meta_many([0.5, 0.4], [0.03, 0.02], ["b", "b"], method="DL")
        >>> both = concat_many([a, b])
        >>> both.groups.tolist(), both["b"].k
        (['a', 'b'], 2)
    """
    if not parts:
        raise StatsInputError("nothing to join: no results given", field="parts")
    first = parts[0].fit
    for part in parts[1:]:
        for name in _SCALAR_FIELDS:
            if getattr(part.fit, name) != getattr(first, name):
                raise StatsInputError(f"cannot join results fitted with different {name}", field=name)
    joined: dict[str, Any] = {name: getattr(first, name) for name in _SCALAR_FIELDS}
    for name in StackFit.__dataclass_fields__:
        if name not in joined:
            joined[name] = np.concatenate([getattr(part.fit, name) for part in parts])
    offsets = np.cumsum([0] + [part.seg.n for part in parts[:-1]])
    idx = np.concatenate([part.seg.idx + off for part, off in zip(parts, offsets, strict=True)])
    seg = Segments.from_codes(idx.astype(np.int64), int(sum(part.seg.n for part in parts)))
    return ManyResult(
        StackFit(**joined),
        np.concatenate([part.groups for part in parts]),
        np.concatenate([part._y for part in parts]),
        np.concatenate([part._v for part in parts]),
        seg,
        _joined_weights(parts),
    )


__all__ = [
    "T_TESTS",
    "TESTS",
    "ManyResult",
    "StackFit",
    "concat_many",
    "fit_stack",
    "meta_many",
    "meta_result",
]
