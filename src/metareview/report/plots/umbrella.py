"""The umbrella review's forest plot: one row per finding (factor) with its pooled estimate, confidence
interval, prediction interval and credibility class (I–IV, ns), as metaumbrella's ``forest()`` of an
umbrella object shows them.

It draws the rows of :func:`metareview.synthesis.evidence.umbrella_forest_data` (one function computes
what an umbrella forest shows): give it that frame, or a ``CredibilityTable`` / ``EvidenceTable`` or
:class:`~metareview.synthesis.credibility.CredibilityAssessment` objects, which it passes to that function.
Findings on different scales get one panel each (ratio measures share a log axis labelled as ratios;
Hedges' g another), unless ``equivalent="OR"`` draws the g findings as equivalent odds ratios (the frame's
``eOR`` columns: log OR = g·π/√3, Chinn 2000) as metaumbrella's ``measure = "eOR"`` does::

    >>> fig = credibility_forest(assess_umbrella(read_umbrella("df.OR.csv")))   # doctest: +SKIP

Artists carry ``gid`` s: ``credibility-points``, ``credibility-ci``, ``credibility-pi`` and the class
labels ``credibility-class``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from metareview.report.plots._base import (
    RATIO_MEASURES,
    fmt_interval,
    fmt_number,
    new_figure,
    padded_range,
    set_ticks,
    style,
)
from metareview.report.plots.forest import measure_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CLASS_COLOURS", "credibility_forest", "forest_rows"]

#: class colours (dark to light: convincing to not significant)
CLASS_COLOURS: dict[str, str] = {"I": "#1B7837", "II": "#5AAE61", "III": "#D9A600", "IV": "#E08214",
                                 "ns": "#9E9E9E"}


def _scale(measure: str) -> str:
    m = (measure or "").upper()
    return "ratio" if m in RATIO_MEASURES else m or "effect"


def credibility_forest(
    source: Any,
    *,
    groups: Mapping[str, str] | None = None,
    equivalent: str | None = None,
    title: str = "",
    digits: int = 2,
) -> Figure:
    """One row per finding: estimate with CI (line) and PI (thin line with end ticks), the class coloured.

    ``source``: :func:`~metareview.synthesis.evidence.umbrella_forest_data`'s frame, or what it takes
    (assessments, a credibility or evidence table). ``groups`` maps finding name -> a heading (e.g. its
    domain) to group the rows under; ``equivalent="OR"`` draws g findings as equivalent odds ratios on the
    ratio axis.
    """
    if equivalent not in (None, "OR"):
        raise ValueError(f"equivalent must be None or 'OR', not {equivalent!r}")
    data = forest_rows(source)
    if not len(data):
        raise ValueError("no findings to plot")
    rows = [_Row.of(rec, equivalent) for rec in data.to_dict("records")]
    panels: dict[str, list[_Row]] = {}
    for row in rows:
        panels.setdefault(row.scale, []).append(row)
    n_lines = sum(len(p) + (len({groups.get(x.name, "") for x in p}) if groups else 0) + 1
                  for p in panels.values())
    name_in = min(3.0, max(1.2, 0.066 * max(len(r.name) for r in rows)))
    x0 = 0.1 + name_in + 0.2
    cols = {"k": x0 + 2.8 + 0.45}
    cols["cases"] = cols["k"] + 0.7
    cols["est"] = cols["cases"] + 1.75
    cols["pi"] = cols["est"] + 1.3
    cols["class"] = cols["pi"] + 0.55
    fig_w = cols["class"] + 0.15
    fig_h = 0.35 + 0.2 * n_lines + 0.75 * len(panels) + (0.3 if title else 0)
    fig = new_figure(fig_w, fig_h)
    from matplotlib.collections import LineCollection
    from matplotlib.transforms import blended_transform_factory

    top = 1 - (0.3 / fig_h if title else 0.05 / fig_h)
    with style():
        for scale, members in panels.items():
            lines = _lines(members, groups)
            share = (0.2 * (len(lines) + 1)) / fig_h
            bottom = top - share
            ax = fig.add_axes((x0 / fig_w, bottom, 2.8 / fig_w, share))
            top = bottom - 0.75 / fig_h
            text = blended_transform_factory(fig.transFigure, ax.transData)
            ax.set_ylim(len(lines) - 0.5, -1.5)
            heads = (("Finding", 0.1, "left"), ("k", cols["k"], "right"), ("Cases", cols["cases"], "right"),
                     ("Estimate [95% CI]", cols["est"], "right"), ("95% PI", cols["pi"], "right"),
                     ("Class", cols["class"], "right"))
            for label, x, ha in heads:
                ax.text(x / fig_w, -1, label, transform=text, fontweight="bold", va="center", ha=ha)
            xs, ys, ci, pi, colours, xvals = [], [], [], [], [], [0.0]
            tf = math.exp if scale == "ratio" else None
            for y, (kind, item) in enumerate(lines):
                if kind == "group":
                    ax.text(0.1 / fig_w, y, str(item), transform=text, fontweight="bold", va="center")
                    continue
                assert isinstance(item, _Row)
                r = item
                xs.append(r.estimate)
                ys.append(y)
                ci.append([(r.ci_lower, y), (r.ci_upper, y)])
                colours.append(CLASS_COLOURS.get(r.klass, "black"))
                xvals += [r.ci_lower, r.ci_upper]
                if math.isfinite(r.pi_lower) and math.isfinite(r.pi_upper):
                    pi.append([(r.pi_lower, y), (r.pi_upper, y)])
                    xvals += [r.pi_lower, r.pi_upper]
                indent = 0.12 if groups else 0.0
                ax.text((0.1 + indent) / fig_w, y, r.name + (" \u2020" if r.converted else ""),
                        transform=text, va="center")
                ax.text(cols["k"] / fig_w, y, str(r.k), transform=text, va="center", ha="right")
                cases = f"{r.n_cases:,.0f}" if math.isfinite(r.n_cases) else "\u2013"
                ax.text(cols["cases"] / fig_w, y, cases, transform=text, va="center", ha="right")
                ax.text(cols["est"] / fig_w, y, fmt_interval(r.estimate, r.ci_lower, r.ci_upper, tf, digits),
                        transform=text, va="center", ha="right", family="DejaVu Sans Mono", fontsize=7.5,
                        gid="credibility-annotation")
                pitext = (f"[{fmt_number(tf(r.pi_lower) if tf else r.pi_lower, digits)}, "
                          f"{fmt_number(tf(r.pi_upper) if tf else r.pi_upper, digits)}]")
                ax.text(cols["pi"] / fig_w, y, pitext, transform=text, va="center", ha="right",
                        family="DejaVu Sans Mono", fontsize=7.5)
                ax.text(cols["class"] / fig_w, y, r.klass, transform=text, va="center", ha="right",
                        fontweight="bold", color="white", gid="credibility-class",
                        bbox={"boxstyle": "round,pad=0.25", "fc": CLASS_COLOURS.get(r.klass, "black"),
                              "ec": "none"})
            ax.add_collection(LineCollection(pi, colors="#777777", linewidths=0.8, gid="credibility-pi"))
            for seg in pi:
                (a, yy), (b, _) = seg
                ax.plot([a, a, np.nan, b, b], [yy - 0.2, yy + 0.2, np.nan, yy - 0.2, yy + 0.2],
                        color="#777777", lw=0.8)
            ax.add_collection(LineCollection(ci, colors=colours, linewidths=2.2, gid="credibility-ci"))
            ax.scatter(xs, ys, s=34, c=colours, marker="D", edgecolor="black", linewidth=0.5, zorder=4,
                       gid="credibility-points")
            lo, hi = padded_range(xvals)
            set_ticks(ax, lo, hi, tf)
            ax.axvline(0.0, color="black", lw=0.7, ls=(0, (3, 2)), zorder=0)
            ax.set_yticks([])
            ax.spines["left"].set_visible(False)
            measure = next(iter({r.measure for r in members}))
            label = (measure_label(measure, log_axis=True) if len({r.measure for r in members}) == 1
                     else "Ratio (log scale)") if scale == "ratio" else measure_label(measure)
            if any(r.converted for r in members):
                label = "Odds ratio (log scale; \u2020 converted from SMD, Chinn 2000)"
            ax.set_xlabel(label)
        if title:
            fig.suptitle(title, x=0.1 / fig_w, ha="left", y=1 - 0.05 / fig_h, va="top", fontweight="bold")
    return fig


def _lines(members: Sequence[_Row], groups: Mapping[str, str] | None) -> list[tuple[str, object]]:
    if not groups:
        return [("finding", r) for r in members]
    out: list[tuple[str, object]] = []
    for g in dict.fromkeys(groups.get(r.name, "") for r in members):
        out.append(("group", g or "Other"))
        out += [("finding", r) for r in members if groups.get(r.name, "") == g]
    return out


def forest_rows(source: Any) -> Any:
    """:func:`~metareview.synthesis.evidence.umbrella_forest_data` of ``source`` (a frame of it is returned
    as is; assessments are wrapped in a credibility table first)."""
    import pandas as pd

    from metareview.synthesis.credibility import CredibilityCriteria, CredibilityTable
    from metareview.synthesis.evidence import EvidenceTable, umbrella_forest_data

    if isinstance(source, pd.DataFrame):
        return source
    if not isinstance(source, CredibilityTable | EvidenceTable):
        items = tuple(getattr(source, "assessments", source))
        if not items:
            return pd.DataFrame()
        source = CredibilityTable(items, getattr(items[0], "criteria", None) or CredibilityCriteria())
    return umbrella_forest_data(source)


class _Row:
    def __init__(self, name: str, measure: str, k: int, n_cases: float, estimate: float, ci_lower: float,
                 ci_upper: float, pi_lower: float, pi_upper: float, klass: str, converted: bool) -> None:
        self.name, self.measure, self.k, self.n_cases = name, measure, k, n_cases
        self.estimate, self.ci_lower, self.ci_upper = estimate, ci_lower, ci_upper
        self.pi_lower, self.pi_upper, self.klass, self.converted = pi_lower, pi_upper, klass, converted
        self.scale = _scale(measure)

    @classmethod
    def of(cls, rec: Mapping[str, Any], equivalent: str | None) -> _Row:
        """A row of umbrella_forest_data on the axis scale (the log of ratios and equivalent ORs)."""
        measure = str(rec.get("measure") or "").upper()
        cols = ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper")
        converted = equivalent == "OR" and measure not in RATIO_MEASURES
        if converted:
            cols = ("eOR", "eOR_ci_lower", "eOR_ci_upper", "eOR_pi_lower", "eOR_pi_upper")
            measure = "OR"
        vals = [float(rec[c]) for c in cols]
        if measure in RATIO_MEASURES:
            with np.errstate(divide="ignore", invalid="ignore"):
                vals = [float(np.log(v)) for v in vals]
        return cls(str(rec["factor"]), measure, int(rec["k"]), float(rec.get("n_cases", math.nan)), vals[0],
                   vals[1], vals[2], vals[3], vals[4], str(rec["class"]), converted)
