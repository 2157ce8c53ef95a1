"""τ² (between-study variance) estimators, vectorised over many independent models at once.

Every function here works on a *stack* of independent models: long arrays ``y``, ``v``, a model
matrix ``X`` (rows = studies) and a :class:`Segments` object that says which model each row belongs
to. A single model is a stack of one. All sums are segment sums (:func:`numpy.bincount`), so fitting
10,000 meta-analyses costs a few dozen array operations per iteration, not 10,000 Python calls.

The estimators and their defaults are metafor's (``rma.uni``, version 3.8-1; Viechtbauer 2010,
J Stat Softw 36(3)):

* ``EE`` (alias ``FE``): τ² = 0.
* ``DL`` DerSimonian–Laird, ``HE`` Hedges (OLS moment), ``HS`` Hunter–Schmidt, ``HSk`` Hunter–Schmidt
  with the small-sample factor k/(k − p) on Q, ``SJ`` Sidik–Jonkman (started from the variance of the yi
  with divisor k): closed forms.
* ``GENQ`` the generalised Q-statistic (method-of-moments) estimator with user weights ``a``
  (DerSimonian & Kacker 2007): (Q_a − tr(P_a V)) / tr(P_a); needs ``weights``, as metafor.
* ``ML``, ``REML``, ``EB`` (empirical Bayes): Fisher scoring started from the truncated HE value,
  with step halving at the τ² = 0 boundary; stop when the change is ≤ ``threshold`` (1e-5), at most
  ``maxiter`` (100) steps; for ML/REML the final value is checked against τ² = 0 (metafor's
  ``ll0check``).
* ``PM`` Paule–Mandel: the root of the generalised Q-statistic Q(τ²) = k − p, searched on
  [0, max(100, 10·mad(y)²)]; ``PMM`` the median-unbiased variant: Q(τ²) = the median of χ²(k − p).

Root finding (PM and the Q-profile interval) uses a safeguarded Newton iteration on Q(τ²), whose
derivative is −y'P²y; it is solved to a relative tolerance of ``tol`` (1e-12), tighter than
metafor's ``uniroot`` default (``.Machine$double.eps^0.25``); so PM τ² and Q-profile bounds agree
with metafor run with ``control=list(tol=1e-12)`` and may differ in the 5th decimal from metafor's
default output.

Example::

    >>> import numpy as np
    >>> seg = Segments.single(3)
    >>> est = estimate_tau2(np.array([0.1, 0.5, 0.9]), np.array([0.01, 0.02, 0.03]),
    ...                     np.ones((3, 1)), seg, "DL")
    >>> round(float(est.tau2[0]), 4)
    0.1417
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from scipy import special

from metareview.stats.errors import StatsInputError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

METHODS = ("EE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM", "PMM", "GENQ")
_ALIASES = {"FE": "EE"}
_BY_UPPER = {m.upper(): m for m in METHODS}
# metafor's ``.Machine$double.eps^0.25``: the ll0check tolerance
_LL_TOL = float(np.finfo(float).eps ** 0.25)


def normalize_method(method: str) -> str:
    """Return the canonical method code (``"FE"`` -> ``"EE"``); raise on an unknown code."""
    code = _ALIASES.get(method.upper(), _BY_UPPER.get(method.upper(), method))
    if code not in METHODS:
        raise StatsInputError(
            f"unknown method {method!r}; use one of {', '.join(METHODS)} (or FE)", field="method"
        )
    return code


@dataclass(frozen=True)
class Control:
    """Iteration settings (metafor's ``control=``): ``threshold``, ``maxiter``, ``tol``, ``stepadj``."""

    threshold: float = 1e-5
    maxiter: int = 100
    tol: float = 1e-12
    stepadj: float = 1.0

    @classmethod
    def from_mapping(cls, control: Mapping[str, float] | None) -> Control:
        """Build from a user's ``control`` dict, rejecting unknown keys."""
        if not control:
            return cls()
        known = {"threshold", "maxiter", "tol", "stepadj"}
        unknown = sorted(set(control) - known)
        if unknown:
            raise StatsInputError(
                f"unknown control setting(s) {unknown}; known: {sorted(known)}", field="control"
            )
        return cls(
            threshold=float(control.get("threshold", cls.threshold)),
            maxiter=int(control.get("maxiter", cls.maxiter)),
            tol=float(control.get("tol", cls.tol)),
            stepadj=float(control.get("stepadj", cls.stepadj)),
        )


@dataclass(frozen=True)
class Segments:
    """Which model each row belongs to: ``idx[i]`` in ``0..n-1``; ``k[g]`` rows in model ``g``."""

    idx: IntArray
    n: int
    k: IntArray

    @classmethod
    def from_codes(cls, idx: IntArray, n: int) -> Segments:
        """Segments from integer codes ``0..n-1`` (one per row)."""
        return cls(idx=idx, n=n, k=np.bincount(idx, minlength=n).astype(np.int64))

    @classmethod
    def single(cls, k: int) -> Segments:
        """One model of ``k`` rows."""
        return cls.from_codes(np.zeros(k, dtype=np.int64), 1)

    def sum(self, x: FloatArray) -> FloatArray:
        """Per-model sums of the row values ``x``."""
        return np.bincount(self.idx, weights=x, minlength=self.n).astype(np.float64)

    def mean(self, x: FloatArray) -> FloatArray:
        """Per-model arithmetic means of ``x``."""
        return self.sum(x) / self.k

    def cross(self, a: FloatArray, b: FloatArray, w: FloatArray) -> FloatArray:
        """Per-model ``Σ w a bᵀ`` for row matrices ``a`` (rows × p) and ``b`` (rows × q): (n, p, q)."""
        out = np.empty((self.n, a.shape[1], b.shape[1]))
        for i in range(a.shape[1]):
            for j in range(b.shape[1]):
                out[:, i, j] = self.sum(w * a[:, i] * b[:, j])
        return out

    def subset(self, models: IntArray) -> tuple[Segments, BoolArray]:
        """The stack restricted to ``models`` (sorted indices), and the mask of their rows.

        Rows keep their order, so every segment sum of a model is computed exactly as on the full
        stack: fitting a model alone or among thousands gives the same bits.
        """
        code = np.full(self.n, -1, dtype=np.int64)
        code[models] = np.arange(models.size)
        rows = code[self.idx] >= 0
        return Segments(idx=code[self.idx[rows]], n=int(models.size), k=self.k[models]), rows

    def median(self, x: FloatArray) -> FloatArray:
        """Per-model medians (R's ``median``: the mean of the two middle values for even k)."""
        order = np.lexsort((x, self.idx))
        xs = x[order]
        start = np.concatenate(([0], np.cumsum(self.k)[:-1]))
        lo = start + (self.k - 1) // 2
        hi = start + self.k // 2
        return 0.5 * (xs[lo] + xs[hi])


def _tr_square(m: FloatArray, a: FloatArray) -> FloatArray:
    """Per-model ``tr((M A)²)`` for stacks of p×p matrices."""
    c = m @ a
    out: FloatArray = np.einsum("gab,gba->g", c, c)
    return out


class Projection:
    """The residual projector ``P = W − W X (X'WX)⁻¹ X'W`` of each model, via O(k·p²) sums.

    Nothing k×k is formed: traces and quadratic forms come from per-model p×p matrices.
    ``y`` enters only through ``beta`` and ``resid`` (``P y = w · resid``).
    """

    def __init__(self, seg: Segments, x: FloatArray, w: FloatArray, y: FloatArray) -> None:
        self.seg, self.x, self.w = seg, x, w
        self.xtwx = seg.cross(x, x, w)
        self.m: FloatArray = (
            1.0 / self.xtwx if x.shape[1] == 1 else np.linalg.inv(self.xtwx).astype(np.float64)
        )
        xtwy = seg.cross(x, y[:, None], w)[:, :, 0]
        self.beta: FloatArray = np.einsum("gab,gb->ga", self.m, xtwy)
        self.resid: FloatArray = y - np.einsum("ia,ia->i", x, self.beta[seg.idx])

    @cached_property
    def bm(self) -> FloatArray:
        """Rows of W X M (M = (X'WX)⁻¹)."""
        out: FloatArray = np.einsum("ia,iab->ib", self.x * self.w[:, None], self.m[self.seg.idx])
        return out

    @cached_property
    def h(self) -> FloatArray:
        """Diagonal of W X M X'W."""
        out: FloatArray = self.w * np.einsum("ia,ia->i", self.bm, self.x)
        return out

    def ypy(self) -> FloatArray:
        """y'Py = Σ w (y − Xβ)² (the generalised Q)."""
        return self.seg.sum(self.w * self.resid**2)

    def yppy(self) -> FloatArray:
        """y'P²y = Σ (w (y − Xβ))²."""
        return self.seg.sum((self.w * self.resid) ** 2)

    def tr_p(self) -> FloatArray:
        """tr(P)."""
        return self.seg.sum(self.w - self.h)

    def tr_pp(self) -> FloatArray:
        """tr(P²) (= Σ P∘P, P being symmetric)."""
        w = self.w
        return self.seg.sum(w * w - 2 * w * self.h) + _tr_square(
            self.m, self.seg.cross(self.x, self.x, w * w)
        )

    def tr_pd(self, d: FloatArray) -> FloatArray:
        """tr(P D) for the diagonal matrix D = diag(d)."""
        return self.seg.sum(d * (self.w - self.h))

    def tr_pdpd(self, d: FloatArray) -> FloatArray:
        """tr(P D P D) (metafor's ``sum(PV * t(PV))``)."""
        w = self.w
        return self.seg.sum(w * w * d * d - 2 * w * d * d * self.h) + _tr_square(
            self.m, self.seg.cross(self.x, self.x, w * w * d)
        )

    def tr_dpp(self, d: FloatArray) -> FloatArray:
        """tr(D P P) (metafor's ``sum(PV * P)``)."""
        w = self.w
        xtw2x = self.seg.cross(self.x, self.x, w * w)
        quad = np.einsum("ia,iab,ib->i", self.bm, xtw2x[self.seg.idx], self.bm)
        return self.seg.sum(d * (w * w - 2 * w * self.h + quad))


@dataclass(frozen=True)
class Tau2Estimate:
    """τ² per model with its standard error (NaN where metafor gives none) and iteration record."""

    tau2: FloatArray
    se_tau2: FloatArray
    converged: BoolArray
    iterations: IntArray


def generalized_q(
    seg: Segments, x: FloatArray, y: FloatArray, v: FloatArray, tau2: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Q(τ²) = y'P(τ²)y and its derivative −y'P(τ²)²y, per model."""
    proj = Projection(seg, x, 1.0 / (v + tau2[seg.idx]), y)
    return proj.ypy(), -proj.yppy()


def solve_q(
    seg: Segments,
    x: FloatArray,
    y: FloatArray,
    v: FloatArray,
    target: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    active: BoolArray,
    control: Control,
) -> tuple[FloatArray, BoolArray]:
    """Solve Q(τ²) = target on [lower, upper] for the ``active`` models (Q is decreasing in τ²).

    Safeguarded Newton on 1/Q(τ²) − 1/target (1/Q is close to linear in τ², so a few steps do): the
    Newton step when it stays inside the bracket, otherwise bisection; each pass works on the
    unfinished models only. Requires
    Q(lower) ≥ target ≥ Q(upper). Returns the roots (NaN for inactive models) and a convergence
    flag.
    """
    lo, hi = lower.copy(), upper.copy()
    t = lower.copy()
    conv = ~active
    todo = np.flatnonzero(active)
    for _ in range(max(control.maxiter, 200)):
        if todo.size == 0:
            break
        sub, rows = seg.subset(todo)
        q, dq = generalized_q(sub, x[rows], y[rows], v[rows], t[todo])
        f = q - target[todo]
        tt, lo_t, hi_t = t[todo], lo[todo], hi[todo]
        lo_t = np.where(f > 0, tt, lo_t)
        hi_t = np.where(f < 0, tt, hi_t)
        with np.errstate(divide="ignore", invalid="ignore"):  # Newton on 1/Q(τ²) − 1/target: nearly linear
            newton = tt - f * (q / target[todo]) / dq
        ok = np.isfinite(newton) & (newton > lo_t) & (newton < hi_t)
        nxt = np.where(f == 0, tt, np.where(ok, newton, 0.5 * (lo_t + hi_t)))
        finished = (f == 0) | (np.abs(nxt - tt) <= control.tol * np.maximum(1.0, np.abs(tt)))
        t[todo], lo[todo], hi[todo] = nxt, lo_t, hi_t
        conv[todo[finished]] = True
        todo = todo[~finished]
    return np.where(active, t, np.nan), conv


def _centered(seg: Segments, y: FloatArray) -> FloatArray:
    return y - seg.mean(y)[seg.idx]


def estimate_tau2(
    y: FloatArray,
    v: FloatArray,
    x: FloatArray,
    seg: Segments,
    method: str,
    control: Control | None = None,
    weights: FloatArray | None = None,
) -> Tau2Estimate:
    """Estimate τ² for every model of the stack with ``method`` (a code of :data:`METHODS`).

    As metafor does, the yi are centred (per model) before τ² is estimated, and models with a
    single study get τ² = 0 (no estimate, ``se_tau2`` NaN). ``weights`` (one per row) are the
    user weights ``a`` of ``GENQ``, which needs them; the other estimators ignore them, as metafor's.
    """
    control = control or Control()
    method = normalize_method(method)
    if method == "GENQ" and weights is None:
        raise StatsInputError("method='GENQ' needs weights (metafor's 'weights' argument)", field="weights")
    with np.errstate(divide="ignore", invalid="ignore"):
        return _estimate(y, v, x, seg, method, control, weights)


def _estimate(
    y: FloatArray,
    v: FloatArray,
    x: FloatArray,
    seg: Segments,
    method: str,
    control: Control,
    weights: FloatArray | None = None,
) -> Tau2Estimate:
    n = seg.n
    p = x.shape[1]
    k = seg.k.astype(float)
    ymc = _centered(seg, y)
    nan = np.full(n, np.nan)
    iters = np.zeros(n, dtype=np.int64)
    conv = np.ones(n, dtype=bool)
    single = seg.k == 1
    if method == "EE":
        return Tau2Estimate(np.zeros(n), nan, conv, iters)
    wi = 1.0 / v
    if method in ("DL", "HS", "HSk"):
        fe = Projection(seg, x, wi, ymc)
        trp = fe.tr_p()
        sw = seg.sum(wi)
        if method == "DL":
            tau2 = (fe.ypy() - (k - p)) / trp
        elif method == "HS":
            tau2 = (fe.ypy() - k) / sw
        else:
            tau2 = (k / (k - p) * fe.ypy() - k) / sw
        tau2 = _finish(tau2, single)
        extra = 2 * (k - p) + 4 * tau2 * trp + 2 * tau2**2 * fe.tr_pp()
        se = np.sqrt(extra / (trp**2 if method == "DL" else sw**2))
        if method == "HSk":
            se = k / (k - p) * se
    elif method == "GENQ":
        assert weights is not None
        gq = Projection(seg, x, weights, ymc)
        trp = gq.tr_p()
        tau2 = _finish((gq.ypy() - gq.tr_pd(v)) / trp, single)
        se = np.sqrt((2 * gq.tr_pdpd(v) + 4 * tau2 * gq.tr_dpp(v) + 2 * tau2**2 * gq.tr_pp()) / trp**2)
    elif method == "HE":
        tau2 = _finish(_he(seg, x, ymc, v, k, p)[0], single)
        se = _he(seg, x, ymc, v, k, p, tau2)[1]
    elif method == "SJ":
        tau0 = seg.mean(ymc**2)
        sj = Projection(seg, x, 1.0 / (v + tau0[seg.idx]), ymc)
        tau2 = _finish(tau0 * sj.ypy() / (k - p), single)
        se = np.sqrt(
            tau0**2 / (k - p) ** 2 * (2 * sj.tr_pdpd(v) + 4 * tau2 * sj.tr_dpp(v) + 2 * tau2**2 * sj.tr_pp())
        )
    elif method in ("PM", "PMM"):
        # PMM: the median of chi^2(k - p) as the target (metafor's qchisq(0.5, df = k - p))
        target = k - p if method == "PM" else _f64(special.chdtri(np.maximum(k - p, 1.0), 0.5))
        tau2, conv = _paule_mandel(seg, x, y, ymc, v, target, ~single, control)
        tau2 = _finish(tau2, single)
        se = np.sqrt(2 * k**2 / (k - p) / seg.sum(1.0 / (v + tau2[seg.idx])) ** 2)
    else:
        tau2, conv, iters = _fisher_scoring(seg, x, ymc, v, k, p, method, ~single, control)
        tau2 = _finish(tau2, single)
        proj = Projection(seg, x, 1.0 / (v + tau2[seg.idx]), ymc)
        if method == "ML":
            se = np.sqrt(2 / seg.sum(proj.w**2))
        elif method == "REML":
            se = np.sqrt(2 / proj.tr_pp())
        else:
            se = np.sqrt(2 * k**2 / (k - p) / seg.sum(proj.w) ** 2)
    se = np.where(single, np.nan, se)
    return Tau2Estimate(tau2, se, conv, iters)


def _f64(value: object) -> FloatArray:
    return np.asarray(value, dtype=np.float64)


def _finish(tau2: FloatArray, single: BoolArray) -> FloatArray:
    """Truncate at 0 (metafor's ``tau2.min``); τ² = 0 for single-study models."""
    return np.where(single, 0.0, np.maximum(0.0, tau2))


def _he(
    seg: Segments,
    x: FloatArray,
    ymc: FloatArray,
    v: FloatArray,
    k: FloatArray,
    p: int,
    tau2: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Hedges' OLS moment estimator (untruncated) and, given the final τ², its SE."""
    ols = Projection(seg, x, np.ones_like(v), ymc)
    trpv = ols.tr_pd(v)
    est = (ols.ypy() - trpv) / (k - p)
    t = est if tau2 is None else tau2
    se = np.sqrt((2 * ols.tr_pdpd(v) + 4 * t * trpv + 2 * t**2 * (k - p)) / (k - p) ** 2)
    return est, se


def _paule_mandel(
    seg: Segments,
    x: FloatArray,
    y: FloatArray,
    ymc: FloatArray,
    v: FloatArray,
    target: FloatArray,
    active: BoolArray,
    control: Control,
) -> tuple[FloatArray, BoolArray]:
    """Paule–Mandel: Q(τ²) = k − p, 0 if Q(0) is already below, searched up to metafor's tau2.max."""
    mad = 1.4826 * seg.median(np.abs(y - seg.median(y)[seg.idx]))
    upper = np.maximum(100.0, 10 * mad**2)
    zero = np.zeros(seg.n)
    q0 = generalized_q(seg, x, ymc, v, zero)[0]
    qmax = generalized_q(seg, x, ymc, v, upper)[0]
    at_zero = active & (q0 < target)
    too_low = active & ~at_zero & (qmax > target)
    search = active & ~at_zero & ~too_low
    root, conv = solve_q(seg, x, ymc, v, target, zero, upper, search, control)
    tau2 = np.where(search, root, np.where(too_low, upper, 0.0))
    if too_low.any():
        warnings.warn(
            "Paule-Mandel: Q(tau2.max) is still above its target (k - p, or the chi-square median for PMM); "
            "returning tau2.max "
            f"for {int(too_low.sum())} model(s) (converged=False)",
            RuntimeWarning,
            stacklevel=3,
        )
    return tau2, conv & ~too_low


def _fisher_scoring(
    seg: Segments,
    x: FloatArray,
    ymc: FloatArray,
    v: FloatArray,
    k: FloatArray,
    p: int,
    method: str,
    active: BoolArray,
    control: Control,
) -> tuple[FloatArray, BoolArray, IntArray]:
    """ML / REML / EB by Fisher scoring for all active models at once (per-model stopping)."""
    he = _he(seg, x, ymc, v, k, p)[0]
    tau2 = np.where(active, np.maximum(0.0, he), 0.0)
    iters = np.zeros(seg.n, dtype=np.int64)
    conv = np.ones(seg.n, dtype=bool)
    step: Callable[[Projection, Segments, FloatArray], FloatArray]
    if method == "ML":

        def step(pr: Projection, sg: Segments, kk: FloatArray) -> FloatArray:
            return (pr.yppy() - sg.sum(pr.w)) / sg.sum(pr.w**2)
    elif method == "REML":

        def step(pr: Projection, sg: Segments, kk: FloatArray) -> FloatArray:
            return (pr.yppy() - pr.tr_p()) / pr.tr_pp()
    else:

        def step(pr: Projection, sg: Segments, kk: FloatArray) -> FloatArray:
            return (pr.ypy() * kk / (kk - p) - kk) / sg.sum(pr.w)

    todo = np.flatnonzero(active)
    while todo.size:
        iters[todo] += 1
        sub, rows = seg.subset(todo)
        t_old = tau2[todo]
        proj = Projection(sub, x[rows], 1.0 / (v[rows] + t_old[sub.idx]), ymc[rows])
        adj = step(proj, sub, k[todo]) * control.stepadj
        adj = np.where(np.isfinite(adj), adj, 0.0)
        t_new = t_old + _halve_into_range(t_old, adj)
        tau2[todo] = t_new
        over = iters[todo] > control.maxiter
        conv[todo[over]] = False
        todo = todo[(np.abs(t_new - t_old) > control.threshold) & ~over]
    if (~conv).any():
        warnings.warn(
            f"Fisher scoring ({method}) did not converge in {control.maxiter} iterations for "
            f"{int((~conv).sum())} model(s); returning the last iterate (converged=False)",
            RuntimeWarning,
            stacklevel=3,
        )
    if method in ("ML", "REML"):
        stuck = (
            active
            & conv
            & (tau2 > control.threshold)
            & (
                _loglik(seg, x, ymc, v, np.zeros(seg.n), method) - _loglik(seg, x, ymc, v, tau2, method)
                > _LL_TOL
            )
        )
        if stuck.any():
            warnings.warn(
                "Fisher scoring may have stopped at a local maximum; setting tau2 = 0 as metafor does",
                RuntimeWarning,
                stacklevel=3,
            )
            tau2 = np.where(stuck, 0.0, tau2)
    return tau2, conv, iters


def _halve_into_range(tau2: FloatArray, adj: FloatArray) -> FloatArray:
    """metafor's step halving: halve ``adj`` while ``tau2 + adj < 0``.

    From τ² = 0 a negative step halves until it underflows to −0, i.e. no step: set directly.
    """
    adj = np.where((tau2 == 0) & (adj < 0), 0.0, adj)
    neg = np.flatnonzero(tau2 + adj < 0)
    if neg.size:
        a, t = adj[neg], tau2[neg]
        while (bad := t + a < 0).any():
            a = np.where(bad, a / 2, a)
        adj[neg] = a
    return adj


def _loglik(
    seg: Segments, x: FloatArray, y: FloatArray, v: FloatArray, tau2: FloatArray, method: str
) -> FloatArray:
    """ML or REML log-likelihood (metafor's ll0check form, without the constant terms that cancel)."""
    proj = Projection(seg, x, 1.0 / (v + tau2[seg.idx]), y)
    ll = -0.5 * seg.sum(np.log(v + tau2[seg.idx])) - 0.5 * proj.ypy()
    if method == "REML":
        ll = ll - 0.5 * np.linalg.slogdet(proj.xtwx)[1]
    return ll
