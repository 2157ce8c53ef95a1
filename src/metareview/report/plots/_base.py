"""What every plot shares: the house style, axis back-transforms (metafor's ``atransf`` / ``transf``),
the normal quantile, writing a figure as SVG, PDF and 300-dpi PNG or as a ``data:`` URI, and what the
metafor-style diagnostic plots (radial, Baujat, L'Abbé, bubble, GOSH) add: R's default axis padding,
metafor's point sizes and grid.

Figures are built with :class:`matplotlib.figure.Figure` directly (no pyplot state), so plots can be drawn
from threads and web workers alike. Every plotted number can be read back from the figure: artists carry
``gid`` s named ``<plot>-<part>`` (``radial-points``, ``regplot-ci`` ...), which is how the tests compare
them with what metafor draws.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterator

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: the house style (a print-friendly sans serif; SVG text stays text)
STYLE: dict[Any, Any] = {
    "font.family": "DejaVu Sans", "font.size": 8.5, "axes.titlesize": 9.5, "axes.titleweight": "bold",
    "axes.spines.top": False, "axes.spines.right": False, "axes.linewidth": 0.7, "svg.fonttype": "none",
    "xtick.major.width": 0.7, "ytick.major.width": 0.7, "legend.frameon": False,
}
#: Okabe-Ito colours, safe for colour-blind readers
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
#: the measures whose analysis scale is the log (their axis and annotations are back-transformed with exp)
RATIO_MEASURES = frozenset({"OR", "RR", "HR", "IRR", "ROM", "CVR", "VR", "PLN", "IRLN", "MNLN", "ROMC",
                            "PETO"})

#: marker diameter in points of R's ``cex = 1`` (R draws pch 19/21 circles with a diameter of 0.75 x the
#: point size, 9 pt at R's 12 on a 7-inch device; 5.5 pt here, for figures of about 5 inches)
CEX_POINTS = 5.5
#: R's colours that metafor uses
R_COLOURS = {"lightgray": "#D3D3D3", "darkgray": "#A9A9A9", "gray": "#BEBEBE", "gray85": "#D9D9D9",
             "gray95": "#F2F2F2", "gray40": "#666666"}  # fmt: skip

Transform = Callable[[float], float]


@contextmanager
def style() -> Iterator[None]:
    """Draw and save inside the house style."""
    with matplotlib.rc_context(STYLE):
        yield


def new_figure(width: float, height: float) -> Figure:
    """A figure of ``width`` x ``height`` inches in the house style."""
    from matplotlib.figure import Figure

    with style():
        return Figure(figsize=(width, height))


def z_quantile(level: float) -> float:
    """The two-sided standard normal quantile of a confidence ``level`` in % (95 -> 1.959964)."""
    if not 0 < level < 100:
        raise ValueError(f"level must be between 0 and 100 (a percentage), not {level!r}")
    return NormalDist().inv_cdf(1 - (1 - level / 100) / 2)


def resolve_transform(atransf: str | Transform | None, name: str = "atransf") -> Transform | None:
    """``"exp"`` (ratio measures analysed on the log scale), a function, or ``None`` (identity); ``name`` is
    the argument named in the error (``atransf`` of forest/funnel, ``transf`` of the diagnostic plots)."""
    if atransf is None or callable(atransf):
        return atransf
    if atransf == "exp":
        return math.exp
    raise ValueError(f"{name} must be 'exp', a function or None, not {atransf!r}")


def resolve_transf(transf: str | Transform | None) -> Transform | None:
    """:func:`resolve_transform` for the ``transf`` argument of the metafor-style diagnostic plots."""
    return resolve_transform(transf, "transf")


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


def grid(ax: Axes) -> None:
    """metafor's light-grey grid, under the data."""
    ax.grid(True, color=R_COLOURS["lightgray"], linestyle=(0, (1, 2)), linewidth=0.6)
    ax.set_axisbelow(True)


def transform_for(measure: str | None) -> Transform | None:
    """``exp`` for a ratio measure (OR, RR, HR, ...), else ``None``."""
    return math.exp if measure and measure.upper() in RATIO_MEASURES else None


def fmt_number(value: float, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals and a true minus sign; NaN as an en dash."""
    if value is None or not math.isfinite(value):
        return "\u2013"
    text = f"{value:.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")  # no "-0.00"
    return text.replace("-", "\u2212")


def fmt_interval(est: float, lo: float, hi: float, tf: Transform | None = None, digits: int = 2) -> str:
    """``0.49 [0.34, 0.70]`` on the display scale (``tf`` applied)."""
    f = tf or (lambda v: v)
    return f"{fmt_number(f(est), digits)} [{fmt_number(f(lo), digits)}, {fmt_number(f(hi), digits)}]"


def _nice_ratios(lo: float, hi: float) -> list[float]:
    """Round ratios between exp(lo) and exp(hi): powers of 2 (0.25, 0.5, 1, 2, 4) over a short range,
    else 1-2-5 steps per decade, else powers of 10."""
    doubling = [2.0**e for e in range(-12, 13) if lo <= e * math.log(2) <= hi]
    if 3 <= len(doubling) <= 7:
        return doubling
    decades = [m * 10.0**e for e in range(-4, 5) for m in (1, 2, 5) if lo <= math.log(m * 10.0**e) <= hi]
    if 3 <= len(decades) <= 8:
        return decades
    powers = [10.0**e for e in range(-6, 7) if lo <= e * math.log(10) <= hi]
    return powers if len(powers) >= 2 else doubling or decades


def set_ticks(ax: Axes, lo: float, hi: float, tf: Transform | None) -> None:
    """Ticks of an x axis that runs from ``lo`` to ``hi`` on the analysis scale, labelled on the display
    scale: under ``exp``, round ratios (0.25, 0.5, 1, 2, 4 ...) at their logs; otherwise matplotlib's."""
    if tf is math.exp:
        ticks = _nice_ratios(lo, hi)
        if len(ticks) < 2:
            ticks = [math.exp(v) for v in np.linspace(lo, hi, 4)]
        ax.set_xticks([math.log(t) for t in ticks], [_tick_label(t) for t in ticks])
    else:
        from matplotlib.ticker import MaxNLocator

        locs = [v for v in MaxNLocator(5, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi) if lo <= v <= hi]
        if tf is not None:
            ax.set_xticks(locs, [fmt_number(tf(v), 2) for v in locs])
        else:
            ax.set_xticks(locs)
    ax.set_xlim(lo, hi)


def _tick_label(t: float) -> str:
    if t >= 1:
        return f"{t:g}"
    text = f"{t:.4f}".rstrip("0")
    return text if float(text) == t else f"{t:.2g}"


def padded_range(values: Sequence[float], include: Sequence[float] = (), pad: float = 0.05,
                 ) -> tuple[float, float]:
    """The finite range of ``values`` and ``include``, widened by ``pad`` of its width on both sides."""
    finite = [v for v in [*values, *include] if v is not None and math.isfinite(v)]
    if not finite:
        return -1.0, 1.0
    lo, hi = min(finite), max(finite)
    width = hi - lo or 1.0
    return lo - pad * width, hi + pad * width


_NO_DATE: dict[str, dict[str, Any]] = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}


def fixed_layout(fig: Figure) -> Figure:
    """Mark a figure laid out by hand (everything inside the canvas): it is saved as is, without the extra
    drawing pass that cropping to the drawn content costs."""
    fig._metareview_fixed_layout = True  # type: ignore[attr-defined]
    return fig


def figure_bytes(fig: Figure, fmt: str, dpi: int = 300) -> bytes:
    """The figure rendered as ``svg``, ``pdf`` or ``png`` (at ``dpi``), cropped to what is drawn (unless laid
    out by hand: :func:`fixed_layout`)."""
    buf = io.BytesIO()
    options: dict[str, Any] = {"format": fmt, "metadata": _NO_DATE.get(fmt)}
    if not getattr(fig, "_metareview_fixed_layout", False):
        options["bbox_inches"] = "tight"
    if fmt == "png":
        options.update(dpi=dpi, pil_kwargs={"compress_level": 2})  # fast; the files stay small enough
    with style():
        fig.savefig(buf, **options)
    return buf.getvalue()


def to_data_uri(fig: Figure, fmt: str = "svg", dpi: int = 150) -> str:
    """The figure as a base64 ``data:`` URI (``svg`` or ``png``), for a self-contained HTML page."""
    mime = "image/svg+xml" if fmt == "svg" else f"image/{fmt}"
    return f"data:{mime};base64,{base64.b64encode(figure_bytes(fig, fmt, dpi)).decode('ascii')}"


def save_figure(fig: Figure, stem: str | Path) -> list[Path]:
    """Write ``stem``.svg, ``stem``.pdf and a 300-dpi ``stem``.png; the paths written."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in ("svg", "pdf", "png"):
        path = stem.with_suffix(f".{ext}")
        path.write_bytes(figure_bytes(fig, ext, 300))
        out.append(path)
    return out
