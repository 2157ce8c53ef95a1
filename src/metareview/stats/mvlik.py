"""The (restricted) likelihood of :func:`~metareview.stats.meta_mv` models, and its maximisation.

The marginal covariance of the effect sizes is ``M = V + sum_j sigma2_j Z_j Z_j'``: ``V`` the known
sampling covariance (diagonal ``vi`` or a full/block-diagonal matrix) and ``Z_j`` the 0/1 indicator of
the levels of variance component ``j``. Two engines evaluate the log-likelihood and its score (gradient in
the ``sigma2``) exactly, without ever forming the k x k matrix:

* :class:`NestedLikelihood` -- two nested components and a diagonal ``V`` (the three-level model):
  nested Sherman-Morrison updates on per-level sums, O(number of levels) per evaluation.
* :class:`BlockLikelihood` -- anything else. The rows split into the connected blocks of ``V`` and of the
  components whose levels lie inside blocks; each block's matrix is factored densely (blocks of equal size
  in one batched numpy call). Components that would join blocks into one big block (crossed factors with
  few levels, e.g. ``~ 1 | outcome`` beside ``~ 1 | study``) are kept out of the blocks and added as a
  low-rank term, ``M = B + Z G Z'``, through the Woodbury identity: the cost is then that of the small
  blocks plus O(k q^2 + q^3) for q levels of such factors. The split is chosen by a flop count.

:func:`maximise` finds the (RE)ML estimates: L-BFGS-B on ``[0, inf)`` with the analytic score (only the
components not fixed by the user), then Newton steps with a Hessian from differences of the score, as the
three-level code always did. metafor's ``rma.mv`` optimises ``log(sigma2)`` with ``nlminb``, so it can
stop short of an optimum (and never reaches a bound); we report our higher likelihood and the parity
tests compare log-likelihoods where the two differ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

LOG_2PI = math.log(2.0 * math.pi)

# the largest number of low-rank columns (levels of crossed factors) the Woodbury term may carry
_MAX_LOWRANK = 400


@dataclass(frozen=True)
class Evaluation:
    """The model at one ``sigma2``: GLS coefficients, X'M^-1 X, the score and the pieces of the
    log-likelihoods (computed on access: the maximisation needs only one of them)."""

    beta: FloatArray
    xvx: FloatArray
    score: FloatArray | None
    rss: float
    logdet: float
    k: int
    logdet_xtx: float

    @property
    def ll_ml(self) -> float:
        return float(-0.5 * self.k * LOG_2PI - 0.5 * self.logdet - 0.5 * self.rss)

    @property
    def ll_reml(self) -> float:
        p = self.xvx.shape[0]
        logdet_xvx = float(np.linalg.slogdet(self.xvx)[1])
        return float(
            -0.5 * (self.k - p) * LOG_2PI
            + 0.5 * self.logdet_xtx
            - 0.5 * self.logdet
            - 0.5 * logdet_xvx
            - 0.5 * self.rss
        )


class Likelihood(Protocol):
    """What :func:`maximise` and the result assembly need of an engine."""

    k: int
    p: int
    m: int
    reml: bool
    x: FloatArray

    def evaluate(self, s: FloatArray, score: bool = False) -> Evaluation: ...

    def typical_vi(self) -> float: ...

    def start(self) -> FloatArray: ...


def start_values(resid_var: float, typical: float, m: int) -> FloatArray:
    """metafor's starting values: ``max(0.001 m, var(e_FE) - 1/mean(1/vi)) / m`` for each component."""
    total = max(0.001 * m, resid_var - typical)
    return np.full(m, total / m)


# ----------------------------------------------------------------------------------------------------------
# two nested components, diagonal V


class NestedLikelihood:
    """Sufficient statistics of the three-level model (clusters ``cl``, inner levels ``grp`` within them).

    ``V = diag(v)``; components ``(sigma2_cluster, sigma2_inner)``. Every quantity comes from per-level
    sums of ``[1, X, y] / v`` with two nested rank-one (Sherman-Morrison) updates.
    """

    m = 2

    def __init__(
        self, y: FloatArray, v: FloatArray, x: FloatArray, cl: IntArray, grp: IntArray, reml: bool
    ) -> None:
        self.y, self.v, self.x, self.reml = y, v, x, reml
        self.cl, self.grp = cl, grp
        self.k, self.p = x.shape
        d = 1.0 / v
        w = np.column_stack([np.ones_like(y), x, y])  # [1, X, y]
        self.wdw = (w * d[:, None]).T @ w
        n_grp = int(grp.max()) + 1
        self.s_g = np.bincount(grp, weights=d, minlength=n_grp)
        self.t_g = np.stack(
            [np.bincount(grp, weights=d * w[:, j], minlength=n_grp) for j in range(w.shape[1])], axis=1
        )
        first = np.zeros(n_grp, dtype=np.intp)
        first[grp[::-1]] = cl[::-1]
        self.cl_of_g = first
        self.n_cl = int(cl.max()) + 1
        self.logdet_v0 = float(np.sum(np.log(v)))
        self.logdet_xtx = float(np.linalg.slogdet(x.T @ x)[1])

    def _pieces(self, s1: float, s2: float) -> dict[str, Any]:
        f_g = 1.0 / (1.0 + s2 * self.s_g)
        b_g = self.t_g * f_g[:, None]  # 1_g' B^-1 W
        a_c = np.stack(
            [np.bincount(self.cl_of_g, weights=b_g[:, j], minlength=self.n_cl) for j in range(b_g.shape[1])],
            axis=1,
        )  # 1_c' B^-1 W
        g_c = 1.0 / (1.0 + s1 * a_c[:, 0])
        q = self.wdw - s2 * (self.t_g.T * f_g) @ self.t_g - s1 * (a_c.T * g_c) @ a_c
        logdet = self.logdet_v0 - float(np.sum(np.log(f_g))) - float(np.sum(np.log(g_c)))
        p = self.p
        xvx = q[1 : p + 1, 1 : p + 1]
        xvy = q[1 : p + 1, p + 1]
        beta = np.linalg.solve(xvx, xvy)
        rss = float(q[p + 1, p + 1] - xvy @ beta)
        return dict(f_g=f_g, b_g=b_g, a_c=a_c, g_c=g_c, xvx=xvx, beta=beta, rss=rss, logdet=logdet)

    def evaluate(self, s: FloatArray, score: bool = False) -> Evaluation:
        s1, s2 = float(s[0]), float(s[1])
        pc = self._pieces(s1, s2)
        return Evaluation(
            beta=pc["beta"],
            xvx=pc["xvx"],
            score=self._score(pc, s1) if score else None,
            rss=pc["rss"],
            logdet=pc["logdet"],
            k=self.k,
            logdet_xtx=self.logdet_xtx,
        )

    def _score(self, pc: dict[str, Any], s1: float) -> FloatArray:
        p, beta = self.p, pc["beta"]
        e_c = pc["a_c"] * pc["g_c"][:, None]  # 1_c' V^-1 W
        a_of_g = pc["a_c"][self.cl_of_g]
        e_g = pc["b_g"] - (s1 * pc["b_g"][:, 0] * pc["g_c"][self.cl_of_g])[:, None] * a_of_g  # 1_g' V^-1 W
        xvx_inv = np.linalg.inv(pc["xvx"])
        # tr(V^-1 Z Z') sums 1_l' V^-1 1_l over the levels l; for an inner level this is not e_g[:, 0]
        # (which is 1_g' V^-1 1 over its whole cluster)
        diag_g = pc["b_g"][:, 0] - s1 * pc["b_g"][:, 0] ** 2 * pc["g_c"][self.cl_of_g]
        out = np.empty(2)
        for j, (e, diag) in enumerate(((e_c, e_c[:, 0]), (e_g, diag_g))):
            u = e[:, 1 : p + 1]
            resid = e[:, p + 1] - u @ beta  # 1' V^-1 (y - X beta)
            trace = float(np.sum(diag))
            if self.reml:
                trace -= float(np.sum((u @ xvx_inv) * u))
            out[j] = -0.5 * trace + 0.5 * float(resid @ resid)
        return out

    def start(self) -> FloatArray:
        d = 1.0 / self.v
        xw = self.x * d[:, None]
        beta = np.linalg.solve(self.x.T @ xw, xw.T @ self.y)
        return start_values(float(np.var(self.y - self.x @ beta, ddof=1)), 1.0 / float(np.mean(d)), 2)

    def typical_vi(self) -> float:
        """(k - p) / tr(P) with P = W - W X (X'WX)^-1 X'W, W = V^-1 (metafor FAQ's typical variance)."""
        d = 1.0 / self.v
        xw = self.x * d[:, None]
        xwx_inv = np.linalg.inv(self.x.T @ xw)
        trace_p = float(np.sum(d) - np.sum((xw @ xwx_inv) * xw))
        return float((self.k - self.p) / trace_p)


# ----------------------------------------------------------------------------------------------------------
# the general engine: dense blocks plus a low-rank term


@dataclass
class _Group:
    idx: IntArray  # (nb, n) rows of each block of this size
    v: FloatArray  # (nb, n, n) V within the blocks
    a: list[FloatArray]  # per block component: (nb, n, n) 0/1 "same level"
    w: FloatArray  # (nb, n, c): [X, y, Z] rows


class BlockLikelihood:
    """The likelihood of ``M = V + sum_j sigma2_j Z_j Z_j'`` for any random intercepts and any ``V``.

    ``v_rows``, ``v_cols``, ``v_vals`` are the non-zero entries of ``V`` (both triangles, diagonal
    included); ``factors`` the level codes of each component.
    """

    def __init__(
        self,
        y: FloatArray,
        x: FloatArray,
        v_entries: tuple[IntArray, IntArray, FloatArray],
        factors: list[IntArray],
        reml: bool,
    ) -> None:
        self.y, self.x, self.reml = y, x, reml
        self.k, self.p = x.shape
        self.m = len(factors)
        self.factors = factors
        rows, cols, vals = v_entries
        self.v_diag = np.zeros(self.k)
        on = rows == cols
        np.add.at(self.v_diag, rows[on], vals[on])
        self.logdet_xtx = float(np.linalg.slogdet(x.T @ x)[1])
        nlevels = [int(f.max()) + 1 for f in factors]
        off = ~on
        self.lowrank, labels = _plan(self.k, rows[off], cols[off], factors, nlevels)
        self.blockwise = [j for j in range(self.m) if j not in self.lowrank]
        # low-rank columns: one per level of each low-rank component
        self.q = sum(nlevels[j] for j in self.lowrank)
        self.col_owner = np.concatenate(
            [np.full(nlevels[j], j, dtype=np.intp) for j in self.lowrank] or [np.zeros(0, dtype=np.intp)]
        )
        col_of = []  # per low-rank component: the column of each row
        start = 0
        for j in self.lowrank:
            col_of.append(start + factors[j])
            start += nlevels[j]
        self.col_slices = []
        start = self.p + 1
        for j in self.lowrank:
            self.col_slices.append(slice(start, start + nlevels[j]))
            start += nlevels[j]
        self.groups = _build_groups(
            self.k, y, x, labels, rows, cols, vals, factors, self.blockwise, col_of, self.q
        )
        self.segments = [_segments(f) for f in factors]

    # -- evaluation ---------------------------------------------------------------------------------------

    def _factor(self, s: FloatArray) -> tuple[float, FloatArray, list[tuple[FloatArray, FloatArray]]]:
        c = self.p + 1 + self.q
        qa = np.zeros((c, c))
        logdet = 0.0
        cache = []
        sb = [float(s[j]) for j in self.blockwise]
        for g in self.groups:
            mat = g.v.copy()
            for sj, a in zip(sb, g.a, strict=True):
                if sj != 0.0:
                    mat += sj * a
            chol = np.linalg.cholesky(mat)
            logdet += 2.0 * float(np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2))))
            inv = np.asarray(np.linalg.inv(mat), dtype=np.float64)
            mw = inv @ g.w
            qa += g.w.reshape(-1, c).T @ mw.reshape(-1, c)
            cache.append((inv, mw))
        return logdet, (qa + qa.T) / 2.0, cache

    def evaluate(self, s: FloatArray, score: bool = False) -> Evaluation:
        p, q = self.p, self.q
        logdet, qa, cache = self._factor(s)
        qm = qa
        low: tuple[FloatArray, FloatArray, FloatArray] | None = None
        if q:
            gh = np.sqrt(s[self.col_owner])
            z = slice(p + 1, p + 1 + q)
            kmat = np.eye(q) + gh[:, None] * qa[z, z] * gh[None, :]
            kchol = np.linalg.cholesky(kmat)
            logdet += 2.0 * float(np.sum(np.log(np.diag(kchol))))
            kinv = np.linalg.inv(kmat)
            r = gh[:, None] * kinv * gh[None, :]  # G^1/2 K^-1 G^1/2
            t = r @ qa[z, :]  # (q, c)
            qm = qa - qa[:, z] @ t
            qm = (qm + qm.T) / 2.0
            low = (gh, r, t)
        xvx = qm[:p, :p]
        xvy = qm[:p, p]
        beta = np.asarray(np.linalg.solve(xvx, xvy), dtype=np.float64)
        rss = float(qm[p, p] - xvy @ beta)
        grad = self._score(s, qm, beta, xvx, cache, low) if score else None
        return Evaluation(beta, xvx, grad, rss, logdet, self.k, self.logdet_xtx)

    def _score(
        self,
        s: FloatArray,
        qm: FloatArray,
        beta: FloatArray,
        xvx: FloatArray,
        cache: list[tuple[FloatArray, FloatArray]],
        low: tuple[FloatArray, FloatArray, FloatArray] | None,
    ) -> FloatArray:
        p, q = self.p, self.q
        c_inv = np.linalg.inv(xvx)
        out = np.zeros(self.m)
        for j, sl in zip(self.lowrank, self.col_slices, strict=True):
            zr = qm[sl, p] - qm[sl, :p] @ beta  # Z_j' M^-1 r
            trace = float(np.trace(qm[sl, sl]))  # tr(Z_j' M^-1 Z_j)
            if self.reml:
                zx = qm[sl, :p]
                trace -= float(np.sum((zx @ c_inv) * zx))
            out[j] = 0.5 * float(zr @ zr) - 0.5 * trace
        if not self.blockwise:
            return out
        k = self.k
        u = np.empty(k)
        umat = np.empty((k, p))
        bz = np.empty((k, q)) if q else None
        traces = np.zeros(len(self.blockwise))
        z = slice(p + 1, p + 1 + q)
        for g, (inv, mw) in zip(self.groups, cache, strict=True):
            ug = mw[..., p] - mw[..., :p] @ beta
            ux = mw[..., :p]
            if low is not None and bz is not None:
                _, _, t = low
                ug = ug - mw[..., z] @ (t[:, p] - t[:, :p] @ beta)
                ux = ux - mw[..., z] @ t[:, :p]
                bz[g.idx] = mw[..., z]
            u[g.idx] = ug
            umat[g.idx] = ux
            for jj, a in enumerate(g.a):
                traces[jj] += float(np.sum(inv * a))
        for jj, j in enumerate(self.blockwise):
            su = _segsum(u, self.segments[j])
            trace = traces[jj]
            if low is not None and bz is not None:
                sz = _segsum(bz, self.segments[j])
                trace -= float(np.sum(low[1] * (sz.T @ sz)))
            if self.reml:
                sx = _segsum(umat, self.segments[j])
                trace -= float(np.sum((sx @ c_inv) * sx))
            out[j] = 0.5 * float(su @ su) - 0.5 * trace
        return out

    # -- quantities at sigma2 = 0 ---------------------------------------------------------------------------

    def start(self) -> FloatArray:
        ev = self.evaluate(np.zeros(self.m))
        resid = self.y - self.x @ ev.beta
        return start_values(float(np.var(resid, ddof=1)), 1.0 / float(np.mean(1.0 / self.v_diag)), self.m)

    def typical_vi(self) -> float:
        """(k - p) / tr(P), P = W - W X (X'WX)^-1 X'W with W = V^-1 (Viechtbauer's matrix method)."""
        _, qa, cache = self._factor(np.zeros(self.m))
        p = self.p
        xvx_inv = np.linalg.inv(qa[:p, :p])
        trace_w = 0.0
        vx = np.empty((self.k, p))
        for g, (inv, mw) in zip(self.groups, cache, strict=True):
            trace_w += float(np.trace(inv, axis1=1, axis2=2).sum())
            vx[g.idx] = mw[..., :p]
        trace_p = trace_w - float(np.sum((vx @ xvx_inv) * vx))
        return float((self.k - p) / trace_p)


def _plan(
    k: int, off_rows: IntArray, off_cols: IntArray, factors: list[IntArray], nlevels: list[int]
) -> tuple[list[int], IntArray]:
    """Which components go into the low-rank term, and the block label of each row.

    Tries all components in the blocks, then moving the components with the fewest levels out one by one
    (while they have at most ``_MAX_LOWRANK`` levels in all), and keeps the cheapest by a flop count.
    """
    order = sorted(range(len(factors)), key=lambda j: nlevels[j])
    best: tuple[float, list[int], IntArray] | None = None
    lowrank: list[int] = []
    for step in range(len(factors) + 1):
        if step:
            j = order[step - 1]
            if sum(nlevels[i] for i in lowrank) + nlevels[j] > _MAX_LOWRANK:
                break
            lowrank = [*lowrank, j]
        labels = _components(k, off_rows, off_cols, [f for i, f in enumerate(factors) if i not in lowrank])
        sizes = np.bincount(labels).astype(float)
        q = float(sum(nlevels[i] for i in lowrank))
        cost = float(np.sum(sizes**3) + np.sum(sizes**2) * q + k * q * q + q**3)
        if best is None or cost < best[0]:
            best = (cost, lowrank, labels)
    assert best is not None
    return sorted(best[1]), best[2]


def _components(k: int, off_rows: IntArray, off_cols: IntArray, factors: list[IntArray]) -> IntArray:
    """Connected blocks of the rows: linked by V's off-diagonal entries and by shared levels."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    src = [off_rows]
    dst = [off_cols]
    for f in factors:
        first = np.full(int(f.max()) + 1, -1, dtype=np.intp)
        first[f[::-1]] = np.arange(k)[::-1]
        src.append(np.arange(k))
        dst.append(first[f])
    r = np.concatenate(src)
    c = np.concatenate(dst)
    graph = coo_matrix((np.ones(r.size), (r, c)), shape=(k, k))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.intp)


def _build_groups(
    k: int,
    y: FloatArray,
    x: FloatArray,
    labels: IntArray,
    rows: IntArray,
    cols: IntArray,
    vals: FloatArray,
    factors: list[IntArray],
    blockwise: list[int],
    col_of: list[IntArray],
    q: int,
) -> list[_Group]:
    """Blocks of equal size stacked together, with V, the 0/1 level matrices and [X, y, Z] per block."""
    order = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels)
    pos = np.empty(k, dtype=np.intp)  # position of each row within its block
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pos[order] = np.arange(k) - np.repeat(starts, sizes)
    w_all = np.column_stack([x, y, np.zeros((k, q))])
    p = x.shape[1]
    for cols_j in col_of:
        w_all[np.arange(k), p + 1 + cols_j] = 1.0
    groups = []
    for n in np.unique(sizes):
        members = np.flatnonzero(sizes == n)
        slot = np.full(sizes.size, -1, dtype=np.intp)
        slot[members] = np.arange(members.size)
        idx = np.empty((members.size, int(n)), dtype=np.intp)
        in_group = slot[labels] >= 0
        r = np.flatnonzero(in_group)
        idx[slot[labels[r]], pos[r]] = r
        v = np.zeros((members.size, int(n), int(n)))
        e = slot[labels[rows]] >= 0
        v[slot[labels[rows[e]]], pos[rows[e]], pos[cols[e]]] += vals[e]
        a = []
        for j in blockwise:
            lev = factors[j][idx]
            a.append((lev[:, :, None] == lev[:, None, :]).astype(np.float64))
        groups.append(_Group(idx=idx, v=v, a=a, w=w_all[idx]))
    return groups


def _segments(codes: IntArray) -> tuple[IntArray, IntArray]:
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_codes[1:] != sorted_codes[:-1]]))
    return order.astype(np.intp), starts.astype(np.intp)


def _segsum(values: FloatArray, seg: tuple[IntArray, IntArray]) -> FloatArray:
    """Sums of ``values`` (rows) over the levels of a component."""
    order, starts = seg
    return np.asarray(np.add.reduceat(values[order], starts, axis=0), dtype=np.float64)


# ----------------------------------------------------------------------------------------------------------
# maximisation


def maximise(lik: Likelihood, s0: FloatArray, free: NDArray[np.bool_]) -> tuple[FloatArray, bool, int]:
    """(RE)ML estimates of the free components (the others stay at ``s0``): (sigma2, converged, iterations).

    The likelihood of a multivariate model can have a local maximum on the ``sigma2 = 0`` bound beside
    a higher one inside (a first L-BFGS-B step from metafor's start can land on it); when a free
    component ends at 0 the search is repeated from the start values shrunk 10 and 100 times, and the
    highest likelihood kept.
    """
    idx = np.flatnonzero(free)
    s0 = np.asarray(s0, dtype=float)
    if idx.size == 0:
        return s0.copy(), True, 0
    best = _climb(lik, s0, idx)
    if np.any(best[0][idx] == 0.0):
        for shrink in (0.1, 0.01):
            start = s0.copy()
            start[idx] *= shrink
            alt = _climb(lik, start, idx)
            if alt[3] > best[3] + 1e-12 * max(1.0, abs(best[3])):
                best = alt
    return best[0], best[1], best[2]


def _climb(lik: Likelihood, s0: FloatArray, idx: IntArray) -> tuple[FloatArray, bool, int, float]:
    """L-BFGS-B from ``s0`` then Newton polish: (sigma2, converged, iterations, log-likelihood)."""
    scale = max(float(np.max(s0[idx])), 1e-8)

    def full(z: FloatArray) -> FloatArray:
        s = s0.copy()
        s[idx] = np.maximum(z, 0.0) * scale
        return s

    def ll_of(ev: Evaluation) -> float:
        return ev.ll_reml if lik.reml else ev.ll_ml

    def fun(z: FloatArray) -> tuple[float, FloatArray]:
        ev = lik.evaluate(full(z), score=True)
        assert ev.score is not None
        return -ll_of(ev), -ev.score[idx] * scale

    res = optimize.minimize(
        fun,
        s0[idx] / scale,
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, None)] * idx.size,
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 1000},
    )
    z = np.asarray(res.x, dtype=float)
    z[z < 1e-12] = 0.0  # L-BFGS-B leaves components "at" the bound at 1e-20 and the like
    s = full(z)
    s, newton_ok = _polish(lik, s, idx)
    ev = lik.evaluate(s, score=True)
    assert ev.score is not None
    g = ev.score[idx] * scale
    projected = np.where(s[idx] > 0, g, np.maximum(g, 0.0))  # at the 0 bound only an ascent direction counts
    stationary = bool(np.max(np.abs(projected)) <= 1e-6 * max(1.0, abs(ll_of(ev))))
    return s, bool(newton_ok or stationary), int(res.nit), ll_of(ev)


def _polish(lik: Likelihood, s: FloatArray, idx: IntArray) -> tuple[FloatArray, bool]:
    """Newton steps on the free components off the boundary (Hessian from differences of the score)."""

    def score(t: FloatArray) -> FloatArray:
        ev = lik.evaluate(t, score=True)
        assert ev.score is not None
        return ev.score[idx]

    def ll(t: FloatArray) -> float:
        ev = lik.evaluate(t)
        return ev.ll_reml if lik.reml else ev.ll_ml

    n = idx.size
    for _ in range(20):
        g = score(s)
        free = (s[idx] > 0) | (g > 0)
        if not free.any():
            return s, True
        h = np.empty((n, n))
        for jj, j in enumerate(idx):
            step = 1e-6 * max(s[j], 1e-4)
            up, dn = s.copy(), s.copy()
            up[j] += step
            dn[j] = max(dn[j] - step, 0.0)
            h[:, jj] = (score(up) - score(dn)) / (up[j] - dn[j])
        sub = np.flatnonzero(free)
        hf = h[np.ix_(sub, sub)]
        if np.any(np.linalg.eigvalsh(0.5 * (hf + hf.T)) >= 0):
            return s, False
        delta = np.zeros(n)
        delta[sub] = -np.linalg.solve(hf, g[sub])
        new = s.copy()
        new[idx] = np.maximum(s[idx] + delta, 0.0)
        ll_old = ll(s)
        if ll(new) < ll_old - 1e-12 * max(1.0, abs(ll_old)):
            return s, False
        done = bool(np.all(np.abs(new[idx] - s[idx]) <= 1e-10 * np.maximum(1.0, np.abs(s[idx]))))
        s = new
        if done:
            return s, True
    return s, False
