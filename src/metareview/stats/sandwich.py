"""Cluster-robust (sandwich) building blocks shared by :func:`robust` and :func:`robu`.

Notation: ``X`` the model matrix, ``W`` the weights (the inverse of the working covariance ``Φ``),
``M = (X'WX)⁻¹`` the bread, clusters ``j`` with rows ``b_j``, residuals ``e``. The cluster-robust
covariance is ``M (Σ_j E_j e_j e_j' E_j') M`` with ``E_j = X_j' W_j A_j``: ``A_j = I`` (CR0), a constant
(CR1) or the bias-reduced linearisation adjustment of Bell & McCaffrey (2002) / Pustejovsky & Tipton
(2018), CR2::

    A_j = R' (R (I − X_j M X_j' W_j) Φ_j R')^(−1/2) R,   R'R = Φ_j

(clubSandwich's ``vcovCR(type = "CR2")`` with the model as working model, ``inverse_var = TRUE``).
robumeta's small-sample correction is this CR2 with its working model ``Φ = diag(1/w)``: for the
hierarchical weights ``E^(1/2) (E² − E^(1/2) X M X' E^(1/2))^(−1/2) E^(1/2)``, for the correlated weights
(``Φ_j`` a multiple of I) ``(I − w X_j M X_j')^(−1/2)`` -- the matrices ``robu(small = TRUE)`` builds.
The Satterthwaite df of a contrast ``c`` are ``(tr P)² / Σ P²`` with clubSandwich's P array (equal to
robumeta's ``B`` matrix when ``W = Φ⁻¹``).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def sandwich(
    m: FloatArray, est: list[FloatArray], e: FloatArray, blocks: list[NDArray[np.intp]]
) -> FloatArray:
    """M (Σ_j E_j e_j e_j' E_j') M, ``E_j`` the estimating matrix of cluster j (p × |b_j|)."""
    comps = np.column_stack([ej @ e[b] for ej, b in zip(est, blocks, strict=True)])
    vb = m @ (comps @ comps.T) @ m
    return np.asarray((vb + vb.T) / 2, dtype=np.float64)


def sym_power(a: FloatArray, power: float, tol: float = 1e-12) -> FloatArray:
    """``a^power`` of a symmetric matrix by its eigenvalues; eigenvalues below ``tol`` count as 0.

    clubSandwich drops eigenvalues below 1e-12, robumeta below 1e-10.
    """
    val, vec = np.linalg.eigh((a + a.T) / 2)
    vp = np.where(val > tol, np.abs(val) ** power, 0.0)
    return np.asarray((vec * vp) @ vec.T, dtype=np.float64)


def estimating_matrices(
    vtype: str,
    x: FloatArray,
    w: FloatArray,
    m: FloatArray,
    blocks: list[NDArray[np.intp]],
    tol: float = 1e-12,
) -> list[FloatArray]:
    """E_j = X_j' W_j A_j: A_j = I (CR0), √(J/(J−1)) I (CR1) or the CR2 adjustment (see the module)."""
    n = len(blocks)
    out = []
    for b in blocks:
        xw = x[b].T @ w[np.ix_(b, b)]
        if vtype == "CR0":
            out.append(xw)
        elif vtype == "CR1":
            out.append(xw * math.sqrt(n / (n - 1)))
        else:
            # inverse_var: Φ_j = W_j⁻¹; G = R (I − X_j M X_j' W_j) Φ_j R', A_j = R' G^(-1/2) R
            theta = np.linalg.inv(w[np.ix_(b, b)])
            theta = (theta + theta.T) / 2
            r = np.linalg.cholesky(theta).T  # upper: R'R = Φ_j
            ih = np.eye(b.size) - x[b] @ m @ xw
            g = r @ ih @ theta @ r.T
            a = r.T @ sym_power(g, -0.5, tol) @ r
            out.append(xw @ a)
    return out


def gh_matrices(
    m: FloatArray, est: list[FloatArray], x: FloatArray, phi: FloatArray, blocks: list[NDArray[np.intp]]
) -> tuple[list[FloatArray], FloatArray]:
    """clubSandwich's ``get_GH`` (``inverse_var``): G_j = M E_j chol(Φ_j), H_j = M E_j X_j L with LL' = M."""
    low = np.linalg.cholesky(m)
    g_mats = []
    h = np.empty((len(blocks), m.shape[0], m.shape[0]))
    for j, (ej, b) in enumerate(zip(est, blocks, strict=True)):
        me = m @ ej
        theta = phi[np.ix_(b, b)]
        g_mats.append(me @ np.linalg.cholesky((theta + theta.T) / 2))
        h[j] = me @ x[b] @ low
    return g_mats, h


def p_array(g_mats: list[FloatArray], h: FloatArray, c: FloatArray) -> FloatArray:
    """P[s, t] (J × J) of the contrasts ``c`` (q × p): −(C H_j)_s·(C H_k)_t + δ_jk (C G_j)_s·(C G_j)_t."""
    ch = np.einsum("qp,jpu->jqu", c, h)
    parr = -np.einsum("jsu,ktu->stjk", ch, ch)
    for j, gj in enumerate(g_mats):
        cg = c @ gj
        parr[:, :, j, j] += cg @ cg.T
    return np.asarray(parr, dtype=np.float64)


def satterthwaite(g_mats: list[FloatArray], h: FloatArray, c: FloatArray) -> float:
    """Satterthwaite df of one contrast: (tr P)² / Σ P² (clubSandwich's ``Satterthwaite``)."""
    parr = p_array(g_mats, h, c)[0, 0]
    return float(np.trace(parr) ** 2 / np.sum(parr**2))


def htz(
    beta: FloatArray, vb: FloatArray, g_mats: list[FloatArray], h: FloatArray, btt: list[int]
) -> tuple[float, int, float, float]:
    """clubSandwich's ``Wald_test(test = "HTZ")`` of β[btt] = 0: (F, q, df2, p)."""
    from scipy import stats as sps

    p = beta.size
    q = len(btt)
    c = np.eye(p)[btt]
    parr = p_array(g_mats, h, c)
    omega = np.einsum("stjj->st", parr)
    on = sym_power(omega, -0.5)
    bjk = np.einsum("sa,abjk,bt->stjk", on, parr, on)
    var = np.empty((q, q))
    for s in range(q):
        for t in range(s + 1):
            val = float(np.sum(bjk[s, t] * bjk[t, s]) + np.sum(bjk[s, s] * bjk[t, t]))
            var[s, t] = var[t, s] = val
    nu = q * (q + 1) / float(np.sum(var))
    cb = beta[btt]
    qstat = float(cb @ np.linalg.solve(vb[np.ix_(btt, btt)], cb))
    delta = max((nu - q + 1) / nu, 0.0)
    df2 = nu - q + 1
    fstat = delta * qstat / q
    pval = float(sps.f.sf(fstat, q, df2)) if df2 > 0 else math.nan
    return fstat, q, df2, pval
