"""Random-effects structures of :func:`~metareview.stats.meta_mv`: metafor's ``random = list(~ 1 | ...)``.

A specification is a string (or a list of strings) in metafor's formula syntax with random intercepts:

* ``"~ 1 | study"`` -- one variance component, one random effect per level of ``study``;
* ``"~ 1 | district/school/effect"`` -- nested levels, one component per level of nesting: ``district``,
  ``district/school`` and ``district/school/effect`` (each level of an inner variable counted within
  its outer level, as R's ``interaction(..., drop = TRUE)`` in metafor);
* ``["~ 1 | study", "~ 1 | outcome"]`` -- crossed (or any other combination of) components, in order.

The names after ``|`` are looked up in ``data`` (any mapping of column name to values: a ``dict`` or a
pandas ``DataFrame``). Each component becomes a :class:`Factor`: integer codes (one per effect size)
of its levels, its name as metafor prints it (``s.names``) and its number of levels (``s.nlevels``).

Example::

    >>> fs = random_factors("~ 1 | district/school", {"district": [1, 1, 2, 2], "school": [1, 2, 1, 2]}, 4)
    >>> [(f.name, f.nlevels) for f in fs]
    [('district', 2), ('district/school', 4)]
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from metareview.stats.errors import StatsInputError

IntArray = NDArray[np.intp]

_SPEC = re.compile(r"^\s*~\s*1\s*\|\s*([A-Za-z_.][\w.]*(?:\s*/\s*[A-Za-z_.][\w.]*)*)\s*$")


@dataclass(frozen=True)
class Factor:
    """One variance component: the level (0-based code) of each effect size, and metafor's name for it."""

    name: str
    codes: IntArray
    nlevels: int


def codes_of(labels: Sequence[Hashable] | ArrayLike, k: int, field: str) -> IntArray:
    """0-based codes of ``labels`` in order of first appearance (missing labels raise, naming the index).

    Example::

        >>> codes_of(["b", "a", "b"], 3, "cluster").tolist()
        [0, 1, 0]
    """
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.size != k:
        raise StatsInputError(f"{field} must be a sequence of {k} labels (one per effect size)", field=field)
    if arr.dtype.kind in "biuU":
        _, first, inverse = np.unique(arr, return_index=True, return_inverse=True)
        rank = np.empty(first.size, dtype=np.intp)
        rank[np.argsort(first, kind="stable")] = np.arange(first.size)
        return np.asarray(rank[inverse.ravel()], dtype=np.intp)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise StatsInputError(
                f"missing {field} label", index=int(np.argmax(~np.isfinite(arr))), field=field
            )
        bits = (arr.astype(np.float64) + 0.0).view(np.int64)  # + 0.0 makes -0.0 equal to 0.0
        return codes_of(bits, k, field)  # exact: equal floats, equal bits
    seen: dict[Hashable, int] = {}
    out = np.empty(k, dtype=np.intp)
    for i, lab in enumerate(arr.tolist()):
        if lab is None or (isinstance(lab, float) and math.isnan(lab)):
            raise StatsInputError(f"missing {field} label", index=i, field=field)
        out[i] = seen.setdefault(lab, len(seen))
    return out


def combine(outer: IntArray, inner: IntArray) -> IntArray:
    """Codes of the (outer, inner) pairs: the levels of ``inner`` counted within each level of ``outer``.

    Example::

        >>> combine(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])).tolist()
        [0, 1, 2, 3]
    """
    pair = outer.astype(np.int64) * (int(inner.max()) + 1) + inner.astype(np.int64)
    return codes_of(pair, pair.size, "random")


def random_factors(random: str | Sequence[str], data: Mapping[str, Any] | None, k: int) -> list[Factor]:
    """Parse metafor-style ``random`` specifications into :class:`Factor` components (see the module).

    Raises :class:`StatsInputError` (field ``"random"``) for a specification that is not ``~ 1 | a``
    or ``~ 1 | a/b/...``, a name missing from ``data``, or a column that does not hold ``k`` labels.
    """
    specs = [random] if isinstance(random, str) else list(random)
    if not specs:
        raise StatsInputError("random must name at least one grouping variable", field="random")
    out: list[Factor] = []
    for spec in specs:
        if not isinstance(spec, str):
            raise StatsInputError(
                f"each random term must be a string such as '~ 1 | study', not {spec!r}", field="random"
            )
        match = _SPEC.match(spec)
        if match is None:
            raise StatsInputError(
                f"cannot read the random term {spec!r}: metareview supports random intercepts "
                "'~ 1 | a', nested '~ 1 | a/b/c' and lists of such terms (no '~ inner | outer')",
                field="random",
            )
        names = [n.strip() for n in match.group(1).split("/")]
        codes: IntArray | None = None
        for depth, name in enumerate(names):
            column = _column(data, name, k)
            own = codes_of(column, k, name)
            codes = own if codes is None else combine(codes, own)
            out.append(Factor("/".join(names[: depth + 1]), codes, int(codes.max()) + 1))
    return out


def _column(data: Mapping[str, Any] | None, name: str, k: int) -> Any:
    if data is None:
        raise StatsInputError(
            f"the random term names {name!r}: pass data={{'{name}': [...], ...}} (or a DataFrame)",
            field="random",
        )
    try:
        column = data[name]
    except (KeyError, IndexError, TypeError):
        raise StatsInputError(f"data has no column {name!r} (named in random)", field="random") from None
    values = np.asarray(column)
    if values.ndim != 1 or values.size != k:
        raise StatsInputError(
            f"data column {name!r} must hold {k} labels (one per effect size), not {values.size}",
            field="random",
        )
    return values
