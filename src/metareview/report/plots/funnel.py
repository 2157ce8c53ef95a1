"""Funnel plot, as metafor's ``funnel()`` draws it: effects against their standard error (y axis reversed, 0
at the top), with

- the pseudo-confidence region ``estimate ± z·SE`` (``level``, default 95%), centred on the pooled estimate;
- or, with ``contours=(90, 95, 99)``, the contour-enhanced funnel (Peters et al. 2008): regions of
  two-sided significance centred on ``refline`` (default the null, 0 on the analysis scale), shaded as
  metafor's ``shade=c("white", "gray55", "gray75")`` on a ``"lightgray"`` background;
- and, given a :class:`~metareview.stats.TrimFillResult`, the studies trim-and-fill imputes drawn as open
  circles beside the observed ones, centred on the adjusted estimate (metafor's funnel of a ``trimfill``).

::

    >>> from metareview.stats import meta, trimfill
    >>> fig = funnel(meta(yi, vi), contours=(90, 95, 99), trimfill=trimfill(yi, vi))   # doctest: +SKIP

Artists carry ``gid`` s for the tests: ``funnel-observed``, ``funnel-filled``, ``funnel-estimate``,
``funnel-refline``, ``funnel-bound-<level>`` (the lines ``centre ± z·SE``) and ``funnel-region-<level>``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from metareview.report.plots._base import (
    fmt_number,
    new_figure,
    padded_range,
    resolve_transform,
    set_ticks,
    style,
    transform_for,
    z_quantile,
)
from metareview.report.plots.forest import measure_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["CONTOUR_SHADES", "funnel"]

#: metafor's shades of the contour-enhanced funnel, innermost region first, and its background
CONTOUR_SHADES = ("white", "#8C8C8C", "#BFBFBF")  # R's white, gray55, gray75
_BACKGROUND = "#D3D3D3"  # R's lightgray


def funnel(
    result: Any = None,
    *,
    yi: Sequence[float] | np.ndarray | None = None,
    vi: Sequence[float] | np.ndarray | None = None,
    trimfill: Any = None,
    contours: Sequence[float] | None = None,
    shades: Sequence[str] = CONTOUR_SHADES,
    level: float = 95.0,
    refline: float | None = None,
    measure: str | None = None,
    atransf: str | Callable[[float], float] | None = None,
    xlab: str | None = None,
    title: str = "",
    note: str = "",
    legend: bool = True,
    width: float = 4.2,
    height: float = 3.6,
    ax: Axes | None = None,
) -> Figure:
    """Draw a funnel plot; returns a matplotlib :class:`~matplotlib.figure.Figure`.

    ``result``: a :class:`~metareview.stats.MetaResult` (its ``yi``, ``vi`` and estimate), or give ``yi`` and
    ``vi``. ``trimfill``: a :class:`~metareview.stats.TrimFillResult` (observed and filled effects, and the
    adjusted estimate). ``contours``: significance levels in % for a contour-enhanced funnel (centred on
    ``refline``, default 0); without them the pseudo-confidence region at ``level`` is centred on the
    estimate. ``note`` (e.g. Egger's test) is printed in the corner. ``ax``: draw into these axes (e.g. one
    panel of a figure with several funnels) instead of a new figure; the axes' figure is returned.
    """
    filled = None
    centre = math.nan
    if trimfill is not None:
        y = np.asarray(trimfill.yi, dtype=float)
        v = np.asarray(trimfill.vi, dtype=float)
        filled = np.asarray(trimfill.filled, dtype=bool)
        centre = float(trimfill.model.estimate)
    elif yi is not None and vi is not None:
        y, v = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    elif result is not None and getattr(result, "yi", None) is not None:
        y, v = np.asarray(result.yi, dtype=float), np.asarray(result.vi, dtype=float)
    else:
        raise ValueError("give a result holding yi and vi, yi and vi, or a trimfill result")
    if len(y) != len(v) or len(y) == 0:
        raise ValueError(f"yi and vi must have the same, non-zero length (got {len(y)} and {len(v)})")
    if not math.isfinite(centre):
        centre = float(getattr(result, "estimate", math.nan)) if result is not None else math.nan
    if not math.isfinite(centre):
        w = 1 / v
        centre = float(np.sum(w * y) / np.sum(w))  # equal-effects estimate when no model is given
    se = np.sqrt(v)
    se_max = float(np.max(se)) * 1.05
    tf = resolve_transform(atransf) if atransf is not None else transform_for(measure)
    ref = 0.0 if refline is None and contours else refline
    own = ax is None
    fig: Any = new_figure(width, height) if ax is None else ax.get_figure()
    with style():
        if ax is None:
            ax = fig.add_subplot()
        s = np.linspace(0.0, se_max, 100)
        xvals = [*y.tolist()]
        if contours:
            levels = sorted(float(c) for c in contours)
            if len(shades) < len(levels):
                raise ValueError(f"{len(levels)} contour levels need as many shades, got {len(shades)}")
            ax.set_facecolor(_BACKGROUND)
            for lev, shade in reversed(list(zip(levels, shades, strict=False))):
                zq = z_quantile(lev)
                ax.fill_betweenx(s, ref - zq * s, ref + zq * s, color=shade, lw=0,  # type: ignore[operator]
                                 gid=f"funnel-region-{lev:g}", zorder=0)
                ax.plot(ref - zq * s, s, color="#666666", lw=0.4, gid=f"funnel-bound-{lev:g}",  # type: ignore[operator]
                        zorder=1)
                ax.plot(ref + zq * s, s, color="#666666", lw=0.4, zorder=1)  # type: ignore[operator]
                xvals += [ref - zq * se_max, ref + zq * se_max]  # type: ignore[operator]
            if legend:
                from matplotlib.patches import Patch

                cuts = [1 - lv / 100 for lv in levels]
                labels = [f"{fmt_number(cuts[0], 2)} < p \u2264 1.00"]
                labels += [f"{fmt_number(cuts[i + 1], 2)} < p \u2264 {fmt_number(cuts[i], 2)}"
                           for i in range(len(cuts) - 1)]
                labels.append(f"0.00 < p \u2264 {fmt_number(cuts[-1], 2)}")
                colours = [*shades[: len(levels)], _BACKGROUND]
                ax.legend(handles=[Patch(fc=c, ec="#666666", lw=0.4, label=lab)
                                   for c, lab in zip(colours, labels, strict=True)],
                          loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=6.5, frameon=False,
                          title="Two-sided p", title_fontsize=6.5)
            ax.axvline(ref, color="black", lw=0.7, gid="funnel-refline", zorder=2)  # type: ignore[arg-type]
            ax.axvline(centre, color="black", lw=0.7, ls=(0, (3, 2)), gid="funnel-estimate", zorder=2)
        else:
            zq = z_quantile(level)
            ax.set_facecolor(_BACKGROUND)
            ax.fill_betweenx(s, centre - zq * s, centre + zq * s, color="white", lw=0, zorder=0,
                             gid=f"funnel-region-{level:g}")
            ax.plot(centre - zq * s, s, color="#666666", lw=0.6, ls=(0, (4, 2)),
                    gid=f"funnel-bound-{level:g}")
            ax.plot(centre + zq * s, s, color="#666666", lw=0.6, ls=(0, (4, 2)))
            ax.axvline(centre, color="black", lw=0.8, gid="funnel-estimate", zorder=2)
            xvals += [centre - zq * se_max, centre + zq * se_max]
            if refline is not None:
                ax.axvline(refline, color="black", lw=0.6, ls=":", gid="funnel-refline", zorder=2)
        observed = ~filled if filled is not None else np.ones(len(y), dtype=bool)
        ax.scatter(y[observed], se[observed], s=16, color="black", edgecolor="black", linewidth=0.5, zorder=4,
                   gid="funnel-observed")
        if filled is not None and filled.any():
            ax.scatter(y[filled], se[filled], s=16, facecolor="white", edgecolor="black", linewidth=0.7,
                       zorder=4, gid="funnel-filled")
        ax.set_ylim(se_max, 0)
        lo, hi = padded_range(xvals, pad=0.02)
        set_ticks(ax, lo, hi, tf)
        ax.set_xlabel(xlab or measure_label(measure, log_axis=tf is math.exp))
        ax.set_ylabel("Standard error")
        for side in ("top", "right"):
            ax.spines[side].set_visible(True)
        if note:
            ax.text(0.02, 0.02, note, transform=ax.transAxes, ha="left", va="bottom", fontsize=7,
                    bbox={"fc": "white", "ec": "#AAAAAA", "lw": 0.5, "pad": 2}, zorder=5)
        if filled is not None and filled.any():
            ax.text(0.02, 0.98, f"{int(filled.sum())} filled (trim and fill, {trimfill.estimator}, "
                    f"{trimfill.side} side)", transform=ax.transAxes, ha="left", va="top", fontsize=7,
                    bbox={"fc": "white", "ec": "#AAAAAA", "lw": 0.5, "pad": 2}, zorder=5)
        if title:
            ax.set_title(title, loc="left")
        if own:
            fig.tight_layout()
    return fig  # type: ignore[no-any-return]
