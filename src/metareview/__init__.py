"""metareview: systematic meta-reviews from search exports to a graded, publishable synthesis.

The public Python API is re-exported here lazily, so ``import metareview as mr`` stays cheap::

    import metareview as mr
    res = mr.meta(yi, vi, method="REML")
    print(res)
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it (filled in as the parts of the system land)
_EXPORTS: dict[str, str] = {
    "escalc": "metareview.stats",
    "meta": "metareview.stats",
    "meta_many": "metareview.stats",
    "meta_reg": "metareview.stats",
    "meta_mv": "metareview.stats",
    "subgroup": "metareview.stats",
    "design_matrix": "metareview.stats",
    "egger_test": "metareview.stats",
    "begg_test": "metareview.stats",
    "trimfill": "metareview.stats",
    "excess_significance": "metareview.stats",
    "leave_one_out": "metareview.stats",
    "influence": "metareview.stats",
    "open_review": "metareview.review",
    "Review": "metareview.review",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        # every public name of metareview.stats (robust, predict, fsn, ...) is also mr.<name>
        stats = import_module("metareview.stats")
        if name in getattr(stats, "__all__", ()):
            return getattr(stats, name)
        raise AttributeError(f"module 'metareview' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    stats = import_module("metareview.stats")
    return sorted({*globals(), *_EXPORTS, *getattr(stats, "__all__", ())})
