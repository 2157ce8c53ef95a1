"""The sampling covariance matrix of dependent effect sizes: metafor's ``vcalc``.

``V[i, j] = sqrt(vi[i] vi[j]) R[i, j]`` for two effect sizes of the same ``cluster`` (0 otherwise), with
the correlation ``R[i, j]`` as metafor 3.8.1 builds it:

* **construct** (``type``) and **observation** (``obs``): ``R = 1`` for the same type and observation,
  ``rho_obs[obs_i, obs_j]`` for the same type and different observations (e.g. several effect sizes from
  overlapping samples on one outcome), ``rho_type[type_i, type_j]`` for different types (different
  outcomes measured on the same participants);
* **time** (``time1``, ``time2``): times ``t`` apart multiply the correlation by ``phi ** |t|``;
* **groups** (``grp1``, ``grp2``, with sizes or weights ``w1``, ``w2``): contrasts of groups that share a
  group (several treatments against one control) are correlated through the shared group, in metafor's
  formula for ``(1/w1, 1/w2)``-weighted differences.

``rho`` is a number, or a mapping ``{(a, b): r}`` of a correlation matrix by label pairs (either order);
with both ``type`` and ``obs`` it is the pair ``(rho_obs, rho_type)``. A block that is not positive
definite gets a warning naming the cluster (metafor's ``checkpd``). Labels are matched by value here;
metafor 3.8.1 looks numeric ``obs``/``type`` values up in its ``rho`` matrix by position, so there numeric
labels other than 1..(number of levels), in order of appearance, give NA or wrong entries (use strings).
Not supported: ``rvars`` and ``nearpd``.

Example::

    >>> V = vcalc([0.1, 0.2, 0.3], cluster=[1, 1, 2], obs=[1, 2, 1], rho=0.5)
    >>> round(float(V[0, 1]), 6), float(V[0, 2])
    (0.070711, 0.0)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from metareview.stats.errors import StatsInputError
from metareview.stats.mvrandom import codes_of

FloatArray = NDArray[np.float64]
Rho = float | Mapping[tuple[Hashable, Hashable], float]


def vcalc(
    vi: ArrayLike,
    cluster: Sequence[Hashable] | ArrayLike,
    *,
    subgroup: Sequence[Hashable] | ArrayLike | None = None,
    obs: Sequence[Hashable] | ArrayLike | None = None,
    type: Sequence[Hashable] | ArrayLike | None = None,  # metafor's name (shadows the builtin)
    time1: ArrayLike | None = None,
    time2: ArrayLike | None = None,
    grp1: Sequence[Hashable] | ArrayLike | None = None,
    grp2: Sequence[Hashable] | ArrayLike | None = None,
    w1: ArrayLike | None = None,
    w2: ArrayLike | None = None,
    rho: Rho | tuple[Rho, Rho] | None = None,
    phi: float | None = None,
    checkpd: bool = True,
    sparse: bool = False,
) -> Any:
    """Build the k x k sampling covariance matrix of ``vi`` as ``metafor::vcalc`` (see the module).

    Returns a dense ``numpy`` array, or with ``sparse=True`` a ``scipy.sparse.csr_matrix`` (for many
    clusters); both go to :func:`meta_mv` as ``V``. Raises :class:`StatsInputError` for missing or
    mismatched inputs, ``rho`` missing where ``obs``/``type`` are given (or outside [-1, 1], or without
    an entry for a pair of labels), ``phi`` missing where times are given or outside [-1, 1].

    Example::

        >>> V = vcalc([0.04, 0.05, 0.06], cluster=["a", "a", "a"], time1=[0, 1, 3], phi=0.9)
        >>> round(float(V[0, 2] / (0.04 * 0.06) ** 0.5), 6)  # 0.9 ** 3
        0.729
    """
    v = np.asarray(vi, dtype=float).ravel()
    clus = np.asarray(cluster, dtype=object).ravel()
    if v.size == 1 and clus.size > 1:
        v = np.full(clus.size, float(v[0]))
    k = v.size
    if k < 2:
        raise StatsInputError("vcalc needs at least two effect sizes (k = 1)", field="vi")
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        bad = int(np.argmax(~np.isfinite(v) | (v < 0)))
        raise StatsInputError("vi must be finite and >= 0", index=bad, field="vi")
    cl = codes_of(clus, k, "cluster")
    if subgroup is not None:
        pairs = np.empty(k, dtype=object)
        pairs[:] = list(zip(cl.tolist(), _labels(subgroup, k, "subgroup"), strict=True))
        cl = codes_of(pairs, k, "subgroup")
    if (type is not None or obs is not None) and rho is None:
        raise StatsInputError("give rho when type or obs is given", field="rho")
    typ = _labels(type, k, "type") if type is not None else [1] * k
    ob = _labels(obs, k, "obs") if obs is not None else [1] * k
    rho_obs, rho_type = _split_rho(rho, type is not None, obs is not None)
    if grp2 is not None and grp1 is None:
        raise StatsInputError("give grp1 with grp2 (or only grp1, or neither)", field="grp2")
    g1 = _labels(grp1, k, "grp1") if grp1 is not None else [1] * k
    g2 = _labels(grp2, k, "grp2") if grp2 is not None else [2] * k
    if time2 is not None and time1 is None:
        raise StatsInputError("give time1 with time2 (or only time1, or neither)", field="time2")
    if time2 is not None and grp2 is None:
        raise StatsInputError("give grp2 when time2 is given", field="grp2")
    t1 = _numbers(time1, k, "time1") if time1 is not None else np.ones(k)
    t2 = _numbers(time2, k, "time2") if time2 is not None else t1
    if time1 is not None or time2 is not None:
        if phi is None:
            raise StatsInputError("give phi when time1 and/or time2 are given", field="phi")
    else:
        phi = 1.0
    assert phi is not None
    if not abs(phi) <= 1:
        raise StatsInputError(f"phi must be in [-1, 1], not {phi}", field="phi")
    if w2 is not None and w1 is None:
        raise StatsInputError("give w1 with w2 (or only w1, or neither)", field="w2")
    if w2 is not None and grp2 is None:
        raise StatsInputError("give grp2 when w2 is given", field="grp2")
    a1 = 1.0 / _numbers(w1, k, "w1") if w1 is not None else np.ones(k)
    a2 = 1.0 / _numbers(w2, k, "w2") if w2 is not None else a1

    # every pair (i >= j) within a cluster
    order = np.argsort(cl, kind="stable")
    sizes = np.bincount(cl)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    ii, jj = [], []
    for start, size in zip(starts.tolist(), sizes.tolist(), strict=True):
        rows = order[start : start + size]
        a, b = np.tril_indices(size)
        ii.append(rows[a])
        jj.append(rows[b])
    i = np.concatenate(ii)
    j = np.concatenate(jj)

    # groups compared across grp1 and grp2: one coding of both
    gcodes = codes_of(np.asarray(g1 + g2, dtype=object), 2 * k, "grp1")
    c1, c2 = gcodes[:k], gcodes[k:]

    def lag(
        ta: FloatArray, tb: FloatArray, ga: NDArray[np.intp], gb: NDArray[np.intp], ia: Any, ib: Any
    ) -> Any:
        dt = np.abs(ta[ia] - tb[ib])
        return np.where(ga[ia] == gb[ib], np.where(dt == 0, 1.0, float(phi) ** dt), 0.0)

    num = (
        lag(t1, t1, c1, c1, i, j) * np.sqrt(a1[i] * a1[j])
        - lag(t1, t2, c1, c2, i, j) * np.sqrt(a1[i] * a2[j])
        - lag(t2, t1, c2, c1, i, j) * np.sqrt(a2[i] * a1[j])
        + lag(t2, t2, c2, c2, i, j) * np.sqrt(a2[i] * a2[j])
    )
    own = np.arange(k)
    den = np.sqrt(a1 + a2 - 2.0 * lag(t1, t2, c1, c2, own, own) * np.sqrt(a1 * a2))
    tc, tmat = _rho_matrix(typ, rho_type, k, "type")
    oc, omat = _rho_matrix(ob, rho_obs, k, "obs")
    cor = np.where(tc[i] == tc[j], np.where(oc[i] == oc[j], 1.0, omat[oc[i], oc[j]]), tmat[tc[i], tc[j]])
    if np.any(np.isnan(cor)):
        bad = int(np.argmax(np.isnan(cor)))
        x, y = int(i[bad]), int(j[bad])
        pair = (typ[x], typ[y]) if tc[x] != tc[y] else (ob[x], ob[y])
        field = "type" if tc[x] != tc[y] else "obs"
        raise StatsInputError(f"rho has no correlation for the {field} pair {pair!r}", field="rho")
    r = cor * num / (den[i] * den[j])
    vals = np.sqrt(v[i] * v[j]) * r
    if checkpd:
        _check_pd(r, i, j, order, starts, sizes, clus)
    rows = np.concatenate([i, j[i != j]])
    cols = np.concatenate([j, i[i != j]])
    data = np.concatenate([vals, vals[i != j]])
    if sparse:
        from scipy.sparse import csr_matrix

        return csr_matrix((data, (rows, cols)), shape=(k, k))
    out = np.zeros((k, k))
    out[rows, cols] = data
    return out


def _labels(values: Sequence[Hashable] | ArrayLike, k: int, field: str) -> list[Any]:
    arr = np.asarray(values, dtype=object).ravel()
    if arr.size != k:
        raise StatsInputError(f"{field} must hold {k} values, not {arr.size}", field=field)
    out = arr.tolist()
    for idx, val in enumerate(out):
        if val is None or (isinstance(val, float) and math.isnan(val)):
            raise StatsInputError(f"missing {field} value", index=idx, field=field)
    return out


def _numbers(values: ArrayLike, k: int, field: str) -> FloatArray:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise StatsInputError(f"{field} must be numeric", field=field) from None
    if arr.size != k:
        raise StatsInputError(f"{field} must hold {k} values, not {arr.size}", field=field)
    if not np.all(np.isfinite(arr)):
        raise StatsInputError(f"missing {field} value", index=int(np.argmax(~np.isfinite(arr))), field=field)
    return arr


def _split_rho(rho: Any, has_type: bool, has_obs: bool) -> tuple[Rho, Rho]:
    """(rho_obs, rho_type) as metafor splits its ``rho`` argument."""
    if has_type and has_obs:
        if not isinstance(rho, tuple | list) or len(rho) != 2:
            raise StatsInputError(
                "with type and obs, rho must be a pair (rho_obs within, rho_type between constructs)",
                field="rho",
            )
        out = (rho[0], rho[1])
    elif has_type:
        out = (0.0, rho)
    elif has_obs:
        out = (rho, 0.0)
    else:
        out = (0.0, 0.0)
    for part in out:
        vals = list(part.values()) if isinstance(part, Mapping) else [part]
        for val in vals:
            if not isinstance(val, int | float) or not -1 <= float(val) <= 1:
                raise StatsInputError(f"correlations in rho must be in [-1, 1], not {val!r}", field="rho")
    return out


def _rho_matrix(labels: list[Any], rho: Rho, k: int, field: str) -> tuple[NDArray[np.intp], FloatArray]:
    """Codes of the labels and the correlation between any two levels (nan where rho has no entry)."""
    codes = codes_of(np.asarray(labels, dtype=object), k, field)
    levels: list[Any] = [None] * (int(codes.max()) + 1)
    for lab, code in zip(labels, codes.tolist(), strict=True):
        levels[code] = lab
    n = len(levels)
    if not isinstance(rho, Mapping):
        mat = np.full((n, n), float(rho))
    else:
        mat = np.full((n, n), np.nan)
        for (a, b), val in rho.items():
            if a in levels and b in levels:
                mat[levels.index(a), levels.index(b)] = mat[levels.index(b), levels.index(a)] = float(val)
    np.fill_diagonal(mat, 1.0)
    return codes, mat


def _check_pd(
    r: FloatArray,
    i: NDArray[np.intp],
    j: NDArray[np.intp],
    order: NDArray[np.intp],
    starts: NDArray[np.intp],
    sizes: NDArray[np.intp],
    clus: NDArray[Any],
) -> None:
    """metafor's ``checkpd``: warn for each cluster whose correlation block has an eigenvalue <= eps."""
    pos = np.empty(order.size, dtype=np.intp)
    block_of = np.empty(order.size, dtype=np.intp)
    for b, (start, size) in enumerate(zip(starts.tolist(), sizes.tolist(), strict=True)):
        pos[order[start : start + size]] = np.arange(size)
        block_of[order[start : start + size]] = b
    for b, size in enumerate(sizes.tolist()):
        if size < 2:
            continue
        sel = block_of[i] == b
        mat = np.zeros((size, size))
        mat[pos[i[sel]], pos[j[sel]]] = r[sel]
        mat[pos[j[sel]], pos[i[sel]]] = r[sel]
        if np.any(np.isnan(mat)):
            continue
        if np.min(np.linalg.eigvalsh(mat)) <= np.finfo(float).eps:
            label = clus[order[starts[b]]]
            warnings.warn(
                f"vcalc: the var-cov matrix appears to be not positive definite in cluster {label!r}",
                UserWarning,
                stacklevel=3,
            )
