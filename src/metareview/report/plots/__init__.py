"""Plots as functions on result objects, usable from Python and by the report. Each returns a
:class:`matplotlib.figure.Figure` (``fig.savefig("x.svg")`` / ``.pdf`` / ``.png``, or :func:`save_figure`
for all three); matplotlib is imported only inside this package and :mod:`metareview.report.robvis`.

The report's figures::

    from metareview.stats import meta, trimfill
    from metareview.report.plots import forest, funnel, save_figure
    res = meta(yi, vi)
    save_figure(forest(res, labels=studies, measure="RR"), "figures/forest")   # .svg, .pdf, 300-dpi .png
    save_figure(funnel(res, contours=(90, 95, 99), trimfill=trimfill(yi, vi)), "figures/funnel")

- :func:`forest`: studies with CI, weights and annotations, subgroups, overall diamond, prediction interval;
- :func:`funnel`: standard error on the y axis, pseudo-confidence or contour-enhanced regions, trim-and-fill;
- :func:`credibility_forest`: one row per finding of an umbrella review with its CI, PI and class I-IV/ns;
- :func:`overlap_heatmap`: the pairwise corrected covered area between reviews.

metafor's diagnostic plots::

    from metareview.stats import baujat, meta, meta_reg
    from metareview.stats.gosh import gosh
    from metareview.report.plots import baujat_plot, gosh_plot, labbe, radial, regplot
    radial(res, transf="exp")                       # radial() / galbraith()
    baujat_plot(res)                                # baujat()
    labbe(res, "RR", ai=tpos, n1i=n1, ci=cpos, n2i=n2)  # labbe()
    regplot(meta_reg(yi, vi, mods={"ablat": ablat}), pi=True)  # regplot()
    gosh_plot(gosh(res))                            # plot(gosh())
"""

from metareview.report.plots._base import figure_bytes, save_figure, to_data_uri
from metareview.report.plots.baujat import baujat_plot
from metareview.report.plots.forest import Summary, forest, forest_pages, measure_label
from metareview.report.plots.funnel import funnel
from metareview.report.plots.gosh import gosh_plot
from metareview.report.plots.labbe import labbe
from metareview.report.plots.overlap import overlap_heatmap
from metareview.report.plots.radial import galbraith, radial
from metareview.report.plots.regplot import regplot
from metareview.report.plots.umbrella import credibility_forest

__all__ = [
    "Summary",
    "baujat_plot",
    "credibility_forest",
    "figure_bytes",
    "forest",
    "forest_pages",
    "funnel",
    "galbraith",
    "gosh_plot",
    "labbe",
    "measure_label",
    "overlap_heatmap",
    "radial",
    "regplot",
    "save_figure",
    "to_data_uri",
]
