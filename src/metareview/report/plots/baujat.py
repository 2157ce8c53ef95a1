"""Baujat plot (Baujat et al. 2002), as metafor's ``baujat()`` draws it: for each study, its contribution to
the heterogeneity (x, the squared Pearson residual; for an equal-effects model its share of Q) against its
influence on the pooled result (y, the standardised squared change of the fitted value when it is left out).
Studies in the top right both drive the heterogeneity and move the result.

The numbers are :func:`metareview.stats.baujat`'s; the plot takes its result, or a fit (then it computes
them), and writes each study's label at its point as metafor does (``symbol="ids"``: 1, 2, ...; or the
``labels`` given; ``symbol="points"`` draws dots instead)::

    >>> from metareview.stats import baujat, meta
    >>> fit = meta([0.2, 0.3, 0.1, 0.6, 0.25], [0.01, 0.02, 0.01, 0.02, 0.015])
    >>> fig = baujat_plot(fit)                       # metafor's baujat(res)
    >>> fig = baujat_plot(baujat(fit), labels=["A", "B", "C", "D", "E"])

Artists carry ``gid`` s: ``baujat-label`` (one text per study) or ``baujat-points``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from metareview.report.plots._base import CEX_POINTS, grid, new_figure, r_limits, style
from metareview.stats.baujat import BaujatResult, baujat
from metareview.stats.results import MetaRegResult, MetaResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["baujat_plot"]


def _axis_labels(fit: MetaResult | MetaRegResult | None) -> tuple[str, str]:
    """metafor's axis labels for the fit (generic ones for a bare :class:`BaujatResult`)."""
    if fit is None:
        return "Squared Pearson Residual", "Influence on Fitted Value"
    int_only = isinstance(fit, MetaResult)
    if fit.method == "EE":
        x = f"Contribution to {'Overall' if int_only else 'Residual'} Heterogeneity"
    else:
        x = "Squared Pearson Residual"
    return x, "Influence on Overall Result" if int_only else "Influence on Fitted Value"


def baujat_plot(
    x: BaujatResult | MetaResult | MetaRegResult,
    *,
    labels: Sequence[Any] | None = None,
    symbol: str = "ids",
    show_grid: bool = True,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str = "",
    control: Mapping[str, float] | None = None,
) -> Figure:
    """The Baujat plot of a :func:`~metareview.stats.baujat` result or of a ``meta``/``meta_reg`` fit.

    ``labels`` name the studies (default 1..k, metafor's ``ids``); ``symbol="points"`` draws dots instead of
    labels; ``control`` is passed to the leave-one-out refits when ``x`` is a fit. Studies whose
    leave-one-out fit is impossible (y is NaN) are not drawn, as in metafor.
    """
    fit: MetaResult | MetaRegResult | None = None
    if isinstance(x, MetaResult | MetaRegResult):
        fit, res = x, baujat(x, control=control)
    elif isinstance(x, BaujatResult):
        res = x
    else:
        raise TypeError(
            f"baujat_plot needs a baujat() result or a meta()/meta_reg() fit, not {type(x).__name__}"
        )
    if symbol not in ("ids", "points"):
        raise ValueError(f"symbol must be 'ids' or 'points', not {symbol!r}")
    xs, ys = np.asarray(res.x, dtype=float), np.asarray(res.y, dtype=float)
    k = xs.size
    names = [str(i + 1) for i in range(k)] if labels is None else [str(v) for v in labels]
    if len(names) != k:
        raise ValueError(f"labels has {len(names)} entries for {k} studies")
    default_x, default_y = _axis_labels(fit)
    fig = new_figure(5.2, 4.6)
    with style():
        ax = fig.add_subplot()
        ax.spines[["top", "right"]].set_visible(True)  # metafor draws a box around its Baujat plot
        ax.set_xlim(*r_limits(xs))
        ax.set_ylim(*r_limits(ys))
        if show_grid:
            grid(ax)
        shown = np.isfinite(xs) & np.isfinite(ys)
        if symbol == "ids":
            for i in np.flatnonzero(shown):
                ax.text(
                    xs[i], ys[i], names[i], ha="center", va="center", fontsize=0.8 * 8.5, gid="baujat-label"
                )
        else:
            ax.scatter(xs[shown], ys[shown], s=(0.8 * CEX_POINTS) ** 2, facecolors="none", edgecolors="black",
                       linewidths=0.8, gid="baujat-points")  # fmt: skip
        ax.set_xlabel(default_x if xlabel is None else xlabel)
        ax.set_ylabel(default_y if ylabel is None else ylabel)
        if title:
            ax.set_title(title)
    return fig
