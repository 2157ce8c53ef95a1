"""Plots of the report as functions on result objects, usable from Python too (matplotlib is imported only
inside this package and :mod:`metareview.report.robvis`)::

    from metareview.stats import meta, trimfill
    from metareview.report.plots import forest, funnel, save_figure
    res = meta(yi, vi)
    save_figure(forest(res, labels=studies, measure="RR"), "figures/forest")   # .svg, .pdf, 300-dpi .png
    save_figure(funnel(res, contours=(90, 95, 99), trimfill=trimfill(yi, vi)), "figures/funnel")

- :func:`forest`: studies with CI, weights and annotations, subgroups, overall diamond, prediction interval;
- :func:`funnel`: standard error on the y axis, pseudo-confidence or contour-enhanced regions, trim-and-fill;
- :func:`credibility_forest`: one row per finding of an umbrella review with its CI, PI and class I-IV/ns;
- :func:`overlap_heatmap`: the pairwise corrected covered area between reviews.
"""

from metareview.report.plots._base import figure_bytes, save_figure, to_data_uri
from metareview.report.plots.forest import Summary, forest, forest_pages, measure_label
from metareview.report.plots.funnel import funnel
from metareview.report.plots.overlap import overlap_heatmap
from metareview.report.plots.umbrella import credibility_forest

__all__ = ["Summary", "credibility_forest", "figure_bytes", "forest", "forest_pages", "funnel",
           "measure_label",
           "overlap_heatmap", "save_figure", "to_data_uri"]
