"""Errors raised by :mod:`metareview.stats`, and the shared check of effect-size input.

``stats`` is pure (numpy/scipy only) and cannot import :mod:`metareview.errors`, so it raises its
own :class:`StatsInputError`, a :class:`ValueError` subclass that callers (CLI, synthesis) translate
into :class:`metareview.errors.InputError` with file/row context.

Example::

    >>> from metareview.stats.errors import StatsInputError
    >>> raise StatsInputError("vi must be > 0", index=3, field="vi")
    Traceback (most recent call last):
    ...
    metareview.stats.errors.StatsInputError: vi must be > 0 (index 3, field 'vi')
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


class StatsInputError(ValueError):
    """Bad numeric input to a statistics function.

    ``index`` is the 0-based position of the offending element (if one element is to blame) and
    ``field`` the argument name (``"yi"``, ``"vi"``, ...), so callers can map it back to a file row.
    """

    def __init__(self, message: str, *, index: int | None = None, field: str | None = None) -> None:
        self.message = message
        self.index = index
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.index is not None:
            where.append(f"index {self.index}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{self.message} ({', '.join(where)})" if where else self.message


def check_effects(
    yi: ArrayLike, vi: ArrayLike | None = None, sei: ArrayLike | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate effect sizes and their sampling variances (or standard errors); return ``(yi, vi)``.

    Exactly one of ``vi``/``sei`` must be given. Every ``yi`` must be finite and every ``vi``/``sei``
    finite and > 0; the first offending element is named by its 0-based index.

    Example::

        >>> check_effects([0.1, 0.2], sei=[0.1, 0.2])[1].tolist()
        [0.010000000000000002, 0.04000000000000001]
    """
    if (vi is None) == (sei is None):
        raise StatsInputError(
            "give exactly one of vi (sampling variances) and sei (standard errors)", field="vi"
        )
    y = _vector(yi, "yi")
    field = "vi" if vi is not None else "sei"
    s = _vector(vi if vi is not None else sei, field)  # type: ignore[arg-type]
    if s.size != y.size:
        raise StatsInputError(f"yi has {y.size} values but {field} has {s.size}", field=field)
    if y.size == 0:
        raise StatsInputError("no effect sizes (k = 0)", field="yi")
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise StatsInputError(f"yi must be finite, got {y[bad[0]]}", index=int(bad[0]), field="yi")
    bad = np.flatnonzero(~(np.isfinite(s) & (s > 0)))
    if bad.size:
        raise StatsInputError(
            f"{field} must be finite and > 0, got {s[bad[0]]}", index=int(bad[0]), field=field
        )
    return y, (s if vi is not None else s**2)


def _vector(values: ArrayLike, field: str) -> NDArray[np.float64]:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise StatsInputError(f"{field} must be numeric: {exc}", field=field) from None
    if arr.ndim != 1:
        raise StatsInputError(f"{field} must be one-dimensional, got shape {arr.shape}", field=field)
    return arr


def check_weights(weights: ArrayLike | None, k: int) -> NDArray[np.float64] | None:
    """Validate user weights (metafor's ``weights``): ``k`` finite values >= 0, not all 0; None passes.

    Example::

        >>> check_weights([1, 2.5], 2).tolist()
        [1.0, 2.5]
    """
    if weights is None:
        return None
    w = _vector(weights, "weights")
    if w.size != k:
        raise StatsInputError(f"weights has {w.size} values but there are {k} effect sizes", field="weights")
    bad = np.flatnonzero(~(np.isfinite(w) & (w >= 0)))
    if bad.size:
        raise StatsInputError(
            f"weights must be finite and >= 0, got {w[bad[0]]}", index=int(bad[0]), field="weights"
        )
    if not (w > 0).any():
        raise StatsInputError("weights are all 0", field="weights")
    return w
