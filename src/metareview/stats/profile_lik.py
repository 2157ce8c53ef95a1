"""Profile likelihood of τ² (metafor's ``profile.rma.uni``): the log-likelihood over a grid of τ² values.

At each τ² of the grid the model is refitted with τ² fixed (metafor: ``rma.uni(..., tau2 = val)``): the
coefficients, their CI (under the fit's ``test``) and ``logLik`` — the REML log-likelihood for a REML fit,
the ML one for every other estimator, as metafor's ``logLik``. The grid is ``steps`` (20) equally spaced
values over ``xlim``; without ``xlim`` it spans metafor's default, [min(τ̂², lower Q-profile bound),
max(0.1, τ̂², upper Q-profile bound)] (if the Q-profile CI is undefined, τ̂² ∓ z₀.₉₉₅·SE(τ̂²) with
0 / 0.1 as the limits, then [τ̂²/4, max(0.1, 4τ̂²)]).

Our Q-profile bounds are solved to 1e-12 (:mod:`metareview.stats.tau2`); metafor's ``profile`` calls
``confint`` with ``uniroot``'s default tolerance (ε^¼ ≈ 1.2e-4), so a default grid can differ from
metafor's by that much at its ends; with the same ``xlim`` every value agrees to 1e-6 or better.

Example::

    >>> from metareview.stats import meta
    >>> pr = profile(meta([0.1, 0.5, 0.3, 0.9, -0.2], [0.02, 0.03, 0.02, 0.05, 0.04]), steps=5)
    >>> len(pr.tau2), pr.reml
    (5, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from metareview.stats.batch import fit_stack
from metareview.stats.compare import loglik
from metareview.stats.errors import StatsInputError
from metareview.stats.results import FloatArray, MetaRegResult, MetaResult, format_table
from metareview.stats.tau2 import Control, Segments, Tau2Estimate

_Z995 = 2.5758293035489004  # qnorm(0.995)


@dataclass(frozen=True)
class ProfileResult:
    """``tau2`` (the grid), ``loglik`` at each value, and per value the refitted ``estimates``, ``ci_lower``
    and ``ci_upper`` (rows = grid values, columns = ``names``); ``tau2_hat`` and ``max_loglik`` are the
    fitted model's τ² and log-likelihood, ``reml`` which likelihood, ``xlim`` the grid's range."""

    tau2: FloatArray
    loglik: FloatArray
    names: list[str]
    estimates: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    tau2_hat: float
    max_loglik: float
    reml: bool
    method: str
    xlim: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        """Settings and the grid as lists (``estimates``/``ci_*`` as one list per grid value)."""
        return {
            "method": self.method,
            "reml": self.reml,
            "tau2_hat": self.tau2_hat,
            "max_loglik": self.max_loglik,
            "xlim": list(self.xlim),
            "names": list(self.names),
            "tau2": self.tau2.tolist(),
            "loglik": self.loglik.tolist(),
            "estimates": self.estimates.tolist(),
            "ci_lower": self.ci_lower.tolist(),
            "ci_upper": self.ci_upper.tolist(),
        }

    def to_frame(self) -> Any:
        """One row per grid value: ``tau2``, ``loglik`` and each coefficient's estimate (pandas)."""
        import pandas as pd

        frame = pd.DataFrame({"tau2": self.tau2, "loglik": self.loglik})
        for j, name in enumerate(self.names):
            frame[name] = self.estimates[:, j]
        return frame

    def __str__(self) -> str:
        what = "restricted log-likelihood" if self.reml else "log-likelihood"
        head = (
            f"\nProfile {what} of tau^2 ({self.method} fit: tau^2 = {self.tau2_hat:.4f}, "
            f"logLik = {self.max_loglik:.4f})\n\n"
        )
        rows = [[f"{t:.4f}", self.loglik[i], *self.estimates[i]] for i, t in enumerate(self.tau2)]
        return head + format_table(["tau^2", "logLik", *self.names], rows)


def profile(
    fit: MetaResult | MetaRegResult,
    *,
    xlim: tuple[float, float] | None = None,
    steps: int = 20,
) -> ProfileResult:
    """The profile (restricted) log-likelihood of τ² of a ``meta``/``meta_reg`` fit, as ``profile(res)``.

    ``xlim`` (two values ≥ 0; sorted) and ``steps`` (≥ 2) set the grid; see the module text for the
    default. Refused for equal-effects fits (no τ²), as metafor refuses them.
    """
    if isinstance(fit, MetaResult):
        x, names, beta = np.ones((fit.k, 1)), ["intrcpt"], np.array([fit.estimate])
    elif isinstance(fit, MetaRegResult):
        x, names, beta = fit.X, list(fit.names), fit.estimates
    else:
        raise StatsInputError(
            f"profile needs a meta or meta_reg result, not {type(fit).__name__}", field="fit"
        )
    if fit.method == "EE":
        raise StatsInputError("cannot profile tau^2 of an equal-effects model", field="method")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise StatsInputError(f"steps must be an integer >= 2, not {steps!r}", field="steps")
    lo, hi = _default_xlim(fit) if xlim is None else _checked_xlim(xlim)
    grid = np.linspace(lo, hi, steps)
    k = fit.k
    reml = fit.method == "REML"
    seg = Segments.from_codes(np.repeat(np.arange(steps, dtype=np.int64), k), steps)
    fixed = Tau2Estimate(
        tau2=grid,
        se_tau2=np.full(steps, np.nan),
        converged=np.ones(steps, dtype=bool),
        iterations=np.zeros(steps, dtype=np.int64),
    )
    weights = None if fit.user_weights is None else np.tile(fit.user_weights, steps)
    refit = fit_stack(
        np.tile(fit.yi, steps),
        np.tile(fit.vi, steps),
        np.tile(x, (steps, 1)),
        seg,
        method=fit.method,
        test=fit.test,
        pi="z",
        level=fit.level,
        control=Control(),  # unused: tau^2 is fixed at each grid value
        tau2_est=fixed,
        tau2_ci=False,
        weights=weights,
    )
    lls = np.array(
        [loglik(fit.yi, fit.vi, x, refit.beta[i], float(grid[i]), reml=reml) for i in range(steps)]
    )
    return ProfileResult(
        tau2=grid,
        loglik=lls,
        names=names,
        estimates=refit.beta,
        ci_lower=refit.ci_lower,
        ci_upper=refit.ci_upper,
        tau2_hat=fit.tau2,
        max_loglik=loglik(fit.yi, fit.vi, x, beta, fit.tau2, reml=reml),
        reml=reml,
        method=fit.method,
        xlim=(float(lo), float(hi)),
    )


def _checked_xlim(xlim: tuple[float, float]) -> tuple[float, float]:
    values = np.asarray(xlim, dtype=float)
    if values.shape != (2,) or not np.all(np.isfinite(values)) or values.min() < 0:
        raise StatsInputError(f"xlim must be two finite values >= 0, not {xlim!r}", field="xlim")
    lo, hi = sorted(float(v) for v in values)
    return lo, hi


def _default_xlim(fit: MetaResult | MetaRegResult) -> tuple[float, float]:
    """metafor's automatic range (see the module text)."""
    tau2, ci_lo, ci_hi = fit.tau2, fit.tau2_ci_lower, fit.tau2_ci_upper
    lo, hi = min(tau2, ci_lo), max(0.1, tau2, ci_hi)  # NaN propagates as in R: falls through below
    if math.isnan(ci_lo) or math.isnan(ci_hi):
        lo, hi = max(0.0, tau2 - _Z995 * fit.se_tau2), max(0.1, tau2 + _Z995 * fit.se_tau2)
    if math.isnan(lo) or math.isnan(hi):
        lo, hi = max(0.0, tau2 / 4), max(0.1, tau2 * 4)
    return lo, hi


__all__ = ["ProfileResult", "profile"]
