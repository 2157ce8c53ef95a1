"""Model matrices for meta-regression from named columns (numeric or categorical), as R's
``model.matrix`` with treatment coding builds them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from metareview.stats.errors import StatsInputError

INTERCEPT = "intrcpt"

Mods = Mapping[str, Sequence[float | str] | NDArray[np.generic]] | ArrayLike
"""Moderators: a mapping of column name to values, or a 1-D/2-D numeric array."""


def design_matrix(
    columns: Mapping[str, Sequence[float | str] | NDArray[np.generic]], intercept: bool = True
) -> tuple[NDArray[np.float64], list[str]]:
    """Build the model matrix ``X`` and its column names from named moderator columns.

    A column whose values are all numbers (``int``/``float``/numpy numbers, not ``bool``) enters
    as one numeric column named after it. Any other column (strings, booleans) is categorical:
    treatment coding with the first level in sorted order as the reference (as R's ``factor()``
    does in the C locale), one 0/1 column per other level named ``<column><level>``
    (``"regionEurope"``), metafor's naming. With ``intercept`` the first column is ``intrcpt``.
    Missing values (None, NaN) and matrices without full column rank raise
    :class:`~metareview.stats.errors.StatsInputError` naming the column (and the index).

    Example::

        >>> X, names = design_matrix({"ablat": [44, 55, 42], "alloc": ["random", "alternate", "random"]})
        >>> names
        ['intrcpt', 'ablat', 'allocrandom']
        >>> X[:, 2].tolist()
        [1.0, 0.0, 1.0]
    """
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        raise StatsInputError(f"moderator columns differ in length: {lengths}", field="mods")
    n = next(iter(lengths.values()), 0)
    blocks: list[NDArray[np.float64]] = [np.ones((n, 1))] if intercept else []
    names: list[str] = [INTERCEPT] if intercept else []
    for name, values in columns.items():
        vals = list(values.tolist() if isinstance(values, np.ndarray) else values)
        _check_missing(name, vals)
        if all(_is_number(val) for val in vals):
            blocks.append(np.asarray(vals, dtype=float)[:, None])
            names.append(name)
        else:
            labels = [str(val) for val in vals]
            for level in sorted(set(labels))[1:]:
                blocks.append(np.array([lab == level for lab in labels], dtype=float)[:, None])
                names.append(f"{name}{level}")
    if not blocks:
        raise StatsInputError("no intercept and no moderators: the model has no coefficients", field="mods")
    x = np.hstack(blocks)
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise StatsInputError(
            f"the model matrix ({', '.join(names)}) is not of full column rank "
            "(a constant or redundant moderator?)",
            field="mods",
        )
    return x, names


def model_matrix(mods: Mods | None, k: int, intercept: bool = True) -> tuple[NDArray[np.float64], list[str]]:
    """The model matrix for ``k`` effect sizes: an intercept (unless ``intercept=False``) plus ``mods``.

    ``mods`` is None, a mapping of named columns (see :func:`design_matrix`) or a 1-D/2-D numeric array
    whose columns are named ``mods`` (one column) or ``mods1``, ``mods2``, ... Raises
    :class:`~metareview.stats.errors.StatsInputError` when a column does not have ``k`` rows or when
    there would be no coefficient at all.

    Example::

        >>> X, names = model_matrix([[1.0, 2.0], [3.0, 5.0], [4.0, 4.0]], 3)
        >>> names
        ['intrcpt', 'mods1', 'mods2']
    """
    if mods is None:
        if not intercept:
            raise StatsInputError(
                "no intercept and no moderators: the model has no coefficients", field="mods"
            )
        return np.ones((k, 1)), [INTERCEPT]
    if isinstance(mods, Mapping):
        columns = dict(mods)
    else:
        arr = np.asarray(mods, dtype=float)
        arr = arr[:, None] if arr.ndim == 1 else arr
        if arr.ndim != 2:
            raise StatsInputError(
                "mods must be a mapping of columns or a 1-D/2-D numeric array", field="mods"
            )
        columns = {"mods" if arr.shape[1] == 1 else f"mods{j + 1}": arr[:, j] for j in range(arr.shape[1])}
    for name, values in columns.items():
        if len(values) != k:
            raise StatsInputError(
                f"moderator {name!r} has {len(values)} rows but there are {k} effect sizes", field=name
            )
    return design_matrix(columns, intercept)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _check_missing(name: str, values: list[object]) -> None:
    for i, val in enumerate(values):
        if val is None or (_is_number(val) and not math.isfinite(float(val))):  # type: ignore[arg-type]
            raise StatsInputError(
                f"moderator {name!r} has a missing or non-finite value", index=i, field=name
            )
