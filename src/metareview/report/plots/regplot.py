"""Bubble plot of a meta-regression, as metafor's ``regplot()`` draws it: the observed effects against one
numeric moderator, each a bubble whose area grows with the study's weight in the model, with the fitted
regression line and its confidence band (and, with ``pi=True``, the prediction band). Other moderators are
held at their means (for a dummy-coded factor: the share of each level), as metafor holds them; the line and
bands come from :func:`metareview.stats.predict` on 1,000 moderator values spanning the data ± 4%::

    >>> from metareview.stats import meta_reg
    >>> fit = meta_reg([-0.9, -1.6, -1.4, -1.4, -0.2, -0.8], [0.33, 0.19, 0.42, 0.02, 0.05, 0.01],
    ...                mods={"ablat": [44, 55, 42, 52, 13, 44]})
    >>> fig = regplot(fit, pi=True)               # metafor's regplot(res, pi = TRUE)

Bubble sizes follow metafor: √(weight in %) rescaled linearly to ``plim`` (R's ``cex``), largest drawn first.

Artists carry ``gid`` s: ``regplot-points`` (in drawing order; sizes ``marker_area(cex)``), ``regplot-pred``
(the line), ``regplot-ci-lower`` / ``regplot-ci-upper`` (dashed), ``regplot-pi-lower`` / ``regplot-pi-upper``
(dotted), ``regplot-ci-band`` / ``regplot-pi-band`` (shaded) and ``regplot-refline``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from metareview.report.plots._base import (
    R_COLOURS,
    marker_area,
    new_figure,
    point_sizes,
    r_limits,
    resolve_transf,
    style,
)
from metareview.stats.compare import predict
from metareview.stats.results import MetaRegResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["regplot"]

_PRED_POINTS = 1000  # metafor's len


def _moderator(fit: MetaRegResult, mod: str | int | None) -> int:
    """The column of ``mod`` in the model matrix: a coefficient name (or a unique prefix of one, as metafor's
    ``charmatch``) or a 0-based column index; by default the only moderator."""
    names = list(fit.names)
    if mod is None:
        if len(names) == 2 and names[0] == "intrcpt":
            return 1
        if len(names) == 1:
            return 0
        raise ValueError(f"the model has several moderators ({', '.join(names)}): choose one with mod=")
    if isinstance(mod, str):
        if mod in names:
            return names.index(mod)
        hits = [i for i, n in enumerate(names) if n.startswith(mod)]
        if len(hits) != 1:
            raise ValueError(f"mod {mod!r} does not name one of the coefficients {names}")
        return hits[0]
    if not 0 <= int(mod) < len(names):
        raise ValueError(f"mod must be a column index in 0..{len(names) - 1}, not {mod!r}")
    return int(mod)


def _weights(fit: MetaRegResult) -> np.ndarray:
    """The studies' weights in % (metafor's ``weights(res)``): 1/(vᵢ + τ²), or the user's weights."""
    user = getattr(fit, "user_weights", None)
    w = (
        np.asarray(user, float)
        if user is not None
        else 1 / (np.asarray(fit.vi) + (0.0 if fit.method == "EE" else fit.tau2))
    )
    return np.asarray(100 * w / w.sum(), dtype=float)


def regplot(
    fit: MetaRegResult,
    mod: str | int | None = None,
    *,
    ci: bool = True,
    pi: bool = False,
    shade: bool = True,
    level: float | None = None,
    transf: str | Callable[[float], float] | None = None,
    refline: float | None = None,
    predlim: tuple[float, float] | None = None,
    plim: tuple[float, float] = (0.5, 3.0),
    xlabel: str | None = None,
    ylabel: str = "Observed Outcome",
    title: str = "",
) -> Figure:
    """The bubble plot of a :func:`~metareview.stats.meta_reg` fit against moderator ``mod``
    (metafor's ``regplot(res, mod=)``).

    ``ci``/``pi`` draw the confidence/prediction bands at ``level`` (default the fit's; an equal-effects fit
    has no prediction interval: a warning, and none is drawn, as in metafor); ``transf`` transforms the
    effects, line and bands (``"exp"`` for log ratios); ``refline`` adds a horizontal reference line;
    ``predlim`` sets the moderator range of the line (default the data ± 4%).
    """
    if not isinstance(fit, MetaRegResult):
        raise TypeError(f"regplot() needs a meta_reg() fit, not {type(fit).__name__} (metafor: no plot for "
                        "intercept-only models)")  # fmt: skip
    pos = _moderator(fit, mod)
    x_mat = np.asarray(fit.X, dtype=float)
    xi, yi = x_mat[:, pos], np.asarray(fit.yi, dtype=float)
    if predlim is None:
        span = float(xi.max() - xi.min())
        predlim = (float(xi.min()) - 0.04 * span, float(xi.max()) + 0.04 * span)
    xs = np.linspace(predlim[0], predlim[1], _PRED_POINTS)
    grid_x = np.tile(x_mat.mean(axis=0), (_PRED_POINTS, 1))
    grid_x[:, pos] = xs
    p = predict(fit, grid_x, level=level, intercept=False)
    pred, ci_lb, ci_ub, pi_lb, pi_ub = (np.asarray(a, float) for a in (p.pred, p.ci_lower, p.ci_upper,
                                                                       p.pi_lower, p.pi_upper))  # fmt: skip
    if pi and np.isnan(pi_lb).any():
        warnings.warn("no prediction interval for this model (equal-effects): none drawn", stacklevel=2)
        pi = False
    tf = resolve_transf(transf)
    if tf is not None:
        f = np.vectorize(tf, otypes=[float])
        yi, pred, ci_lb, ci_ub = f(yi), f(pred), f(ci_lb), f(ci_ub)
        if pi:
            pi_lb, pi_ub = f(pi_lb), f(pi_ub)
    ci_lb, ci_ub = np.minimum(ci_lb, ci_ub), np.maximum(ci_lb, ci_ub)  # metafor's .psort (after transf)
    pi_lb, pi_ub = np.minimum(pi_lb, pi_ub), np.maximum(pi_lb, pi_ub)
    cex = point_sizes(np.sqrt(_weights(fit)), plim)
    span_y = [yi, pi_lb, pi_ub] if pi else [yi, ci_lb, ci_ub] if ci else [yi]
    fig = new_figure(5.6, 4.4)
    with style():
        ax = fig.add_subplot()
        ax.spines[["top", "right"]].set_visible(True)
        ax.set_xlim(*r_limits(xi))
        ax.set_ylim(*r_limits(np.concatenate(span_y)))
        _bands(ax, xs, ci_lb, ci_ub, pi_lb, pi_ub, ci=ci, pi=pi, shade=shade)
        if refline is not None:
            ax.axhline(refline, color=R_COLOURS["gray40"], lw=1.4, gid="regplot-refline")
        ax.plot(xs, pred, color="black", lw=2.2, gid="regplot-pred")
        order = np.argsort(-cex, kind="stable")  # metafor draws the largest first
        ax.scatter(
            xi[order], yi[order], s=marker_area(cex[order]), facecolors=R_COLOURS["darkgray"],
            edgecolors="black", linewidths=0.7, zorder=3, clip_on=False, gid="regplot-points",
        )  # fmt: skip
        ax.set_xlabel(fit.names[pos] if xlabel is None else xlabel)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
    return fig


def _bands(
    ax: Axes,
    xs: np.ndarray,
    ci_lb: np.ndarray,
    ci_ub: np.ndarray,
    pi_lb: np.ndarray,
    pi_ub: np.ndarray,
    *,
    ci: bool,
    pi: bool,
    shade: bool,
) -> None:
    """The shaded bands (PI under CI) and their edges, drawn in metafor's order."""
    if shade and pi:
        ax.fill_between(xs, pi_lb, pi_ub, color=R_COLOURS["gray95"], lw=0, gid="regplot-pi-band")
    if shade and ci:
        ax.fill_between(xs, ci_lb, ci_ub, color=R_COLOURS["gray85"], lw=0, gid="regplot-ci-band")
    if ci:
        for part, y in (("lower", ci_lb), ("upper", ci_ub)):
            ax.plot(xs, y, color="black", lw=0.8, linestyle=(0, (4, 3)), gid=f"regplot-ci-{part}")
    if pi:
        for part, y in (("lower", pi_lb), ("upper", pi_ub)):
            ax.plot(xs, y, color="black", lw=0.8, linestyle=(0, (1, 2)), gid=f"regplot-pi-{part}")
