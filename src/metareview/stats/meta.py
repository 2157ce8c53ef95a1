"""``meta()``: the equal- and random-effects model (metafor's ``rma.uni`` without moderators)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from metareview.stats.batch import T_TESTS, fit_stack, meta_result
from metareview.stats.errors import check_effects, check_weights
from metareview.stats.missing import rows_to_keep, take
from metareview.stats.results import MetaResult
from metareview.stats.tau2 import Control, Segments


def meta(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    method: str = "REML",
    test: str = "z",
    pi: str = "z",
    level: float = 95.0,
    control: Mapping[str, float] | None = None,
    weights: ArrayLike | None = None,
    na_action: str = "fail",
) -> MetaResult:
    """Fit an equal-effects (``method="EE"``/``"FE"``) or random-effects model, as metafor's ``rma()``.

    Parameters
    ----------
    yi, vi, sei
        Effect sizes and their sampling variances ``vi`` or standard errors ``sei`` (one of the two).
        Every yi must be finite and every vi/sei finite and > 0, else
        :class:`~metareview.stats.errors.StatsInputError` naming the first bad index.
    method
        τ² estimator: ``EE`` (alias ``FE``), ``DL``, ``HE``, ``HS``, ``HSk``, ``SJ``, ``ML``,
        ``REML`` (default), ``EB``, ``PM``, ``PMM``, ``GENQ`` (needs ``weights``) — see
        :mod:`metareview.stats.tau2`; τ² is truncated at 0.
    test
        ``"z"`` (default); ``"t"`` (t with k − 1 df, the variance unchanged); ``"knha"``
        (Knapp–Hartung: the variance is scaled by Q_w/(k − 1), without truncating the factor at 1,
        as metafor's default; t with k − 1 df); ``"adhoc"`` (Knapp–Hartung with the factor
        truncated below at 1, metafor's ``test="adhoc"``).
    pi
        Prediction interval: ``"z"`` (estimate ± z·√(se² + τ²), metafor's default under
        ``test="z"``), ``"t"`` (t with k − 1 df; metafor's default under ``test="knha"``) or
        ``"riley"`` (t with k − 2 df, Riley et al. 2011, BMJ 342:d549).
    level
        Confidence level in percent for the CI, the Q-profile CI of τ²/I²/H² and the PI.
    control
        ``threshold`` (1e-5) and ``maxiter`` (100) of the Fisher scoring (ML/REML/EB); ``tol``
        (1e-12) of the root searches (PM, PMM, Q-profile); ``stepadj`` (1).
    weights
        metafor's user weights (finite, ≥ 0): the estimate is Σaᵢyᵢ/Σaᵢ with the variance
        Σaᵢ²(vᵢ + τ²)/(Σaᵢ)²; ``GENQ`` estimates τ² with them. ``weights`` of the result are then
        these weights in percent.
    na_action
        ``"fail"`` (default: a missing yi, vi/sei or weight raises, naming its index) or ``"omit"``
        (metafor's default ``na.omit``: those studies are dropped with an
        :class:`~metareview.stats.missing.OmittedWarning`, their indices in ``omitted``).

    Edge cases
    ----------
    * k = 1: the estimate is yi with se √vi; τ² = 0 and, as metafor, Q = 0 (df 0, p = 1),
      I² = 0, H² = 1; NaN: ``se_tau2``, ``i2_q``, ``h2_q``, the Q-profile CI, and the ``t``/
      ``riley`` PI; ``test="t"``/``"knha"``/``"adhoc"`` fall back to z (``ddf`` NaN) with a warning
      (metafor gives NA p-values and CIs there).
    * k = 2: everything is defined; the ``riley`` PI uses 1 df (metafor clamps k − 2 = 0 to 1).
    * τ² at the boundary: estimates below 0 are set to 0; the Q-profile CI is [0, 0] when even
      τ² = 0 makes Q smaller than its lower chi-square quantile.
    * Non-convergence of Fisher scoring (ML/REML/EB) or of the PM search: a ``RuntimeWarning``,
      the last iterate is returned and ``converged`` is False.

    Example::

        >>> res = meta([-0.89, -1.59, -1.35, -1.44], [0.33, 0.19, 0.42, 0.02], method="REML")
        >>> res.k
        4
        >>> print(res)  # doctest: +SKIP
    """
    keep, omitted = rows_to_keep(na_action, {"yi": yi, "vi": vi, "sei": sei, "weights": weights})
    yi, vi, sei, weights = (take(a, keep) for a in (yi, vi, sei, weights))
    y, v = check_effects(yi, vi, sei)
    w = check_weights(weights, y.size)
    if test in T_TESTS and y.size == 1:
        warnings.warn(f"test={test!r} needs k > 1; using test='z' for k = 1", RuntimeWarning, stacklevel=2)
    fit = fit_stack(
        y,
        v,
        np.ones((y.size, 1)),
        Segments.single(y.size),
        method=method,
        test=test,
        pi=pi,
        level=level,
        control=Control.from_mapping(control),
        weights=w,
    )
    return meta_result(fit, 0, y, v, np.arange(y.size), user_weights=w, omitted=omitted)
