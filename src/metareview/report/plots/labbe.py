"""L'Abbé plot (L'Abbé, Detsky & O'Rourke 1987), as metafor's ``labbe()`` draws it: for each trial, the
outcome of the treatment group (group 1, y axis) against that of the control group (group 2, x axis), from
the 2×2 counts: log odds (``escalc`` measure PLO) for an odds-ratio analysis, log proportions (PLN) for risk
ratios, proportions (PR) for risk differences. Point areas grow with the precision of the trial's effect
(1/√(v₁ + v₂), rescaled to ``plim`` as metafor does); the solid diagonal is no effect, the dashed line
y = x + estimate is the pooled effect of the fit::

    >>> from metareview.stats import escalc, meta
    >>> es = escalc("RR", ai=[4, 6, 3, 62], n1i=[123, 306, 231, 13598], ci=[11, 29, 11, 248],
    ...             n2i=[139, 303, 220, 12867])
    >>> fig = labbe(meta(es.yi, es.vi), "RR", ai=[4, 6, 3, 62], n1i=[123, 306, 231, 13598],
    ...             ci=[11, 29, 11, 248], n2i=[139, 303, 220, 12867])

Zero cells are handled as ``escalc`` handles them (``add``/``to``, metafor's defaults: 0.5 added to the
arm's two cells when one is zero); give the ones the fit used. Log proportions are computed from ``escalc``'s
proportions (PR): yᵢ = log p, vᵢ = v(p)/p², which is exactly metafor's PLN, 1/x − 1/n, after the same
additions. metafor labels the x axis "Group 1" although it plots group 2 there; here each axis names its
group.

Artists carry ``gid`` s: ``labbe-points`` (in metafor's drawing order, largest first; the sizes are
``marker_area(cex)``), ``labbe-null`` (the diagonal) and ``labbe-estimate`` (the pooled line).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

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
from metareview.stats.escalc import escalc
from metareview.stats.results import MetaResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["arm_outcomes", "labbe"]

#: the arm-level outcome of each measure and its axis label
_ARM = {"OR": ("PLO", "Log odds"), "RR": ("PLN", "Log proportion"), "RD": ("PR", "Proportion")}


def arm_outcomes(
    measure: str,
    ai: Sequence[float] | np.ndarray,
    bi: Sequence[float] | np.ndarray | None,
    n1i: Sequence[float] | np.ndarray | None,
    *,
    add: float = 0.5,
    to: str = "only0",
) -> tuple[np.ndarray, np.ndarray]:
    """One group's outcome (``yi``) and its variance (``vi``) for an analysis of ``measure`` (OR: log odds,
    RR: log proportion, RD: proportion), from its events ``ai`` and non-events ``bi`` (or size ``n1i``)."""
    code = measure.upper()
    if code not in _ARM:
        raise ValueError(f"L'Abbé plots need measure 'OR', 'RR' or 'RD', not {measure!r}")
    counts: dict[str, Any] = {"xi": ai, "mi": bi} if bi is not None else {"xi": ai, "ni": n1i}
    if code == "OR":
        es = escalc("PLO", add=add, to=to, **counts)
        return np.asarray(es.yi), np.asarray(es.vi)
    pr = escalc("PR", add=add, to=to, **counts)
    p, v = np.asarray(pr.yi), np.asarray(pr.vi)
    if code == "RD":
        return p, v
    with np.errstate(divide="ignore", invalid="ignore"):
        y, vy = np.log(p), v / p**2
    bad = ~np.isfinite(y) | ~np.isfinite(vy)
    return np.where(bad, np.nan, y), np.where(bad, np.nan, vy)


def labbe(
    fit: MetaResult,
    measure: str,
    *,
    ai: Sequence[float] | np.ndarray,
    ci: Sequence[float] | np.ndarray,
    bi: Sequence[float] | np.ndarray | None = None,
    di: Sequence[float] | np.ndarray | None = None,
    n1i: Sequence[float] | np.ndarray | None = None,
    n2i: Sequence[float] | np.ndarray | None = None,
    add: float = 0.5,
    to: str = "only0",
    transf: str | Callable[[float], float] | None = None,
    plim: tuple[float, float] = (0.5, 3.5),
    title: str = "",
) -> Figure:
    """The L'Abbé plot of a :func:`~metareview.stats.meta` fit of ``measure`` (``"OR"``, ``"RR"`` or ``"RD"``)
    to the 2×2 tables ``ai, bi, ci, di`` (or ``ai, n1i, ci, n2i``), metafor's ``labbe(res)``.

    ``transf`` transforms every plotted value (``"exp"`` turns log proportions back into proportions);
    ``plim`` is the range of the point sizes (R's ``cex``). Trials whose arm outcomes cannot be computed
    (e.g. no events with ``to="none"``) are left out, as metafor leaves them out.
    """
    if not isinstance(fit, MetaResult):
        raise TypeError(
            f"L'Abbé plots are drawn for meta() fits without moderators, not {type(fit).__name__}"
        )
    code = measure.upper()
    if (bi is None) == (n1i is None) or (di is None) == (n2i is None):
        raise ValueError("give bi or n1i for group 1, and di or n2i for group 2")
    yt, vt = arm_outcomes(code, ai, bi, n1i, add=add, to=to)
    yc, vc = arm_outcomes(code, ci, di, n2i, add=add, to=to)
    if yt.size != fit.k:
        raise ValueError(f"the tables have {yt.size} rows but the fit has k = {fit.k}")
    keep = np.isfinite(yt) & np.isfinite(yc) & np.isfinite(vt) & np.isfinite(vc)
    if not keep.any():
        raise ValueError("no trial has arm-level outcomes to plot")
    yt, yc = yt[keep], yc[keep]
    cex = point_sizes(np.sqrt(1 / (vt[keep] + vc[keep])), plim)
    b = float(fit.estimate)
    lo, hi = float(min(yt.min(), yc.min())), float(max(yt.max(), yc.max()))
    if code == "OR":
        c_vals = np.linspace(lo - (hi - lo), hi + (hi - lo), 1000)
    elif code == "RR":
        c_vals = np.linspace(lo - (hi - lo), -b if b > 0 else 0.0, 1000)
    else:  # RD: keep both proportions in [0, 1]
        c_vals = np.linspace(-b if b < 0 else 0.0, 1 - b if b > 0 else 1.0, 1000)
    t_vals = b + c_vals
    tf = resolve_transf(transf)
    if tf is not None:
        f = np.vectorize(tf, otypes=[float])
        yt, yc, c_vals, t_vals = f(yt), f(yc), f(c_vals), f(t_vals)
    label = _ARM[code][1]
    if tf is not None:
        label = f"Transformed {label[0].lower()}{label[1:]}"
    order = np.argsort(-cex, kind="stable")  # metafor draws the largest first, so small ones stay visible
    fig = new_figure(5.0, 4.8)
    with style():
        ax = fig.add_subplot()
        ax.spines[["top", "right"]].set_visible(True)
        lim = r_limits([*yt, *yc])
        ax.set_xlim(*lim)
        ax.set_ylim(*lim)
        ax.axline((0.0, 0.0), slope=1.0, color="black", lw=0.9, gid="labbe-null")
        ax.plot(c_vals, t_vals, color="black", lw=0.9, linestyle=(0, (4, 3)), gid="labbe-estimate")
        ax.scatter(yc[order], yt[order], s=marker_area(cex[order]), facecolors=R_COLOURS["gray"],
                   edgecolors="black", linewidths=0.7, zorder=3, gid="labbe-points")  # fmt: skip
        ax.set_xlabel(f"{label} (group 2, control)")
        ax.set_ylabel(f"{label} (group 1, treatment)")
        if title:
            ax.set_title(title)
    return fig
