"""Figures of the report (matplotlib, Agg): forest, funnel, evidence map, overlap heatmap, vote counts.

Each function returns a :class:`matplotlib.figure.Figure`; :func:`to_data_uri` turns one into an SVG (or
PNG) ``data:`` URI that the HTML report embeds, so the report is one self-contained file. Inputs are
pandas tables with documented columns, so any source (re-pooled trials, extracted meta-analyses,
synthetic data) can be drawn.

Example::

    import pandas as pd
    from metareview.report import figures
    votes = pd.DataFrame({"level": ["Anxiety", "Depression"], "better": [4, 9],
                          "no_difference": [7, 8], "worse": [1, 2]})
    uri = figures.to_data_uri(figures.vote_bars(votes, title="Outcome domain"))
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402

__all__ = [
    "DIRECTION_COLOURS",
    "Diamond",
    "evidence_map",
    "forest",
    "funnel",
    "overlap_heatmap",
    "to_data_uri",
    "vote_bars",
]

# Colour-blind-safe (Okabe-Ito) colours for "significantly better / no difference / significantly worse".
DIRECTION_COLOURS = {"better": "#0072B2", "no_difference": "#999999", "worse": "#D55E00"}
GROUP_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9")
_RC: dict[Any, Any] = {
    "font.family": "DejaVu Sans", "font.size": 8.5, "axes.titlesize": 9.5, "axes.titleweight": "bold",
    "axes.spines.top": False, "axes.spines.right": False, "axes.linewidth": 0.7, "svg.fonttype": "none",
    "xtick.major.width": 0.7, "ytick.major.width": 0.7, "legend.frameon": False,
}


def to_data_uri(fig: Figure, fmt: str = "svg", dpi: int = 150, tight: bool | None = None) -> str:
    """Render ``fig`` as a base64 ``data:`` URI (``svg`` or ``png``) and close it.

    ``tight`` crops to the drawn content (an extra drawing pass); by default on, except for figures laid
    out by hand (:func:`forest` marks its figures so).
    """
    buf = io.BytesIO()
    crop = tight if tight is not None else not getattr(fig, "_metareview_fixed_layout", False)
    with plt.rc_context(_RC):
        fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight" if crop else None)
    plt.close(fig)
    mime = "image/svg+xml" if fmt == "svg" else f"image/{fmt}"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


class Diamond:
    """A pooled estimate drawn as a diamond under its group in :func:`forest`."""

    def __init__(self, label: str, estimate: float, ci_lower: float, ci_upper: float,
                 pi: tuple[float, float] | None = None) -> None:
        self.label, self.estimate, self.pi = label, estimate, pi
        self.ci_lower, self.ci_upper = ci_lower, ci_upper


def forest(
    rows: pd.DataFrame,
    diamonds: dict[str, Diamond],
    *,
    title: str = "",
    xlabel: str = "Hedges' g (95% CI)",
    favours: tuple[str, str] = ("Favours control", "Favours intervention"),
    footer: str = "",
) -> Figure:
    """Forest plot with subgroups: ``rows`` has ``group, label, yi, ci_lower, ci_upper`` (+ ``weight``).

    Groups are drawn in order of first appearance, each followed by its diamond from ``diamonds``
    (keyed by group); ``footer`` (e.g. the test of difference) is printed under the plot.
    """
    groups = list(dict.fromkeys(rows["group"]))
    layout: list[tuple[str, object]] = []
    for g in groups:
        layout.append(("header", g))
        layout += [("study", i) for i in rows.index[rows["group"] == g]]
        if g in diamonds:
            layout.append(("diamond", diamonds[g]))
        layout.append(("gap", None))
    n = len(layout)
    with plt.rc_context(_RC):
        top, bottom, row_h = 0.35, 0.95, 0.165  # inches
        height = top + bottom + row_h * n
        fig = plt.figure(figsize=(7.4, height))
        ax = fig.add_axes((0.30, bottom / height, 0.45, row_h * n / height))
        ax.set_ylim(n - 0.5, -0.8)
        lo = np.nanmin([rows["ci_lower"].min(), *(d.ci_lower for d in diamonds.values())])
        hi = np.nanmax([rows["ci_upper"].max(), *(d.ci_upper for d in diamonds.values())])
        lo, hi = min(lo, -0.2), max(hi, 0.2)
        pad = 0.05 * (hi - lo)
        ax.set_xlim(lo - pad, hi + pad)
        weights = rows["weight"] if "weight" in rows else pd.Series(1.0, index=rows.index)
        wmax = float(weights.max()) if len(weights) else 1.0
        colour = {g: GROUP_COLOURS[i % len(GROUP_COLOURS)] for i, g in enumerate(groups)}
        trans = ax.get_yaxis_transform()
        mono: dict[str, Any] = {"transform": trans, "va": "center", "ha": "left",
                                "family": "DejaVu Sans Mono", "fontsize": 7.5}
        current = groups[0] if groups else ""
        ys, lo_, hi_, est_, size_, col_ = [], [], [], [], [], []
        for y, (kind, item) in enumerate(layout):
            if kind == "header":
                current = str(item)
                ax.text(-0.66, y, current, transform=trans, fontweight="bold", va="center", ha="left")
            elif kind == "study":
                r = rows.loc[item]  # type: ignore[call-overload]
                ys.append(y)
                lo_.append(float(r["ci_lower"]))
                hi_.append(float(r["ci_upper"]))
                est_.append(float(r["yi"]))
                size_.append((2.5 + 5.5 * math.sqrt(float(weights.loc[item]) / wmax)) ** 2)  # type: ignore[call-overload]
                col_.append(colour[current])
                ax.text(-0.64, y, str(r["label"]), transform=trans, va="center", ha="left")
                ax.text(1.03, y, f"{est_[-1]:5.2f} [{lo_[-1]:5.2f}, {hi_[-1]:5.2f}]", **mono)
            elif kind == "diamond":
                d = item
                assert isinstance(d, Diamond)
                if d.pi is not None and all(np.isfinite(d.pi)):
                    ax.plot(list(d.pi), [y, y], color="black", lw=0.8, ls=(0, (2, 1.5)))
                ax.add_patch(Polygon([(d.ci_lower, y), (d.estimate, y - 0.38), (d.ci_upper, y),
                                      (d.estimate, y + 0.38)], closed=True, fc=colour[current], ec="black",
                                     lw=0.6))
                ax.text(-0.64, y, d.label, transform=trans, va="center", ha="left", fontstyle="italic")
                ax.text(1.03, y, f"{d.estimate:5.2f} [{d.ci_lower:5.2f}, {d.ci_upper:5.2f}]",
                        fontweight="bold", **mono)
        ax.text(1.03, -0.55, "g [95% CI]", fontweight="bold", **{**mono, "family": "DejaVu Sans"})
        ax.hlines(ys, lo_, hi_, colors=col_, lw=0.8)
        ax.scatter(est_, ys, s=size_, c=col_, marker="s", linewidths=0, zorder=3)
        ax.axvline(0, color="black", lw=0.7)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(xlabel, labelpad=16)
        for text, sign in ((f"\u2190 {favours[0]}", -1), (f"{favours[1]} \u2192", 1)):
            ax.annotate(text, xy=(0, 0), xycoords=("data", "axes fraction"), xytext=(6 * sign, -19),
                        textcoords="offset points", ha="left" if sign > 0 else "right", va="top", fontsize=7,
                        color="#555555")
        if title:
            fig.suptitle(title, x=0.02, ha="left", y=1 - 0.08 / height, va="top", fontweight="bold")
        if footer:
            fig.text(0.02, 0.1 / height, footer, ha="left", va="bottom", fontsize=8)
    fig._metareview_fixed_layout = True  # type: ignore[attr-defined]
    return fig


def funnel(
    panels: Sequence[tuple[str, pd.DataFrame, float, str]],
    *,
    xlabel: str = "Hedges' g",
    title: str = "",
) -> Figure:
    """Funnel plots side by side: each panel is ``(name, frame with yi and se, pooled estimate, note)``.

    The pseudo-95% region ``estimate ± 1.96·SE`` is shaded; ``note`` (e.g. Egger's test) is printed in
    the panel.
    """
    k = max(len(panels), 1)
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(1, k, figsize=(3.3 * k, 3.0), squeeze=False)
        for i, (name, frame, est, note) in enumerate(panels):
            ax = axes[0][i]
            se_max = float(frame["se"].max()) * 1.08 if len(frame) else 1.0
            s = np.linspace(0, se_max, 50)
            ax.fill_betweenx(s, est - 1.96 * s, est + 1.96 * s, color="#EEEEEE", lw=0)
            ax.plot(est - 1.96 * s, s, color="#888888", lw=0.6, ls="--")
            ax.plot(est + 1.96 * s, s, color="#888888", lw=0.6, ls="--")
            ax.axvline(est, color="black", lw=0.8)
            ax.scatter(frame["yi"], frame["se"], s=14, color=GROUP_COLOURS[i % len(GROUP_COLOURS)],
                       edgecolor="white", linewidth=0.4, zorder=3)
            ax.set_ylim(se_max, 0)
            ax.set_xlabel(xlabel)
            ax.set_ylabel("Standard error" if i == 0 else "")
            ax.set_title(name, loc="left")
            if note:
                ax.text(0.98, 0.02, note, transform=ax.transAxes, ha="right", va="bottom", fontsize=7.5,
                        bbox={"fc": "white", "ec": "#CCCCCC", "lw": 0.5, "pad": 2})
        if title:
            fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
        fig.tight_layout()
    return fig


def evidence_map(cells: pd.DataFrame, *, title: str = "", size_label: str = "k",
                 labels: dict[str, str] | None = None) -> Figure:
    """Bubble chart: ``cells`` has ``column, row, k, direction`` (``better``/``no_difference``/``worse``).

    Bubble area is proportional to ``k``; colour is the direction; ``labels`` names the three directions
    in the legend.
    """
    names = labels or {"better": "Significantly better", "no_difference": "No significant difference",
                       "worse": "Significantly worse"}
    cols = list(dict.fromkeys(cells["column"]))
    rows = list(dict.fromkeys(cells["row"]))
    kmax = float(cells["k"].max()) if len(cells) else 1.0
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(3.6 + 1.05 * len(cols), 0.9 + 0.62 * len(rows)))
        for col, row, k, direction in zip(cells["column"], cells["row"], cells["k"].astype(float),
                                          cells["direction"].astype(str), strict=True):
            x, y = cols.index(col), rows.index(row)
            ax.scatter(x, y, s=40 + 900 * k / kmax, color=DIRECTION_COLOURS[direction],
                       alpha=0.85, edgecolor="white", linewidth=0.8, zorder=3)
            ax.text(x, y, f"{k:.0f}", ha="center", va="center", fontsize=7, color="white", zorder=4,
                    fontweight="bold")
        ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right")
        ax.set_yticks(range(len(rows)), rows)
        ax.set_xlim(-0.6, len(cols) - 0.4)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.grid(color="#EEEEEE", lw=0.6, zorder=0)
        ax.spines["left"].set_visible(False)
        ax.spines["bottom"].set_visible(False)
        ax.tick_params(length=0)
        handles = [Line2D([], [], marker="o", ls="", color=c, ms=7, label=names[d])
                   for d, c in DIRECTION_COLOURS.items()]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                  title=f"Bubble size: {size_label}", title_fontsize=7.5, fontsize=7.5)
        if title:
            ax.set_title(title, loc="left")
        fig.tight_layout()
    return fig


def overlap_heatmap(matrix: pd.DataFrame, *, title: str = "", label: str = "CCA (%)") -> Figure:
    """Heatmap of a square matrix of pairwise overlap (corrected covered area, %), annotated."""
    values = matrix.to_numpy(dtype=float)
    n = len(matrix)
    with plt.rc_context(_RC):
        size = 1.6 + 0.55 * n
        fig, ax = plt.subplots(figsize=(size + 1.2, size))
        masked = np.ma.masked_invalid(values)
        vmax = max(20.0, float(np.nanmax(values)) if n else 20.0)
        im = ax.imshow(masked, cmap="Blues", vmin=0, vmax=vmax)
        for i in range(n):
            for j in range(n):
                if np.isfinite(values[i, j]) and i != j:
                    v = values[i, j]
                    ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=7,
                            color="white" if v > 0.6 * vmax else "black")
        ax.set_xticks(range(n), list(matrix.columns), rotation=45, ha="right")
        ax.set_yticks(range(n), list(matrix.index))
        ax.spines[:].set_visible(False)
        ax.tick_params(length=0)
        cbar = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
        cbar.set_label(label)
        cbar.outline.set_visible(False)
        if title:
            ax.set_title(title, loc="left")
        fig.tight_layout()
    return fig


def vote_bars(counts: pd.DataFrame, *, title: str = "", labels: dict[str, str] | None = None) -> Figure:
    """Horizontal stacked bars of vote counts: ``counts`` has ``level, better, no_difference, worse``."""
    names = labels or {"better": "Significantly better", "no_difference": "No significant difference",
                       "worse": "Significantly worse"}
    levels = list(counts["level"])
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(7.0, 0.7 + 0.32 * len(levels)))
        left = np.zeros(len(levels))
        for d, c in DIRECTION_COLOURS.items():
            vals = counts[d].to_numpy(dtype=float)
            ax.barh(range(len(levels)), vals, left=left, color=c, height=0.65, label=names[d],
                    edgecolor="white", linewidth=0.5)
            for i, (x0, v) in enumerate(zip(left, vals, strict=True)):
                if v > 0:
                    ax.text(x0 + v / 2, i, f"{int(v)}", ha="center", va="center", fontsize=7, color="white")
            left += vals
        ax.set_yticks(range(len(levels)), levels)
        ax.invert_yaxis()
        ax.set_xlabel("Number of effect sizes")
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=7.5)
        if title:
            ax.set_title(title, loc="left", pad=22)
        fig.tight_layout()
    return fig
