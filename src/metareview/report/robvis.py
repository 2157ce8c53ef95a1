"""Risk-of-bias figures like robvis's (McGuinness LA, Higgins JPT. Risk-of-bias VISualization (robvis): an R
package and Shiny web app for visualizing risk-of-bias assessments. Res Synth Methods 2021;12:55-61):

- :func:`traffic_light`: studies × domains, one coloured circle with a symbol per judgement (``+`` low,
  ``-`` some concerns, ``?`` unclear, ``X`` high), the overall judgement as the last column;
- :func:`summary_bars`: per domain, the share of studies at each judgement (optionally weighted by each
  study's ``weight``), as stacked horizontal bars.

Both take RoB 2 / RoB 1 / ROBIS result objects and return a matplotlib figure (matplotlib is imported inside
the functions); :func:`save_figure` writes SVG, PDF and a 300-dpi PNG::

    >>> fig = traffic_light(forms)                          # doctest: +SKIP
    >>> save_figure(fig, "figures/rob2-traffic-light")      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metareview.errors import InputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: robvis's colours
COLOURS: dict[str, str] = {"low": "#02C100", "some concerns": "#E2DF07", "unclear": "#E2DF07",
                           "high": "#BF0000", "no information": "#4EA1F7"}
SYMBOLS: dict[str, str] = {"low": "+", "some concerns": "-", "unclear": "?", "high": "X",
                           "no information": "?"}
ORDER: tuple[str, ...] = ("low", "some concerns", "unclear", "high")
LABELS: dict[str, str] = {"low": "Low", "some concerns": "Some concerns", "unclear": "Unclear",
                          "high": "High"}


def table(forms: Sequence[Any]) -> tuple[list[str], list[str], list[str], list[list[str]], list[float]]:
    """``(studies, domain keys, domain names, judgements per study, weights)`` of the forms, the overall
    judgement as the last domain."""
    from metareview.extraction import rob1, rob2, robis

    if not forms:
        raise InputError("no risk-of-bias assessments to plot", field="forms")
    kinds = {type(f) for f in forms}
    if len(kinds) != 1:
        raise InputError("plot the assessments of one tool at a time", field="forms")
    first = forms[0]
    if isinstance(first, rob2.Rob2Assessment):
        keys = [*rob2.DOMAINS, "Overall"]
        names = [n for n, _ in rob2.DOMAINS.values()] + ["Overall"]
        rows = [[d.judgement for d in f.domains] + [f.overall] for f in forms]
        labels = [f.study for f in forms]
    elif isinstance(first, rob1.Rob1Assessment):
        keys = [f"D{i}" for i in range(1, len(rob1.DOMAINS) + 1)] + ["Overall"]
        names = [*rob1.DOMAINS.values(), "Overall"]
        rows = [[f.judgements[d] for d in rob1.DOMAINS] + [f.summary] for f in forms]
        labels = [f.study for f in forms]
    elif isinstance(first, robis.RobisAssessment):
        keys = [f"D{d}" for d in robis.DOMAINS] + ["Overall"]
        names = [n for n, _ in robis.DOMAINS.values()] + ["Risk of bias in the review"]
        rows = [[d.concern for d in f.domains] + [f.overall] for f in forms]
        labels = [f.review for f in forms]
    else:
        raise InputError(f"cannot plot {type(first).__name__}", field="forms")
    weights = [float(getattr(f, "weight", None) or 1.0) for f in forms]
    return labels, keys, names, rows, weights


def traffic_light(forms: Sequence[Any], *, title: str = "") -> Figure:
    """The traffic-light plot: one row per study, one column per domain and the overall judgement."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    labels, keys, names, rows, _ = table(forms)
    n, m = len(labels), len(keys)
    fig = Figure(figsize=(4.5 + 0.6 * m + 0.08 * max(len(s) for s in labels), max(2.6, 1.6 + 0.45 * n)))
    ax = fig.add_subplot()
    for i, row in enumerate(rows):
        for j, judgement in enumerate(row):
            ax.scatter(j, i, s=420, color=COLOURS[judgement], edgecolors="black", linewidths=0.6, zorder=3,
                       gid=f"cell-{i}-{j}")
            ax.text(j, i, SYMBOLS[judgement], ha="center", va="center", fontsize=11, fontweight="bold",
                    color="black", zorder=4)
    ax.set_xlim(-0.6, m - 0.4)
    ax.set_ylim(n - 0.4, -0.6)
    ax.set_xticks(range(m), keys)
    ax.xaxis.tick_top()
    ax.set_yticks(range(n), labels)
    ax.axvline(m - 1.5, color="grey", linewidth=0.8)
    ax.grid(True, color="#dddddd", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    for side in ("right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    used = [j for j in ORDER if any(j in r for r in rows)]
    handles = [Line2D([], [], marker="o", linestyle="", markersize=10, markerfacecolor=COLOURS[j],
                      markeredgecolor="black", label=f"{SYMBOLS[j]}  {LABELS[j]}") for j in used]
    ax.legend(handles=handles, title="Judgement", loc="upper left", bbox_to_anchor=(1.02, 1.0),
              frameon=False)
    key_text = "\n".join(f"{k}: {nm}" for k, nm in zip(keys[:-1], names[:-1], strict=True))
    fig.text(0.74, 0.06, key_text, fontsize=7, va="bottom", ha="left")
    if title:
        fig.suptitle(title)
    fig.subplots_adjust(left=0.05 + 0.012 * max(len(s) for s in labels), right=0.72, top=0.9, bottom=0.05)
    return fig


def summary_shares(forms: Sequence[Any], *, weighted: bool = False) -> dict[str, dict[str, float]]:
    """Domain key → judgement → percentage of studies (or of total weight when ``weighted``)."""
    _, keys, _, rows, weights = table(forms)
    w = weights if weighted else [1.0] * len(rows)
    total = sum(w)
    if total <= 0:
        raise InputError("the weights sum to 0", field="weight")
    return {k: {j: 100 * sum(wi for wi, r in zip(w, rows, strict=True) if r[c] == j) / total
                for j in ORDER if any(r[c] == j for r in rows)}
            for c, k in enumerate(keys)}


def summary_bars(forms: Sequence[Any], *, weighted: bool = False, title: str = "") -> Figure:
    """The summary plot: per domain (top to bottom, overall last), stacked bars of the share per judgement."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    _, keys, names, _, _ = table(forms)
    shares = summary_shares(forms, weighted=weighted)
    fig = Figure(figsize=(9, 1.2 + 0.45 * len(keys)))
    ax = fig.add_subplot()
    for i, key in enumerate(keys):
        left = 0.0
        for j in ORDER:
            width = shares[key].get(j, 0.0)
            if width:
                ax.barh(i, width, left=left, color=COLOURS[j], edgecolor="black", linewidth=0.5, height=0.7,
                        gid=f"bar-{i}-{j}")
                left += width
    ax.set_yticks(range(len(keys)), [f"{nm} ({k})" if k != "Overall" else nm for k, nm in
                                     zip(keys, names, strict=True)])
    ax.set_ylim(len(keys) - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
    ax.set_xlabel("Share of studies (weighted)" if weighted else "Share of studies")
    used = [j for j in ORDER if any(j in s for s in shares.values())]
    ax.legend(handles=[Patch(facecolor=COLOURS[j], edgecolor="black", label=LABELS[j]) for j in used],
              loc="upper center", bbox_to_anchor=(0.5, -0.18 - 0.3 / len(keys)), ncol=len(used),
              frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, stem: str | Path) -> list[Path]:
    """Write ``stem``.svg, ``stem``.pdf and a 300-dpi ``stem``.png; the paths written."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for ext in ("svg", "pdf", "png"):
        path = stem.with_suffix(f".{ext}")
        fig.savefig(path, format=ext, dpi=300 if ext == "png" else None, bbox_inches="tight")
        out.append(path)
    return out
