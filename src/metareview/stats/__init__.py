"""metareview.stats: pure numerics (numpy/scipy only), metafor's vocabulary.

Example::

    >>> from metareview.stats import meta
    >>> res = meta([0.1, 0.3, 0.2], [0.01, 0.02, 0.015], method="REML")
"""

from metareview.stats.errors import StatsInputError
from metareview.stats.meta import meta
from metareview.stats.multilevel import MultilevelResult, meta_mv
from metareview.stats.results import MetaResult

__all__ = ["MetaResult", "MultilevelResult", "StatsInputError", "meta", "meta_mv"]
