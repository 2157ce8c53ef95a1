"""Missing values in model input: ``na_action="fail"`` (our default) or ``"omit"`` (metafor's default).

metafor drops studies with a missing ``yi``, ``vi``, moderator or weight (R's ``na.omit``) and warns
"Studies with NAs omitted from model fitting". ``metareview`` raises by default instead
(``na_action="fail"``): in a systematic review a study silently left out of a pooled estimate is a
reportable event, so leaving it out has to be asked for. ``na_action="omit"`` does what metafor does: the
rows with a missing value (``nan`` or ``None``; infinities are still errors) are dropped, an
:class:`OmittedWarning` names them, and the result's ``omitted`` holds their 0-based indices.

Example::

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     keep, omitted = rows_to_keep("omit", {"yi": [0.1, None, 0.3], "vi": [0.01, 0.02, float("nan")]})
    >>> keep.tolist(), omitted
    ([True, False, False], (1, 2))
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from metareview.stats.errors import StatsInputError

NA_ACTIONS = ("fail", "omit")

BoolArray = NDArray[np.bool_]


class OmittedWarning(UserWarning):
    """Studies with missing values were left out of a fit (``na_action="omit"``)."""


def check_na_action(na_action: str) -> str:
    """Validate ``na_action`` (also accepting R's spellings ``"na.omit"``/``"na.fail"``)."""
    code = na_action[3:] if na_action.startswith("na.") else na_action
    if code not in NA_ACTIONS:
        raise StatsInputError(f"na_action must be one of {NA_ACTIONS}, not {na_action!r}", field="na_action")
    return code


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(float(value))
    return False


def missing_rows(values: ArrayLike | Sequence[Any] | None) -> BoolArray | None:
    """Which entries of one column are missing (``None`` or NaN); None for an absent column.

    Numeric columns are tested as arrays; other columns (strings, mixed) entry by entry.
    """
    if values is None:
        return None
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if arr.ndim == 2:  # a moderator matrix: a row is missing if any of its cells is
        rows = [missing_rows(arr[:, j]) for j in range(arr.shape[1])]
        out = np.zeros(arr.shape[0], dtype=bool)
        for r in rows:
            if r is not None:
                out |= r
        return out
    if arr.dtype.kind in "fc":
        return np.asarray(np.isnan(arr), dtype=bool)
    if arr.dtype.kind in "iub":
        return np.zeros(arr.shape, dtype=bool)
    return np.array([_is_missing(v) for v in arr.ravel().tolist()], dtype=bool).reshape(arr.shape)


def rows_to_keep(
    na_action: str,
    columns: Mapping[str, ArrayLike | Sequence[Any] | None],
    mods: Any = None,
) -> tuple[BoolArray | None, tuple[int, ...]]:
    """The rows a fit keeps under ``na_action``, and the 0-based indices it leaves out.

    ``columns`` are the per-study inputs (``yi``, ``vi``/``sei``, ``weights``; None when absent),
    ``mods`` the moderators (a mapping of columns or a 1-D/2-D array). Under ``"fail"`` (or when no row
    has a missing value, or when the inputs do not have one length, which the fit itself reports) the
    mask is None and nothing is omitted. Under ``"omit"`` a warning names the omitted rows; if every row
    has a missing value a :class:`StatsInputError` is raised.
    """
    if check_na_action(na_action) == "fail":
        return None, ()
    masks = [missing_rows(v) for v in columns.values()]
    if isinstance(mods, Mapping):
        masks += [missing_rows(v) for v in mods.values()]
    elif mods is not None:
        masks.append(missing_rows(mods))
    present = [m for m in masks if m is not None]
    if not present or len({m.shape[0] for m in present if m.ndim >= 1}) != 1:
        return None, ()
    miss = np.zeros(present[0].shape[0], dtype=bool)
    for m in present:
        miss |= m
    if not miss.any():
        return None, ()
    if miss.all():
        raise StatsInputError("every study has a missing value: nothing left to fit", field="yi")
    omitted = tuple(int(i) for i in np.flatnonzero(miss))
    shown = ", ".join(map(str, omitted[:10])) + (", ..." if len(omitted) > 10 else "")
    warnings.warn(
        f"{len(omitted)} stud{'y' if len(omitted) == 1 else 'ies'} with missing values omitted from "
        f"model fitting (0-based indices {shown})",
        OmittedWarning,
        stacklevel=3,
    )
    return ~miss, omitted


def take(values: Any, keep: BoolArray | None) -> Any:
    """``values`` restricted to the rows ``keep`` (None passes through; mappings column by column)."""
    if keep is None or values is None:
        return values
    if isinstance(values, Mapping):
        return {name: take(col, keep) for name, col in values.items()}
    if isinstance(values, np.ndarray):
        return values[keep]
    arr = np.asarray(values, dtype=object)
    if arr.ndim == 2:
        return np.asarray(values, dtype=float)[keep]
    return [v for v, k in zip(list(values), keep.tolist(), strict=True) if k]


__all__ = ["NA_ACTIONS", "OmittedWarning", "check_na_action", "missing_rows", "rows_to_keep", "take"]
