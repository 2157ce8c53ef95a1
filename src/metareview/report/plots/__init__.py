"""Plots as functions on result objects, usable from Python and by the report. Each returns a
:class:`matplotlib.figure.Figure` (``fig.savefig("x.svg")`` / ``.pdf`` / ``.png``); matplotlib is imported
only inside this package.

metafor's diagnostic plots::

    from metareview.stats import baujat, meta, meta_reg
    from metareview.stats.gosh import gosh
    from metareview.report.plots import baujat_plot, gosh_plot, labbe, radial, regplot
    res = meta(yi, vi)
    radial(res, transf="exp")                       # radial() / galbraith()
    baujat_plot(res)                                # baujat()
    labbe(res, "RR", ai=tpos, n1i=n1, ci=cpos, n2i=n2)  # labbe()
    regplot(meta_reg(yi, vi, mods={"ablat": ablat}), pi=True)  # regplot()
    gosh_plot(gosh(res))                            # plot(gosh())
"""

from metareview.report.plots.baujat import baujat_plot
from metareview.report.plots.gosh import gosh_plot
from metareview.report.plots.labbe import labbe
from metareview.report.plots.radial import galbraith, radial
from metareview.report.plots.regplot import regplot

__all__ = ["baujat_plot", "galbraith", "gosh_plot", "labbe", "radial", "regplot"]
