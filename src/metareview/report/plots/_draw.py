"""What the metafor-style diagnostic plots (radial, Baujat, L'Abbé, bubble, GOSH) share: the house style, a
figure made without pyplot (so plots can be drawn from threads and web workers), R's default axis padding,
metafor's point sizes, the normal quantile and the ``transf`` argument.

Every plotted number can be read back from the figure: artists carry ``gid`` s named ``<plot>-<part>``
(``radial-points``, ``regplot-ci`` ...), which is how the tests compare them with what metafor draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: the house style of the report's figures (print-friendly sans serif; SVG text stays text)
STYLE: dict[Any, Any] = {
    "font.family": "DejaVu Sans", "font.size": 8.5, "axes.titlesize": 9.5, "axes.titleweight": "bold",
    "axes.spines.top": False, "axes.spines.right": False, "axes.linewidth": 0.7, "svg.fonttype": "none",
    "xtick.major.width": 0.7, "ytick.major.width": 0.7, "legend.frameon": False,
}  # fmt: skip

#: marker diameter in points of R's ``cex = 1`` (R draws pch 19/21 circles with a diameter of 0.75 x the
#: point size, 9 pt at R's 12 on a 7-inch device; 5.5 pt here, for figures of about 5 inches)
CEX_POINTS = 5.5

#: R's colours that metafor uses
R_COLOURS = {"lightgray": "#D3D3D3", "darkgray": "#A9A9A9", "gray": "#BEBEBE", "gray85": "#D9D9D9",
             "gray95": "#F2F2F2", "gray40": "#666666"}  # fmt: skip

Transform = Callable[[float], float]


@contextmanager
def style() -> Iterator[None]:
    """Draw (and save) inside the house style."""
    with matplotlib.rc_context(STYLE):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches, made without pyplot (``fig.savefig`` writes SVG/PDF/PNG)."""
    from matplotlib.figure import Figure

    with style():
        return Figure(figsize=(width, height))


def r_limits(values: Any) -> tuple[float, float]:
    """The axis limits R draws for data spanning ``values`` (``xaxs = "r"``: the range widened by 4% on
    each side; a zero-width range first by ±0.4·|value|, or ±1 around 0, as R's ``plot.window``)."""
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return -1.0, 1.0
    lo, hi = float(arr.min()), float(arr.max())
    if hi == lo:
        d = 0.4 * abs(lo) if lo != 0 else 1.0
        lo, hi = lo - d, hi + d
    pad = 0.04 * (hi - lo)
    return lo - pad, hi + pad


def point_sizes(wi: Any, plim: tuple[float, float] = (0.5, 3.5)) -> np.ndarray:
    """metafor's point sizes (``cex``) from weights ``wi``: rescaled linearly to ``plim`` (all 1 when the
    weights are equal)."""
    w = np.asarray(wi, dtype=float)
    rng = float(np.nanmax(w) - np.nanmin(w))
    if rng <= math.sqrt(np.finfo(float).eps):
        return np.ones_like(w)
    return np.asarray((w - np.nanmin(w)) / rng * (plim[1] - plim[0]) + plim[0], dtype=float)


def marker_area(cex: Any) -> np.ndarray:
    """Matplotlib scatter sizes (points²) of circles drawn with R's ``cex``."""
    return (np.asarray(cex, dtype=float) * CEX_POINTS) ** 2


def z_quantile(level: float) -> float:
    """The two-sided standard normal quantile of a confidence ``level`` in % (95 -> 1.959964)."""
    if not 0 < level < 100:
        raise ValueError(f"level must be between 0 and 100 (a percentage), not {level!r}")
    return NormalDist().inv_cdf(1 - (1 - level / 100) / 2)


def resolve_transf(transf: str | Transform | None) -> Transform | None:
    """``"exp"`` (ratio measures analysed on the log scale), a function, or ``None`` (identity)."""
    if transf is None or callable(transf):
        return transf
    if transf == "exp":
        return math.exp
    raise ValueError(f"transf must be 'exp', a function or None, not {transf!r}")


def grid(ax: Axes) -> None:
    """metafor's light-grey grid, under the data."""
    ax.grid(True, color=R_COLOURS["lightgray"], linestyle=(0, (1, 2)), linewidth=0.6)
    ax.set_axisbelow(True)
