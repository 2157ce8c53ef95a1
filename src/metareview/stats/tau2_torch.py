"""τ² estimation for stacks of intercept-only models on PyTorch (float64; CPU, or CUDA when asked).

The optional array backend of :func:`metareview.stats.meta_many` (``backend="torch"``): the iterative
part of a fit — Fisher scoring for ML / REML with metafor's step halving and ``ll0check``, and the
closed forms EE / DL — runs as the same segment sums as :mod:`metareview.stats.tau2`, on torch tensors;
everything after τ² (estimate, SE, tests, CIs, Q, I², prediction intervals) is then the NumPy code of
:func:`metareview.stats.batch.fit_stack`, so both backends give the same numbers (to rounding of the
segment sums: 1e-10 in the tests). torch is imported inside the functions only; NumPy arrays go in
and come out.

Example::

    >>> import numpy as np
    >>> from metareview.stats.tau2 import Segments
    >>> seg = Segments.single(3)
    >>> est = estimate_tau2_torch(np.array([0.1, 0.5, 0.9]), np.array([0.01, 0.02, 0.03]), seg, "DL")
    >>> round(float(est.tau2[0]), 4)
    0.1417
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from metareview.stats.errors import StatsInputError
from metareview.stats.tau2 import _LL_TOL, Control, FloatArray, Segments, Tau2Estimate, normalize_method

TORCH_METHODS = ("EE", "DL", "ML", "REML")


def _torch() -> Any:
    try:
        import torch
    except ModuleNotFoundError:
        raise StatsInputError("backend='torch' needs PyTorch installed", field="backend") from None
    return torch


class _Stack:
    """Segment sums of one stack on a device."""

    def __init__(self, torch: Any, seg: Segments, device: str) -> None:
        self.t = torch
        self.idx = torch.as_tensor(seg.idx, device=device)
        self.n = seg.n
        self.device = device

    def sum(self, x: Any) -> Any:
        out = self.t.zeros(self.n, dtype=self.t.float64, device=self.device)
        return out.index_add_(0, self.idx, x)


def _proj(s: _Stack, w: Any, y: Any) -> dict[str, Any]:
    """Intercept-only projection pieces (Σw, Σw², y'Py, y'P²y, tr P, tr P²), each computed with the same
    operations in the same order as :class:`metareview.stats.tau2.Projection` with ``X = 1``."""
    sw = s.sum(w)
    m = 1.0 / sw
    beta = m * s.sum(w * y)
    r = y - beta[s.idx]
    h = w * (w * m[s.idx])
    sw2 = s.sum(w * w)
    return {
        "sw": sw,
        "sw2": sw2,
        "ypy": s.sum(w * r**2),
        "yppy": s.sum((w * r) ** 2),
        "trp": s.sum(w - h),
        "trpp": s.sum(w * w - 2 * w * h) + (m * sw2) ** 2,
    }


def estimate_tau2_torch(
    y: FloatArray,
    v: FloatArray,
    seg: Segments,
    method: str,
    control: Control | None = None,
    device: str | None = None,
) -> Tau2Estimate:
    """τ² of every intercept-only model of the stack with ``method`` (EE, DL, ML or REML) on torch.

    ``device``: ``"cpu"`` (default), ``"cuda"``, ``"cuda:1"``…  Same rules as
    :func:`metareview.stats.tau2.estimate_tau2` (centred yi, τ² = 0 and SE NaN for single-study models).
    """
    torch = _torch()
    control = control or Control()
    method = normalize_method(method)
    if method not in TORCH_METHODS:
        raise StatsInputError(
            f"backend='torch' fits {', '.join(TORCH_METHODS)}; use backend='numpy' for {method}",
            field="method",
        )
    dev = device or "cpu"
    s = _Stack(torch, seg, dev)
    f64 = torch.float64
    yt = torch.as_tensor(y, dtype=f64, device=dev)
    vt = torch.as_tensor(v, dtype=f64, device=dev)
    k = torch.as_tensor(seg.k, dtype=f64, device=dev)
    single = k == 1
    ymc = yt - (s.sum(yt) / k)[s.idx]
    n = seg.n
    nan = torch.full((n,), float("nan"), dtype=f64, device=dev)
    iters = torch.zeros(n, dtype=torch.int64, device=dev)
    conv = torch.ones(n, dtype=torch.bool, device=dev)
    if method == "EE":
        return _out(torch.zeros(n, dtype=f64, device=dev), nan, conv, iters)
    if method == "DL":
        fe = _proj(s, 1.0 / vt, ymc)
        tau2 = _finish(torch, (fe["ypy"] - (k - 1)) / fe["trp"], single)
        extra = 2 * (k - 1) + 4 * tau2 * fe["trp"] + 2 * tau2**2 * fe["trpp"]
        se = torch.sqrt(extra / fe["trp"] ** 2)
    else:
        tau2, conv, iters = _scoring(torch, s, ymc, vt, k, method, ~single, control)
        tau2 = _finish(torch, tau2, single)
        pr = _proj(s, 1.0 / (vt + tau2[s.idx]), ymc)
        se = torch.sqrt(2 / pr["sw2"]) if method == "ML" else torch.sqrt(2 / pr["trpp"])
    se = torch.where(single, nan, se)
    return _out(tau2, se, conv, iters)


def _out(tau2: Any, se: Any, conv: Any, iters: Any) -> Tau2Estimate:
    return Tau2Estimate(
        np.asarray(tau2.cpu().numpy(), dtype=np.float64),
        np.asarray(se.cpu().numpy(), dtype=np.float64),
        np.asarray(conv.cpu().numpy(), dtype=np.bool_),
        np.asarray(iters.cpu().numpy(), dtype=np.int64),
    )


def _finish(torch: Any, tau2: Any, single: Any) -> Any:
    return torch.where(single, torch.zeros_like(tau2), torch.clamp(tau2, min=0.0))


def _scoring(
    torch: Any, s: _Stack, ymc: Any, v: Any, k: Any, method: str, active: Any, control: Control
) -> tuple[Any, Any, Any]:
    """Fisher scoring for ML / REML, every model at once with a per-model stopping mask."""
    ones = torch.ones_like(v)
    ols = _proj(s, ones, ymc)
    trpv = s.sum(v * (1 - 1 / k[s.idx]))  # tr(P V) of the unweighted projection
    he = (ols["ypy"] - trpv) / (k - 1)
    tau2 = torch.where(active, torch.clamp(he, min=0.0), torch.zeros_like(he))
    iters = torch.zeros(s.n, dtype=torch.int64, device=s.device)
    conv = torch.ones(s.n, dtype=torch.bool, device=s.device)
    todo = active.clone()
    while bool(todo.any()):
        iters = iters + todo.to(torch.int64)
        pr = _proj(s, 1.0 / (v + tau2[s.idx]), ymc)
        if method == "ML":
            adj = (pr["yppy"] - pr["sw"]) / pr["sw2"]
        else:
            adj = (pr["yppy"] - pr["trp"]) / pr["trpp"]
        adj = adj * control.stepadj
        adj = torch.where(torch.isfinite(adj), adj, torch.zeros_like(adj))
        adj = torch.where((tau2 == 0) & (adj < 0), torch.zeros_like(adj), adj)
        while bool(((tau2 + adj < 0) & todo).any()):
            adj = torch.where(tau2 + adj < 0, adj / 2, adj)
        t_new = torch.where(todo, tau2 + adj, tau2)
        over = todo & (iters > control.maxiter)
        conv = conv & ~over
        todo = todo & (torch.abs(t_new - tau2) > control.threshold) & ~over
        tau2 = t_new
    if not bool(conv.all()):
        warnings.warn(
            f"Fisher scoring ({method}) did not converge in {control.maxiter} iterations for "
            f"{int((~conv).sum())} model(s); returning the last iterate (converged=False)",
            RuntimeWarning,
            stacklevel=3,
        )
    zero = torch.zeros_like(tau2)
    stuck = (
        active
        & conv
        & (tau2 > control.threshold)
        & (_loglik(torch, s, ymc, v, zero, method) - _loglik(torch, s, ymc, v, tau2, method) > _LL_TOL)
    )
    if bool(stuck.any()):
        warnings.warn(
            "Fisher scoring may have stopped at a local maximum; setting tau2 = 0 as metafor does",
            RuntimeWarning,
            stacklevel=3,
        )
        tau2 = torch.where(stuck, zero, tau2)
    return tau2, conv, iters


def _loglik(torch: Any, s: _Stack, y: Any, v: Any, tau2: Any, method: str) -> Any:
    pr = _proj(s, 1.0 / (v + tau2[s.idx]), y)
    ll = -0.5 * s.sum(torch.log(v + tau2[s.idx])) - 0.5 * pr["ypy"]
    if method == "REML":
        ll = ll - 0.5 * torch.log(pr["sw"])
    return ll


__all__ = ["TORCH_METHODS", "estimate_tau2_torch"]
