"""Heatmap of the pairwise overlap of primary studies between reviews: the corrected covered area (CCA,
Pieper et al. 2014) of every pair, annotated, with the overall CCA in the title line, as ccaR's heatmap::

    >>> from metareview.synthesis.overlap import CitationMatrix, cca
    >>> fig = overlap_heatmap(cca(CitationMatrix.read_csv("test.csv")))    # doctest: +SKIP

The cell labels carry the ``gid`` ``overlap-cell-<i>-<j>`` (row, column) for the tests.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from metareview.report.plots._base import new_figure, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["overlap_heatmap"]


def overlap_heatmap(result: Any, *, title: str = "", label: str = "CCA (%)", digits: int = 1) -> Figure:
    """Pairwise CCA (%) of an :class:`~metareview.synthesis.overlap.OverlapResult` (or a square data frame
    of percentages) as an annotated heatmap; the lower triangle only, as the matrix is symmetric."""
    matrix = result.pairwise_matrix() if hasattr(result, "pairwise_matrix") else result
    values = matrix.to_numpy(dtype=float)
    names = [str(c) for c in matrix.columns]
    n = len(names)
    if n < 2:
        raise ValueError("an overlap heatmap needs at least two reviews")
    size = 1.4 + 0.42 * n
    fig = new_figure(size + 1.6, size)
    shown = np.where(np.tril(np.ones((n, n), dtype=bool), k=-1), values, np.nan)
    vmax = max(20.0, float(np.nanmax(shown)) if np.isfinite(shown).any() else 20.0)
    with style():
        ax = fig.add_subplot()
        im = ax.imshow(np.ma.masked_invalid(shown), cmap="Blues", vmin=0, vmax=vmax)
        for i in range(n):
            for j in range(i):
                v = values[i, j]
                if math.isfinite(v):
                    ax.text(j, i, f"{v:.{digits}f}", ha="center", va="center",
                            fontsize=6.5 if n > 12 else 7.5, color="white" if v > 0.6 * vmax else "black",
                            gid=f"overlap-cell-{i}-{j}")
        ax.set_xticks(range(n), names, rotation=45, ha="right")
        ax.set_yticks(range(n), names)
        ax.spines[:].set_visible(False)
        ax.tick_params(length=0)
        ax.set_xlim(-0.5, n - 1.5)
        ax.set_ylim(n - 0.5, 0.5)
        cbar = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
        cbar.set_label(label)
        cbar.outline.set_visible(False)
        overall = getattr(result, "overall", None)
        heading = title
        if overall is not None:
            heading = (f"{title}: " if title else "") + (f"Overall CCA {overall.cca_pct:.2f}% "
                                                          f"({overall.band} overlap)")
        if heading:
            ax.set_title(heading, loc="left")
        fig.tight_layout()
    return fig
