"""Forest plot of a meta-analysis, as metafor's ``forest()`` draws it, from result objects.

One row per study (its estimate as a square sized by its weight, its confidence interval as a line), the
weight in % and the annotation "estimate [CI]" on the right; optionally the studies grouped with a pooled
diamond per subgroup and the test for subgroup differences; the overall diamond with its prediction
interval on a row of its own; for a meta-regression the fitted value of each study as a grey polygon.

Ratio measures are analysed on the log scale; ``atransf="exp"`` (the default for ``measure="OR"``, ``"RR"``,
``"HR"`` ...) keeps the log axis and labels it, and the annotations, on the ratio scale, as metafor's
``atransf=exp`` does::

    >>> from metareview.stats import escalc, meta
    >>> es = escalc("RR", ai=[4, 6, 3, 62], n1i=[123, 306, 231, 13598], ci=[11, 29, 11, 248],
    ...             n2i=[139, 303, 220, 12867])
    >>> res = meta(es.yi, es.vi)
    >>> fig = forest(res, labels=["Aronson", "Ferguson", "Rosenthal", "Hart"], measure="RR")

Every drawn number can be read back from the figure (artists carry ``gid`` s: ``forest-studies``,
``forest-ci``, ``forest-diamond``, ``forest-subgroup-diamond``, ``forest-pi``, ``forest-weight``,
``forest-annotation``, ``forest-fitted``), which is how the tests check them against metafor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from metareview.report.plots._base import (
    PALETTE,
    fixed_layout,
    fmt_interval,
    fmt_number,
    new_figure,
    padded_range,
    resolve_transform,
    set_ticks,
    style,
    transform_for,
    z_quantile,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["MEASURE_LABELS", "Summary", "forest", "forest_pages", "measure_label"]

#: axis labels of metafor's measures
MEASURE_LABELS: dict[str, str] = {
    "OR": "Odds ratio", "RR": "Risk ratio", "HR": "Hazard ratio", "IRR": "Incidence rate ratio",
    "RD": "Risk difference", "SMD": "Standardised mean difference", "SMDH": "Standardised mean difference",
    "MD": "Mean difference", "ROM": "Ratio of means", "COR": "Correlation", "ZCOR": "Fisher's z",
    "PLO": "Proportion (logit)", "PR": "Proportion", "PETO": "Odds ratio (Peto)", "G": "Hedges' g",
}


def measure_label(measure: str | None, log_axis: bool = False) -> str:
    """``"Odds ratio (log scale)"``, ``"Standardised mean difference"``; metafor's "Observed outcome" when
    the measure is unknown."""
    if not measure:
        return "Observed outcome"
    name = MEASURE_LABELS.get(measure.upper(), measure)
    return f"{name} (log scale)" if log_axis else name


@dataclass(frozen=True)
class Summary:
    """A pooled estimate drawn as a diamond (any result object with these attributes works too)."""

    estimate: float
    ci_lower: float
    ci_upper: float
    pi_lower: float = math.nan
    pi_upper: float = math.nan
    k: int | None = None


_ROW_IN = 0.19  # inches per row
_TOP_IN = 0.1
_BOTTOM_IN = 0.72
_FOOT_IN = 0.17


def _num(obj: Any, name: str) -> float:
    value = getattr(obj, name, math.nan)
    return float(value) if value is not None else math.nan


def _subgroup_summaries(subgroups: Any) -> dict[str, Any]:
    """{group: result} from a :class:`~metareview.stats.SubgroupResult`, a ``ManyResult`` or a mapping."""
    if subgroups is None:
        return {}
    if isinstance(subgroups, Mapping):
        return {str(k): v for k, v in subgroups.items()}
    many = getattr(subgroups, "subgroups", subgroups)
    return {str(g): many[g.item() if hasattr(g, "item") else g] for g in many.groups}


def _model_label(result: Any) -> str:
    method = getattr(result, "method", "")
    k = getattr(result, "k", None)
    kind = "Equal-effects model" if method in ("EE", "FE") else "Random-effects model"
    return f"{kind} (k = {k})" if k is not None else kind


def _subtotal_label(s: Any) -> str:
    k = getattr(s, "k", None)
    return f"Subtotal (k = {k})" if k is not None else "Subtotal"


def _heterogeneity(result: Any) -> str:
    if not hasattr(result, "q") or getattr(result, "method", "") in ("EE", "FE"):
        return ""
    p = _num(result, "q_pvalue")
    ptext = "p < .001" if p < 0.001 else f"p = {p:.3f}".replace("0.", ".", 1)
    return (f"Heterogeneity: \u03c4\u00b2 = {fmt_number(_num(result, 'tau2'))}, I\u00b2 = "
            f"{fmt_number(_num(result, 'i2'), 1)}%, Q({result.q_df}) = {fmt_number(_num(result, 'q'))}, "
            f"{ptext}")


def _subgroup_test(subgroups: Any) -> str:
    q = getattr(subgroups, "q_between", None)
    if q is None:
        return ""
    p = float(subgroups.q_between_pvalue)
    ptext = "p < .001" if p < 0.001 else f"p = {p:.3f}".replace("0.", ".", 1)
    return f"Test for subgroup differences: Q({subgroups.q_between_df}) = {fmt_number(float(q))}, {ptext}"


def _fitted(result: Any, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Fitted values of a meta-regression with their CI (metafor's ``predict(res)`` for each study)."""
    X = getattr(result, "X", None)
    b = getattr(result, "estimates", None)
    if X is None or b is None:
        return None
    X = np.asarray(X, dtype=float)
    fit = X @ np.asarray(b, dtype=float)
    se = np.sqrt(np.einsum("ij,jk,ik->i", X, np.asarray(result.vcov, dtype=float), X))
    ddf = _num(result, "ddf")
    if math.isfinite(ddf):
        from scipy import stats

        crit = float(stats.t.ppf(1 - (1 - level / 100) / 2, ddf))
    else:
        crit = z_quantile(level)
    return fit, fit - crit * se, fit + crit * se


def forest(
    result: Any = None,
    *,
    yi: Sequence[float] | np.ndarray | None = None,
    vi: Sequence[float] | np.ndarray | None = None,
    labels: Sequence[str] | None = None,
    groups: Sequence[Any] | None = None,
    subgroups: Any = None,
    weights: Sequence[float] | np.ndarray | None = None,
    measure: str | None = None,
    atransf: str | Callable[[float], float] | None = None,
    level: float | None = None,
    refline: float | None = 0.0,
    xlab: str | None = None,
    order: str | Sequence[int] | None = None,
    show_weights: bool = True,
    prediction: bool = True,
    study_header: str = "Study",
    annotation_header: str | None = None,
    overall_label: str | None = None,
    favours: tuple[str, str] | None = None,
    title: str = "",
    footer: Sequence[str] = (),
    digits: int = 2,
    width: float | None = None,
    xlim: tuple[float, float] | None = None,
    rows_per_page: int | None = None,
    page: int = 0,
) -> Figure:
    """Draw a forest plot; returns a matplotlib :class:`~matplotlib.figure.Figure`.

    ``result`` is the fitted model: a :class:`~metareview.stats.MetaResult` (overall diamond, weights,
    prediction interval), a :class:`~metareview.stats.MetaRegResult` (fitted values instead of a diamond),
    any object with ``estimate, ci_lower, ci_upper`` (and ``pi_lower, pi_upper``), or ``None`` (studies
    only). ``yi``/``vi`` default to the result's. With ``groups`` (one label per study) the studies are
    drawn by group, each followed by its diamond from ``subgroups`` (a
    :class:`~metareview.stats.SubgroupResult`, whose test for subgroup differences is printed under the
    plot, or a mapping group -> result). Study CIs are ``yi ± z·√vi`` at ``level`` (default the result's,
    else 95%), as metafor draws them. ``weights`` (in %) default to the result's; for groups without an
    overall result, to each subgroup model's.

    ``measure`` chooses the axis label and, for ratio measures, ``atransf="exp"``. ``order``: ``None``
    (as given), ``"yi"`` (by effect, largest first), ``"precision"`` or a list of indices. ``xlim`` fixes
    the axis (analysis scale). With ``rows_per_page``, only page ``page`` of the rows is drawn, on the axis of
    the whole plot (see :func:`forest_pages`).
    """
    if yi is None or vi is None:
        if result is None or getattr(result, "yi", None) is None:
            raise ValueError("give yi and vi, or a result that holds them")
        yi = result.yi if yi is None else yi
        vi = result.vi if vi is None else vi
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    k = len(y)
    if len(v) != k or k == 0:
        raise ValueError(f"yi and vi must have the same, non-zero length (got {k} and {len(v)})")
    names = [str(s) for s in labels] if labels is not None else [f"Study {i + 1}" for i in range(k)]
    if len(names) != k:
        raise ValueError(f"{len(names)} labels for {k} studies")
    tf = resolve_transform(atransf) if atransf is not None else transform_for(measure)
    lvl = float(level if level is not None else getattr(result, "level", 95.0) or 95.0)
    z = z_quantile(lvl)
    lo, hi = y - z * np.sqrt(v), y + z * np.sqrt(v)
    is_reg = getattr(result, "X", None) is not None and getattr(result, "estimates", None) is not None
    overall = None if is_reg or result is None or not hasattr(result, "ci_lower") else result
    summaries = _subgroup_summaries(subgroups)
    if groups is not None and len(groups) != k:
        raise ValueError(f"{len(groups)} group labels for {k} studies")
    group_of = [str(g) for g in groups] if groups is not None else None

    w = _weights(weights, result, overall, summaries, group_of, k)
    idx = _order(order, y, v, k)
    all_rows = _layout(idx, group_of, summaries, overall, prediction)
    fitted = _fitted(result, lvl) if is_reg else None
    allx = [*lo.tolist(), *hi.tolist()]
    for kind, item in all_rows:
        if kind in ("subgroup", "overall"):
            allx += [_num(item, "ci_lower"), _num(item, "ci_upper")]
        elif kind == "pi":
            allx += [_num(item, "pi_lower"), _num(item, "pi_upper")]
    if fitted is not None:
        allx += [*fitted[1].tolist(), *fitted[2].tolist()]
    xlo, xhi = xlim or padded_range(allx, [refline] if refline is not None else [])
    pages = _pages(all_rows, rows_per_page)
    if not 0 <= page < len(pages):
        raise ValueError(f"page {page} of a forest plot with {len(pages)} page(s)")
    a, b = pages[page]
    rows = all_rows[a:b]
    if a > 0 and group_of is not None and rows and rows[0][0] != "group":
        current = next((str(it) for kd, it in reversed(all_rows[:a]) if kd == "group"), "")
        if current:
            rows = [("group", f"{current} (continued)"), *rows]
    n_rows = len(rows)
    last = b >= len(all_rows)
    feet = [t for t in (*footer, _subgroup_test(subgroups) if summaries else "",
                        _heterogeneity(overall) if overall is not None else "") if t] if last else []
    if is_reg and last:
        feet.append(f"Test of moderators: QM(df = {result.qm_df}) = {fmt_number(float(result.qm))}, "
                    f"p {'< .001' if result.qm_pvalue < 0.001 else '= ' + f'{result.qm_pvalue:.3f}'[1:]}")

    row_labels = [*names, *(group_of or []), study_header, f"Prediction interval ({lvl:g}%)"]
    row_labels += [_subtotal_label(s) for s in summaries.values()]
    if overall is not None:
        row_labels.append(overall_label or _model_label(overall))
    label_in = min(3.6, max(1.3, 0.066 * max(len(s) for s in row_labels)))
    plot_in, weight_in, annot_in = 3.0, (0.62 if show_weights and w is not None else 0.0), 1.75
    fig_w = width or (0.15 + label_in + 0.2 + plot_in + 0.2 + weight_in + annot_in + 0.1)
    fig_h = _TOP_IN + _ROW_IN * (n_rows + 1) + _BOTTOM_IN + _FOOT_IN * len(feet) + (0.3 if title else 0)
    fig = new_figure(fig_w, fig_h)
    x_plot0 = (0.15 + label_in + 0.2) / fig_w
    x_weight = (0.15 + label_in + 0.2 + plot_in + 0.2 + weight_in) / fig_w
    x_annot = 1 - 0.1 / fig_w
    bottom = (_BOTTOM_IN + _FOOT_IN * len(feet)) / fig_h
    height = _ROW_IN * (n_rows + 1) / fig_h
    with style():
        ax = fig.add_axes((x_plot0, bottom, plot_in / fig_w, height))
        ax.set_ylim(n_rows - 0.5, -1.5)
        from matplotlib.collections import LineCollection
        from matplotlib.patches import Polygon
        from matplotlib.transforms import blended_transform_factory

        text = blended_transform_factory(fig.transFigure, ax.transData)
        head_y = -1.0
        ax.text(0.15 / fig_w, head_y, study_header, transform=text, fontweight="bold", va="center")
        if show_weights and w is not None:
            ax.text(x_weight, head_y, "Weight", transform=text, fontweight="bold", va="center", ha="right")
        ax.text(x_annot, head_y, annotation_header or f"Estimate [{lvl:g}% CI]", transform=text,
                fontweight="bold", va="center", ha="right")
        colours = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(dict.fromkeys(group_of or []))}
        xs: list[float] = []
        ys, segs, sizes, cols = [], [], [], []
        wmax = float(np.nanmax(w)) if w is not None and len(w) else 1.0
        for r, (kind, item) in enumerate(rows):
            if kind == "group":
                ax.text(0.15 / fig_w, r, str(item), transform=text, fontweight="bold", va="center")
            elif kind == "study":
                i = int(item)  # type: ignore[call-overload]
                xs.append(float(y[i]))
                ys.append(r)
                segs.append([(float(lo[i]), r), (float(hi[i]), r)])
                wi = float(w[i]) if w is not None else 1.0
                sizes.append((2.5 + 6.0 * math.sqrt(max(wi, 0.0) / wmax if wmax > 0 else 1.0)) ** 2)
                cols.append(colours.get(group_of[i], "black") if group_of else "black")
                ax.text(0.15 / fig_w + 0.12 / fig_w * bool(group_of), r, names[i], transform=text,
                        va="center")
                if show_weights and w is not None:
                    ax.text(x_weight, r, f"{fmt_number(wi, digits)}%", transform=text, va="center",
                            ha="right", gid="forest-weight")
                ax.text(x_annot, r, fmt_interval(y[i], lo[i], hi[i], tf, digits), transform=text,
                        va="center", ha="right", family="DejaVu Sans Mono", fontsize=7.5,
                        gid="forest-annotation")
                if fitted is not None:
                    f, flo, fhi = fitted[0][i], fitted[1][i], fitted[2][i]
                    ax.add_patch(Polygon([(flo, r), (f, r - 0.3), (fhi, r), (f, r + 0.3)], closed=True,
                                         fc="#BBBBBB", ec="none", zorder=1, gid="forest-fitted"))
            elif kind in ("subgroup", "overall"):
                s = item
                est, slo, shi = _num(s, "estimate"), _num(s, "ci_lower"), _num(s, "ci_upper")
                fc = colours.get(str(getattr(s, "_group", "")), "black") if kind == "subgroup" else "black"
                gid = "forest-diamond" if kind == "overall" else "forest-subgroup-diamond"
                ax.add_patch(Polygon([(slo, r), (est, r - 0.4), (shi, r), (est, r + 0.4)], closed=True,
                                     fc=fc if kind == "overall" else "white", ec=fc, lw=1.0, zorder=3,
                                     gid=gid))
                label = (overall_label or _model_label(s)) if kind == "overall" else _subtotal_label(s)
                ax.text(0.15 / fig_w, r, label, transform=text, va="center",
                        fontweight="bold" if kind == "overall" else "normal",
                        fontstyle="italic" if kind == "subgroup" else "normal")
                ax.text(x_annot, r, fmt_interval(est, slo, shi, tf, digits), transform=text, va="center",
                        ha="right", family="DejaVu Sans Mono", fontsize=7.5,
                        fontweight="bold" if kind == "overall" else "normal", gid="forest-annotation")
            elif kind == "pi":
                s = item
                plo, phi = _num(s, "pi_lower"), _num(s, "pi_upper")
                ax.plot([plo, phi], [r, r], color="black", lw=1.2, solid_capstyle="butt", gid="forest-pi")
                ax.plot([plo, plo, np.nan, phi, phi], [r - 0.25, r + 0.25, np.nan, r - 0.25, r + 0.25],
                        color="black", lw=1.0)
                ax.text(0.15 / fig_w, r, f"Prediction interval ({lvl:g}%)", transform=text, va="center",
                        fontstyle="italic")
                pl = (f"[{fmt_number(tf(plo) if tf else plo, digits)}, "
                      f"{fmt_number(tf(phi) if tf else phi, digits)}]")
                ax.text(x_annot, r, pl, transform=text, va="center", ha="right", family="DejaVu Sans Mono",
                        fontsize=7.5, gid="forest-annotation")
        ax.add_collection(LineCollection(segs, colors=cols, linewidths=0.9, gid="forest-ci", zorder=2))
        ax.scatter(xs, ys, s=sizes, c=cols, marker="s", linewidths=0, zorder=4, gid="forest-studies")
        set_ticks(ax, xlo, xhi, tf)
        if refline is not None:
            ax.axvline(refline, color="black", lw=0.7, ls=(0, (3, 2)), zorder=0, gid="forest-refline")
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(xlab or measure_label(measure, log_axis=tf is math.exp), labelpad=14 if favours else 4)
        if favours and refline is not None:
            for txt, sign in ((f"\u2190 {favours[0]}", -1), (f"{favours[1]} \u2192", 1)):
                ax.annotate(txt, xy=(refline, 0), xycoords=("data", "axes fraction"), xytext=(5 * sign, -17),
                            textcoords="offset points", ha="left" if sign > 0 else "right", va="top",
                            fontsize=7, color="#555555")
        for j, line in enumerate(feet):
            fig.text(0.15 / fig_w, (_FOOT_IN * (len(feet) - j) - 0.05) / fig_h, line, fontsize=7.5,
                     va="bottom", gid="forest-footer")
        if title:
            heading = title if len(pages) == 1 else f"{title} (part {page + 1} of {len(pages)})"
            fig.suptitle(heading, x=0.15 / fig_w, ha="left", y=1 - 0.05 / fig_h, va="top", fontweight="bold")
    fig._metareview_pages = len(pages)  # type: ignore[attr-defined]
    return fixed_layout(fig)


def _pages(rows: list[tuple[str, object]], per_page: int | None) -> list[tuple[int, int]]:
    """Row ranges of the pages: at most ``per_page`` rows each, broken at a gap between groups when one is
    near the end of a page, and never leaving only the overall rows on a page of their own."""
    if not per_page or len(rows) <= per_page:
        return [(0, len(rows))]
    if per_page < 8:
        raise ValueError("rows_per_page must be at least 8")
    out, start = [], 0
    while len(rows) - start > per_page:
        stop = start + per_page
        gaps = [i + 1 for i in range(stop - 1, start + per_page // 2, -1) if rows[i][0] == "gap"]
        stop = gaps[0] if gaps else stop
        out.append((start, stop))
        start = stop
    out.append((start, len(rows)))
    return out


def forest_pages(result: Any = None, *, rows_per_page: int = 45, **kwargs: Any) -> list[Figure]:
    """A forest plot too long for a page as several figures of at most ``rows_per_page`` rows, each with the
    column headings and the same axis; the pooled estimates and the footer come on the last. Arguments as
    :func:`forest`."""
    first = forest(result, rows_per_page=rows_per_page, page=0, **kwargs)
    n = first._metareview_pages  # type: ignore[attr-defined]
    return [first, *(forest(result, rows_per_page=rows_per_page, page=i, **kwargs) for i in range(1, n))]


def _weights(weights: Any, result: Any, overall: Any, summaries: Mapping[str, Any],
             group_of: list[str] | None, k: int) -> np.ndarray | None:
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if len(w) != k:
            raise ValueError(f"{len(w)} weights for {k} studies")
        return w
    rw = getattr(result, "weights", None) if result is not None else None
    if rw is not None and len(rw) == k:
        return np.asarray(rw, dtype=float)
    if group_of is not None and summaries:
        w = np.full(k, np.nan)
        for g, s in summaries.items():
            sw = getattr(s, "weights", None)
            members = [i for i, gi in enumerate(group_of) if gi == g]
            if sw is not None and len(sw) == len(members):
                w[members] = np.asarray(sw, dtype=float)
        return w if np.isfinite(w).any() else None
    return None


def _order(order: str | Sequence[int] | None, y: np.ndarray, v: np.ndarray, k: int) -> list[int]:
    if order is None:
        return list(range(k))
    if isinstance(order, str):
        if order == "yi":
            return [int(i) for i in np.argsort(-y, kind="stable")]
        if order == "precision":
            return [int(i) for i in np.argsort(v, kind="stable")]
        raise ValueError(f"order must be None, 'yi', 'precision' or a list of indices, not {order!r}")
    idx = [int(i) for i in order]
    if sorted(idx) != list(range(k)):
        raise ValueError("order must list every study index once")
    return idx


def _layout(idx: list[int], group_of: list[str] | None, summaries: Mapping[str, Any], overall: Any,
            prediction: bool) -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    if group_of is None:
        rows += [("study", i) for i in idx]
    else:
        for g in dict.fromkeys(group_of[i] for i in idx):
            rows.append(("group", g))
            rows += [("study", i) for i in idx if group_of[i] == g]
            if g in summaries:
                s = summaries[g]
                rows.append(("subgroup", _Tagged(s, g)))
            rows.append(("gap", None))
    if overall is not None:
        if rows and rows[-1][0] != "gap":
            rows.append(("gap", None))
        rows.append(("overall", overall))
        if prediction and all(math.isfinite(_num(overall, f)) for f in ("pi_lower", "pi_upper")):
            rows.append(("pi", overall))
    elif rows and rows[-1][0] == "gap":
        rows.pop()
    return rows


class _Tagged:
    """A subgroup result with the name of its group (for its colour)."""

    def __init__(self, inner: Any, group: str) -> None:
        self._inner, self._group = inner, group

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
