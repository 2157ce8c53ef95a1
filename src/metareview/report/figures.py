"""Figures of the report that are not plots of one model (matplotlib, no pyplot state): the evidence map and
the vote-count bars. The plots of result objects (forest, funnel, credibility forest, overlap heatmap) are in
:mod:`metareview.report.plots`.

Each function returns a :class:`matplotlib.figure.Figure`; inputs are pandas tables with documented columns,
so any source (re-pooled trials, extracted meta-analyses, synthetic data) can be drawn.

Example::

    import pandas as pd
    from metareview.report import figures
    votes = pd.DataFrame({"level": ["Anxiety", "Depression"], "better": [4, 9],
                          "no_difference": [7, 8], "worse": [1, 2]})
    fig = figures.vote_bars(votes, title="Outcome domain")
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from metareview.report.plots._base import new_figure, style, to_data_uri

__all__ = ["DIRECTION_COLOURS", "evidence_map", "to_data_uri", "vote_bars"]

# Colour-blind-safe (Okabe-Ito) colours for "significantly better / no difference / significantly worse".
DIRECTION_COLOURS = {"better": "#0072B2", "no_difference": "#999999", "worse": "#D55E00"}


_LABEL_PT_PER_CHAR = 5.0
"""Width of one digit of the 7-point bold bubble labels, in points (DejaVu Sans: 0.70 em, rounded up)."""


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
    fig = new_figure(3.6 + 1.05 * len(cols), 0.9 + 0.62 * len(rows))
    with style():
        ax = fig.add_subplot()
        for col, row, k, direction in zip(cells["column"], cells["row"], cells["k"].astype(float),
                                          cells["direction"].astype(str), strict=True):
            x, y = cols.index(col), rows.index(row)
            area = 40 + 900 * k / kmax  # points squared
            ax.scatter(x, y, s=area, color=DIRECTION_COLOURS[direction],
                       alpha=0.85, edgecolor="white", linewidth=0.8, zorder=3)
            label = f"{k:.0f}"
            if np.sqrt(area) >= _LABEL_PT_PER_CHAR * len(label) + 3:  # the count fits inside its bubble
                ax.text(x, y, label, ha="center", va="center", fontsize=7, color="white", zorder=4,
                        fontweight="bold")
            else:  # beside a bubble too small to hold it, in dark type
                ax.annotate(label, (x, y), xytext=(np.sqrt(area) / 2 + 2, 0), textcoords="offset points",
                            ha="left", va="center", fontsize=7, color="#333333", zorder=4, fontweight="bold")
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


def vote_bars(counts: pd.DataFrame, *, title: str = "", labels: dict[str, str] | None = None) -> Figure:
    """Horizontal stacked bars of vote counts: ``counts`` has ``level, better, no_difference, worse``."""
    names = labels or {"better": "Significantly better", "no_difference": "No significant difference",
                       "worse": "Significantly worse"}
    levels = list(counts["level"])
    fig = new_figure(7.0, 0.7 + 0.32 * len(levels))
    with style():
        ax = fig.add_subplot()
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
