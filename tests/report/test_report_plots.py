"""The plot functions: each is rendered (SVG, PDF, PNG) and the numbers it draws are read back from the
artists and compared with values computed independently: metafor on ``dat.bcg`` (one Rscript run through
tests/rharness.py), metaumbrella's published vignette for ``df.OR``, ccaR's documented example, and
closed-form quantiles."""

from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_hex
from matplotlib.patches import Polygon

from metareview.report.plots import (
    credibility_forest,
    figure_bytes,
    forest,
    funnel,
    overlap_heatmap,
    save_figure,
)
from metareview.report.plots.umbrella import CLASS_COLOURS
from metareview.stats import escalc, meta, meta_reg, subgroup, trimfill
from tests.rharness import run_r

R_BCG = """
dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
res <- rma(yi, vi, data = dat)
s <- summary(dat)
pr <- predict(res)
sub <- lapply(c("random", "alternate", "systematic"),
              function(a) rma(yi, vi, data = dat, subset = alloc == a))
est <- sapply(sub, function(m) c(m$b)); se <- sapply(sub, function(m) m$se)
w <- 1 / se^2
tf <- trimfill(res)
mr <- rma(yi, vi, mods = ~ ablat, data = dat)
fit <- predict(mr)
out <- list(tpos = dat.bcg$tpos, tneg = dat.bcg$tneg, cpos = dat.bcg$cpos, cneg = dat.bcg$cneg,
            author = dat.bcg$author, alloc = dat.bcg$alloc, ablat = dat.bcg$ablat,
            yi = c(dat$yi), ci_lb = s$ci.lb, ci_ub = s$ci.ub, weights = unname(weights(res)),
            b = c(res$b), ci = c(res$ci.lb, res$ci.ub), pi = c(pr$pi.lb, pr$pi.ub),
            sub_b = est, sub_ci_lb = sapply(sub, function(m) m$ci.lb),
            sub_ci_ub = sapply(sub, function(m) m$ci.ub),
            q_between = sum(w * (est - sum(w * est) / sum(w))^2),
            tf_k0 = tf$k0, tf_side = tf$side, tf_b = c(tf$b), tf_fill_yi = c(tf$yi[tf$fill]),
            tf_fill_sei = sqrt(tf$vi[tf$fill]),
            fit_pred = c(fit$pred), fit_lb = c(fit$ci.lb), fit_ub = c(fit$ci.ub))
"""


@pytest.fixture(scope="module")
def bcg(rscript: str) -> dict:  # type: ignore[type-arg]
    """metafor's values for dat.bcg (Colditz et al. 1994), log risk ratios, REML."""
    return run_r(rscript, "suppressMessages(library(metadat))\n" + R_BCG)


def _ours(bcg: dict):  # type: ignore[no-untyped-def,type-arg]
    es = escalc("RR", ai=bcg["tpos"], bi=bcg["tneg"], ci=bcg["cpos"], di=bcg["cneg"])
    return es, meta(es.yi, es.vi)


def _by_gid(fig, gid: str, kind: type) -> list:  # type: ignore[no-untyped-def,type-arg]
    out = [t for t in fig.texts if isinstance(t, kind) and t.get_gid() == gid]
    for ax in fig.axes:
        out += [a for a in [*ax.collections, *ax.patches, *ax.lines, *ax.texts]
                if isinstance(a, kind) and a.get_gid() == gid]
    return out


def _texts(fig, gid: str) -> list[str]:  # type: ignore[no-untyped-def]
    from matplotlib.text import Text

    return [t.get_text() for t in _by_gid(fig, gid, Text)]


def _num(text: str) -> list[float]:
    import re

    return [float(x) for x in re.findall(r"\d+\.\d+", text.replace("\u2212", "-"))]


@pytest.mark.metafor
def test_forest_draws_metafors_numbers_for_bcg(bcg: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    es, res = _ours(bcg)
    fig = forest(res, labels=bcg["author"], measure="RR")
    points = _by_gid(fig, "forest-studies", PathCollection)[0].get_offsets()
    np.testing.assert_allclose(points[:, 0], bcg["yi"], atol=1e-10)
    segs = _by_gid(fig, "forest-ci", LineCollection)[0].get_segments()
    np.testing.assert_allclose([s[0][0] for s in segs], bcg["ci_lb"], atol=1e-10)
    np.testing.assert_allclose([s[1][0] for s in segs], bcg["ci_ub"], atol=1e-10)
    # weights (%) printed with 2 decimals, as metafor's showweights = TRUE
    assert _texts(fig, "forest-weight") == [f"{w:.2f}%" for w in bcg["weights"]]
    # annotations on the ratio scale (atransf = exp): first study 0.41 [0.13, 1.26]
    notes = _texts(fig, "forest-annotation")
    for text, y, lo, hi in zip(notes, bcg["yi"], bcg["ci_lb"], bcg["ci_ub"], strict=False):
        assert _num(text) == [round(math.exp(v), 2) for v in (y, lo, hi)]
    diamond = _by_gid(fig, "forest-diamond", Polygon)[0].get_xy()
    np.testing.assert_allclose(sorted({round(x, 12) for x in diamond[:, 0]}),
                               sorted([bcg["ci"][0], bcg["b"], bcg["ci"][1]]), atol=1e-8)
    pi_line = _by_gid(fig, "forest-pi", __import__("matplotlib.lines").lines.Line2D)[0].get_xdata()
    np.testing.assert_allclose(pi_line, bcg["pi"], atol=1e-8)
    assert notes[-1] == "[" + ", ".join(f"{math.exp(v):.2f}" for v in bcg["pi"]) + "]"
    assert notes[-2] == " ".join([f"{math.exp(bcg['b']):.2f}",
                                  f"[{math.exp(bcg['ci'][0]):.2f}, {math.exp(bcg['ci'][1]):.2f}]"])
    # the log axis is labelled on the ratio scale: each tick label is exp(its position)
    ax = fig.axes[0]
    for pos, label in zip(ax.get_xticks(), [t.get_text() for t in ax.get_xticklabels()], strict=True):
        assert float(label) == pytest.approx(math.exp(pos), rel=1e-9)
    paths = save_figure(fig, tmp_path / "forest")
    assert [p.suffix for p in paths] == [".svg", ".pdf", ".png"]
    assert paths[1].read_bytes()[:4] == b"%PDF"
    from PIL import Image

    assert Image.open(paths[2]).info["dpi"][0] == pytest.approx(300, abs=1)


@pytest.mark.metafor
def test_forest_subgroups_and_meta_regression(bcg: dict) -> None:  # type: ignore[type-arg]
    es, res = _ours(bcg)
    sg = subgroup(es.yi, es.vi, bcg["alloc"])
    fig = forest(res, labels=bcg["author"], groups=bcg["alloc"], subgroups=sg, measure="RR")
    diamonds = _by_gid(fig, "forest-subgroup-diamond", Polygon)
    assert len(diamonds) == 3  # random, alternate, systematic in order of appearance
    for d, b, lo, hi in zip(diamonds, bcg["sub_b"], bcg["sub_ci_lb"], bcg["sub_ci_ub"], strict=True):
        xs = d.get_xy()[:, 0]
        assert min(xs) == pytest.approx(lo, abs=1e-6) and max(xs) == pytest.approx(hi, abs=1e-6)
        assert xs[1] == pytest.approx(b, abs=1e-6)
    footer = _texts(fig, "forest-footer")
    assert f"Q(2) = {bcg['q_between']:.2f}" in footer[0]
    # studies are drawn group by group, in the group's order: the y of each square follows its group
    ys = _by_gid(fig, "forest-studies", PathCollection)[0].get_offsets()
    order = [i for g in ("random", "alternate", "systematic") for i, a in enumerate(bcg["alloc"]) if a == g]
    np.testing.assert_allclose(ys[:, 0], np.asarray(bcg["yi"])[order], atol=1e-10)

    mr = meta_reg(es.yi, es.vi, mods={"ablat": bcg["ablat"]})
    fig = forest(mr, measure="RR")
    fitted = _by_gid(fig, "forest-fitted", Polygon)
    assert len(fitted) == 13 and not _by_gid(fig, "forest-diamond", Polygon)
    for poly, pred, lo, hi in zip(fitted, bcg["fit_pred"], bcg["fit_lb"], bcg["fit_ub"], strict=True):
        xs = poly.get_xy()[:, 0]
        assert (min(xs), xs[1], max(xs)) == pytest.approx((lo, pred, hi), abs=1e-6)


@pytest.mark.metafor
def test_funnel_contours_and_trim_and_fill(bcg: dict) -> None:  # type: ignore[type-arg]
    es, res = _ours(bcg)
    tf = trimfill(es.yi, es.vi)
    assert (tf.k0, tf.side) == (bcg["tf_k0"], bcg["tf_side"])
    fig = funnel(res, contours=(90, 95, 99), trimfill=tf, measure="RR")
    filled = _by_gid(fig, "funnel-filled", PathCollection)[0].get_offsets()
    np.testing.assert_allclose(filled[:, 0], np.atleast_1d(bcg["tf_fill_yi"]), atol=1e-8)
    np.testing.assert_allclose(filled[:, 1], np.atleast_1d(bcg["tf_fill_sei"]), atol=1e-8)
    observed = _by_gid(fig, "funnel-observed", PathCollection)[0].get_offsets()
    np.testing.assert_allclose(observed[:, 0], bcg["yi"], atol=1e-10)
    from matplotlib.lines import Line2D

    est = _by_gid(fig, "funnel-estimate", Line2D)[0].get_xdata()
    assert est[0] == pytest.approx(bcg["tf_b"], abs=1e-6)
    for level in (90, 95, 99):  # each boundary is x = 0 - z * se, z the two-sided normal quantile
        line = _by_gid(fig, f"funnel-bound-{level}", Line2D)[0]
        z = NormalDist().inv_cdf(1 - (1 - level / 100) / 2)
        np.testing.assert_allclose(line.get_xdata(), -z * np.asarray(line.get_ydata()), atol=1e-12)
    assert fig.axes[0].get_ylim()[0] > fig.axes[0].get_ylim()[1]  # standard error grows downwards

    plain = funnel(res, measure="RR")
    line = _by_gid(plain, "funnel-bound-95", Line2D)[0]
    np.testing.assert_allclose(line.get_xdata(), bcg["b"] - 1.959963984540054 * np.asarray(line.get_ydata()),
                               atol=1e-8)
    assert figure_bytes(plain, "svg").startswith(b"<?xml")


def test_credibility_forest_draws_the_vignette_numbers(shared_data: Path) -> None:
    """metaumbrella's vignette for df.OR (its printed values, as quoted in ../shared/data/README.md):
    ADHD OR 1.526 [1.043, 2.231], PI [0.437, 5.327], class IV; ASD 1.020 [0.778, 1.339], PI [0.354, 2.939],
    ns; dyslexia 1.498 [1.004, 2.236], PI [0.476, 4.714], IV; ID 1.355 [1.078, 1.703], PI [0.491, 3.741],
    IV."""
    from metareview.synthesis.credibility import assess_umbrella
    from metareview.synthesis.umbrella_input import read_umbrella

    table = assess_umbrella(read_umbrella(shared_data / "umbrella" / "metaumbrella" / "df.OR.csv"))
    fig = credibility_forest(table)
    vignette = {"ADHD": (1.526, 1.043, 2.231, 0.437, 5.327, "IV"),
                "ASD": (1.020, 0.778, 1.339, 0.354, 2.939, "ns"),
                "dyslexia": (1.498, 1.004, 2.236, 0.476, 4.714, "IV"),
                "ID": (1.355, 1.078, 1.703, 0.491, 3.741, "IV")}
    names = [a.name for a in table.assessments]
    points = _by_gid(fig, "credibility-points", PathCollection)[0]
    ci = _by_gid(fig, "credibility-ci", LineCollection)[0].get_segments()
    pi = _by_gid(fig, "credibility-pi", LineCollection)[0].get_segments()
    classes = _texts(fig, "credibility-class")
    for i, name in enumerate(names):
        est, lo, hi, plo, phi, klass = vignette[name]
        got = [points.get_offsets()[i, 0], ci[i][0][0], ci[i][1][0], pi[i][0][0], pi[i][1][0]]
        assert [round(math.exp(x), 3) for x in got] == pytest.approx([est, lo, hi, plo, phi], abs=1.5e-3)
        assert classes[i] == klass
        assert to_hex(points.get_facecolors()[i]).upper() == CLASS_COLOURS[klass].upper()


def test_credibility_forest_panels_per_scale_and_equivalent_or() -> None:
    from types import SimpleNamespace as NS

    a = NS(name="Age", measure="SMD", k=5, n_cases=900.0, n_controls=900.0, estimate=0.2, ci_lower=0.1,
           ci_upper=0.3, pi_lower=-0.1, pi_upper=0.5, pvalue=0.01, i2=20.0, klass="IV")
    b = NS(name="Female", measure="OR", k=9, n_cases=2000.0, n_controls=3000.0, estimate=math.log(1.7),
           ci_lower=math.log(1.5), ci_upper=math.log(1.9), pi_lower=math.log(0.7), pi_upper=math.log(4.1),
           pvalue=1e-7, i2=40.0, klass="II")
    assert len(credibility_forest([a, b]).axes) == 2
    fig = credibility_forest([a, b], equivalent="OR")
    assert len(fig.axes) == 1
    x = _by_gid(fig, "credibility-points", PathCollection)[0].get_offsets()[:, 0]
    assert x[0] == pytest.approx(0.2 * math.pi / math.sqrt(3))  # Chinn 2000: log OR = d * pi / sqrt(3)
    # the plot draws synthesis.evidence.umbrella_forest_data's rows: the same figure from its frame
    from metareview.report.plots.umbrella import forest_rows

    frame = forest_rows([a, b])
    assert list(frame["factor"]) == ["Age", "Female"] and list(frame["measure"]) == ["G", "OR"]
    again = _by_gid(credibility_forest(frame, equivalent="OR"), "credibility-points", PathCollection)[0]
    np.testing.assert_allclose(again.get_offsets()[:, 0], x, rtol=1e-12)


def test_overlap_heatmap_shows_ccar_pairwise_values(shared_data: Path) -> None:
    """ccaR's example test.csv: Gilinsky2015-Guo2016 76.9%, Chasan2014-Gilinsky2015 81.8%, Chasan2014-Guo2016
    75.0%, Morton2014-Peacock2014 11.1%, Middleton2014 vs any 0.0%; overall 41.43%."""
    from metareview.synthesis.overlap import CitationMatrix, cca

    res = cca(CitationMatrix.read_csv(shared_data / "overlap" / "ccar" / "test.csv"))
    fig = overlap_heatmap(res)
    names = list(res.pairwise_matrix().columns)
    cells = {}
    from matplotlib.text import Text

    for t in fig.axes[0].texts:
        gid = t.get_gid() or ""
        if gid.startswith("overlap-cell-"):
            i, j = map(int, gid.split("-")[2:])
            cells[frozenset((names[i], names[j]))] = t.get_text()
    assert cells[frozenset(("Gilinsky2015", "Guo2016"))] == "76.9"
    assert cells[frozenset(("Chasan2014", "Gilinsky2015"))] == "81.8"
    assert cells[frozenset(("Chasan2014", "Guo2016"))] == "75.0"
    assert cells[frozenset(("Morton2014", "Peacock2014"))] == "11.1"
    assert {v for k, v in cells.items() if "Middleton2014" in k} == {"0.0"}
    assert len(cells) == len(names) * (len(names) - 1) // 2
    assert any("41.43%" in t.get_text() for t in fig.axes[0].findobj(Text))


def test_long_forest_plots_come_in_pages_on_one_axis() -> None:
    from metareview.report.plots import forest_pages

    rng = np.random.default_rng(5)
    y, v = rng.normal(0.3, 0.2, 100), rng.uniform(0.01, 0.05, 100)
    groups = [f"Review {i // 12}" for i in range(100)]
    res = meta(y, v)
    pages = forest_pages(res, groups=groups, subgroups=subgroup(y, v, groups), rows_per_page=40, title="T")
    assert len(pages) == 4  # 100 studies + 9 x (header, subtotal, gap) + overall and PI rows
    drawn = np.concatenate([_by_gid(f, "forest-studies", PathCollection)[0].get_offsets()[:, 0]
                            for f in pages])
    np.testing.assert_allclose(drawn, y, atol=1e-12)  # every study once, in order
    assert [len(_by_gid(f, "forest-diamond", Polygon)) for f in pages] == [0, 0, 0, 1]
    assert len({f.axes[0].get_xlim() for f in pages}) == 1  # one axis for all pages
    assert [f.texts[0].get_text() for f in pages if f.texts][:1] == ["T (part 1 of 4)"]
    assert not any("continued" in t.get_text() for f in pages for t in f.axes[0].texts)  # broken at gaps
    long_groups = [f"Review {i // 50}" for i in range(100)]  # a group longer than a page goes on, headed
                                                             # again
    pages = forest_pages(res, groups=long_groups, subgroups=subgroup(y, v, long_groups), rows_per_page=40)
    assert any(t.get_text() == "Review 0 (continued)" for t in pages[1].axes[0].texts)
    assert len(forest_pages(res, rows_per_page=200)) == 1


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="same, non-zero length"):
        forest(yi=[0.1, 0.2], vi=[0.01])
    with pytest.raises(ValueError, match="labels"):
        forest(yi=[0.1, 0.2], vi=[0.01, 0.02], labels=["a"])
    with pytest.raises(ValueError, match="give yi and vi"):
        forest()
    with pytest.raises(ValueError, match="atransf"):
        forest(yi=[0.1], vi=[0.01], atransf="log")
    with pytest.raises(ValueError, match="no findings"):
        credibility_forest([])
    frame = pd.DataFrame([[np.nan]], index=["a"], columns=["a"])
    with pytest.raises(ValueError, match="two reviews"):
        overlap_heatmap(frame)
