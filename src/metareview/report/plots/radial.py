"""Radial (Galbraith) plot of a meta-analysis, as metafor's ``radial()`` / ``galbraith()`` draws it.

Each study is a point at x = 1/√(vᵢ + τ²) (its precision) and z = yᵢ/√(vᵢ + τ²) (its standardised
effect); τ² is 0 for an equal-effects fit. The line through the origin has the pooled estimate as its slope,
the grey band around it is ± z₁₋α/₂ (±1.96 at 95%): studies outside it are those that disagree with the
pooled estimate. On the right, an arc carries the effect scale: the line from the origin through a point
meets the arc at that study's yᵢ (labelled back-transformed with ``transf``, e.g. ``"exp"`` for log ratios);
an inner arc marks the confidence interval of the pooled estimate. Axis limits, arcs and ticks are computed
exactly as metafor computes them (the arcs are circular on a square plotting region, as metafor's
``pty = "s"``)::

    >>> from metareview.stats import meta
    >>> fig = radial(meta([-0.89, -1.59, -1.35, -1.44, -0.22], [0.33, 0.19, 0.42, 0.02, 0.05]))
    >>> fig.savefig("radial.svg")   # doctest: +SKIP

Artists carry ``gid`` s: ``radial-points``, ``radial-fit`` (the line), ``radial-band`` (the shaded
polygon), ``radial-band-lower`` / ``radial-band-upper`` (its dotted edges), ``radial-arc``,
``radial-arc-ticks``, ``radial-arc-label``, ``radial-ci-arc`` and ``radial-ci-ticks``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from metareview.report.plots._base import (
    CEX_POINTS,
    R_COLOURS,
    new_figure,
    resolve_transf,
    style,
    z_quantile,
)
from metareview.stats.results import MetaResult

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["galbraith", "radial"]


def _arc(radius: float, values: np.ndarray, asp: float) -> tuple[np.ndarray, np.ndarray]:
    """Points at ``radius`` (in units of the x axis, circular on a square region) on the rays of slope
    ``values`` (metafor's arc construction)."""
    x = np.sqrt(radius**2 / (1 + (values / asp) ** 2))
    return x, x * values


def radial(
    fit: Any,
    *,
    center: bool = False,
    level: float | None = None,
    transf: str | Callable[[float], float] | None = None,
    steps: int = 7,
    arc_res: int = 100,
    digits: int = 2,
    back: str = R_COLOURS["lightgray"],
    title: str = "",
) -> Figure:
    """The radial plot of a :func:`~metareview.stats.meta` fit (metafor's ``radial(res)``).

    ``center=True`` plots yᵢ − estimate (metafor's ``center``); ``level`` (default the fit's) sets the
    band; ``transf`` labels the arc on another scale (``"exp"`` for OR/RR); ``steps`` labelled values on the
    arc between min(yᵢ) and max(yᵢ). Like metafor, models with moderators have no radial plot.
    """
    if not isinstance(fit, MetaResult):
        raise TypeError(
            f"radial() needs a meta() result (metafor draws radial plots only for models without "
            f"moderators), not {type(fit).__name__}"
        )
    tf = resolve_transf(transf)
    yi = np.asarray(fit.yi, dtype=float)
    vi = np.asarray(fit.vi, dtype=float)
    tau2 = 0.0 if fit.method == "EE" else float(fit.tau2)
    beta, ci_lb, ci_ub = float(fit.estimate), float(fit.ci_lower), float(fit.ci_upper)
    yi_labels = yi.copy()
    if center:
        yi, ci_lb, ci_ub, beta = yi - beta, ci_lb - beta, ci_ub - beta, 0.0
    zcrit = z_quantile(fit.level if level is None else level)
    zi = yi / np.sqrt(vi + tau2)
    xi = 1 / np.sqrt(vi + tau2)

    x_lo, x_hi = 0.0, 1.3 * float(xi.max())
    width = x_hi - x_lo
    ci_xpos = x_hi + 0.12 * width
    ya_xpos = x_hi + 0.14 * width
    y_min, y_max = float(yi.min()), float(yi.max())
    z_lo = min(-5.0, 1.1 * zi.min(), 1.1 * ci_lb * ci_xpos, 1.1 * y_min * ya_xpos, -1.1 * zcrit + x_hi * beta)
    z_hi = max(5.0, 1.1 * zi.max(), 1.1 * ci_ub * ci_xpos, 1.1 * y_max * ya_xpos, 1.1 * zcrit + x_hi * beta)
    asp = (z_hi - z_lo) / (x_hi - x_lo)

    fig = new_figure(5.6, 4.6)
    with style():
        ax = fig.add_axes((0.2, 0.12, 0.58, 0.8))
        ax.set_box_aspect(1)  # metafor's pty = "s": a square region, so the arcs are circular
        ax.set_xlim(x_lo, x_hi)
        ax.set_ylim(z_lo, z_hi)
        ax.spines[["top", "right"]].set_visible(False)
        band = [(0, zcrit), (x_hi, zcrit + x_hi * beta), (x_hi, -zcrit + x_hi * beta), (0, -zcrit)]
        ax.fill(*zip(*band, strict=True), color=back, lw=0, zorder=0, gid="radial-band")
        ax.plot([0, x_hi], [0, x_hi * beta], color="black", lw=1, gid="radial-fit")
        for sign, part in ((-1, "lower"), (1, "upper")):
            ax.plot([0, x_hi], [sign * zcrit, sign * zcrit + x_hi * beta], color="black", lw=0.8,
                    linestyle=(0, (1, 2)), gid=f"radial-band-{part}")  # fmt: skip
        ax.set_yticks(np.linspace(-4, 4, 9), minor=True)
        ax.set_yticks([-2, 0, 2])
        ax.tick_params(axis="y", which="minor", length=2)
        tau = "" if fit.method == "EE" else r" + \tau^2"
        ax.set_xlabel(rf"$x_i = 1/\sqrt{{v_i{tau}}}$")
        num = "y_i" if not center else r"y_i - \hat{\theta}" if fit.method == "EE" else r"y_i - \hat{\mu}"
        ax.set_ylabel(
            rf"$z_i = \frac{{{num}}}{{\sqrt{{v_i{tau}}}}}$", rotation=0, ha="right", va="center", fontsize=10
        )
        _draw_arcs(ax, yi, yi_labels, ci_lb, beta, ci_ub, (x_lo, x_hi), (z_lo, z_hi), asp, ya_xpos, ci_xpos,
                   steps, arc_res, digits, tf)  # fmt: skip
        ax.scatter(xi, zi, s=CEX_POINTS**2, color="black", linewidths=0, zorder=3,
                   clip_on=False, gid="radial-points")  # fmt: skip
        if title:
            ax.set_title(title)
    return fig


def _draw_arcs(
    ax: Axes,
    yi: np.ndarray,
    yi_labels: np.ndarray,
    ci_lb: float,
    beta: float,
    ci_ub: float,
    xlims: tuple[float, float],
    zlims: tuple[float, float],
    asp: float,
    ya_xpos: float,
    ci_xpos: float,
    steps: int,
    arc_res: int,
    digits: int,
    tf: Callable[[float], float] | None,
) -> None:
    """The effect-scale arc (with ``steps`` ticks and labels) and the CI arc, outside the plotting region."""
    width = xlims[1] - xlims[0]

    def inside(*zs: np.ndarray) -> np.ndarray:
        ok = np.ones(zs[0].shape, dtype=bool)
        for z in zs:
            ok &= (z > zlims[0]) & (z < zlims[1])
        return ok

    def ticks(values: np.ndarray, r_lo: float, r_hi: float, gid: str) -> None:
        xl, zl = _arc(r_lo, values, asp)
        xu, zu = _arc(r_hi, values, asp)
        ok = inside(zl, zu)
        for a, b, c, d in zip(xl[ok], zl[ok], xu[ok], zu[ok], strict=True):
            ax.plot([a, c], [b, d], color="black", lw=0.8, clip_on=False, gid=gid)

    y_min, y_max = float(yi.min()), float(yi.max())
    xs, zs = _arc(ya_xpos, np.linspace(y_min, y_max, arc_res), asp)
    ok = inside(zs)
    ax.plot(xs[ok], zs[ok], color="black", lw=0.8, clip_on=False, gid="radial-arc")
    at = np.linspace(y_min, y_max, steps)
    ticks(at, ya_xpos, ya_xpos + 0.015 * width, "radial-arc-ticks")
    labels = np.linspace(float(yi_labels.min()), float(yi_labels.max()), steps)
    xt, zt = _arc(ya_xpos + 0.02 * width, at, asp)
    for x, z, lab in zip(xt, zt, labels, strict=True):
        if zlims[0] < z < zlims[1]:
            text = f"{(tf(lab) if tf else lab):.{digits}f}".replace("-", "\u2212")
            ax.annotate(text, (x, z), xytext=(2, 0), textcoords="offset points", ha="left", va="center",
                        annotation_clip=False, gid="radial-arc-label")  # fmt: skip
    n_ci = max(2, int(math.floor(arc_res / 4)))
    xc, zc = _arc(ci_xpos, np.linspace(ci_lb, ci_ub, n_ci), asp)
    ok = inside(zc)
    ax.plot(xc[ok], zc[ok], color="black", lw=0.8, clip_on=False, gid="radial-ci-arc")
    ticks(np.array([ci_lb, beta, ci_ub]), ci_xpos - 0.007 * width, ci_xpos + 0.007 * width, "radial-ci-ticks")


#: metafor's alias
galbraith = radial
