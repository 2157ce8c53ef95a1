"""Read back what metafor draws: its plotting calls, recorded by R's graphics engine.

``DRAWN`` defines the R function ``.drawn(expr)``: it evaluates a metafor plotting call on a null PDF device
with the display list on and returns ``list(value = <what the call returned>, calls = <every graphics
primitive drawn, with its arguments>, usr = par("usr"))``. Each call is ``list(name = "C_segments",
a = <positional arguments: numbers, strings, or list(x, y) for point/line calls>)``. The tests of
``metareview.report.plots`` compare the figures' artists with these, so the expected values are the ones
metafor's own code computed (no formula re-typed in the test).
"""

from __future__ import annotations

from typing import Any

import numpy as np

DRAWN = r"""
.drawn <- function(expr) {
  pdf(NULL, width = 7, height = 7); dev.control("enable"); on.exit(dev.off())
  value <- expr
  keep <- function(v) {
    if (is.list(v)) {
      v <- v[vapply(v, function(z) is.numeric(z) || is.character(z) || is.logical(z), TRUE)]
      return(lapply(v, function(z) if (is.logical(z)) as.numeric(z) else z))
    }
    if (is.numeric(v) || is.character(v)) return(v)
    if (is.logical(v)) return(as.numeric(v))
    NA
  }
  calls <- lapply(recordPlot()[[1]], function(e) {
    a <- e[[2]]
    list(name = if (is.list(a[[1]])) a[[1]]$name else "?", a = unname(lapply(a[-1], keep)))
  })
  list(value = value, calls = calls, usr = par("usr"))
}
"""


def calls(drawn: dict[str, Any], name: str) -> list[list[Any]]:
    """The positional arguments of every ``name`` call (``"C_segments"``, ``"C_polygon"`` ...), in order."""
    return [c["a"] for c in drawn["calls"] if c["name"] == name]


def vec(value: Any) -> np.ndarray:
    """An R vector from JSON (a scalar or a list; ``None`` for NA) as a float array."""
    items = value if isinstance(value, list) else [value]
    return np.array([np.nan if v is None or v == "NA" else v for v in items], dtype=float)


def line_xy(line: Any) -> np.ndarray:
    """A matplotlib ``Line2D``'s points as an (n, 2) array."""
    return np.column_stack([np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)])


def by_gid(fig: Any, gid: str) -> list[Any]:
    """Every artist of ``fig`` with this ``gid``, in drawing order."""
    return [a for a in fig.findobj(lambda a: a.get_gid() == gid)]
