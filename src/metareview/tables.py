"""Effect-size tables (CSV) in, meta-analyses out: the plain functions behind ``metareview meta``.

:func:`read_effect_table` reads and validates a CSV of effect sizes; every problem raises
:class:`~metareview.errors.InputError` naming the file, the line and the column. :func:`meta_table`
fits it (one model, or one per ``by`` group) and :func:`meta_record` turns a result into the flat
JSON record of the CLI (issue 2 §3)::

    >>> from metareview.tables import meta_table, meta_record
    >>> fits = meta_table("effects.csv", yi="yi", vi="vi", method="REML")  # doctest: +SKIP
    >>> [meta_record(res, group) for group, res in fits]  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from metareview.errors import InputError
from metareview.stats import MetaResult, StatsInputError, meta, meta_many

# the JSON keys of `metareview meta --json`, in order (issue 2 §3), then the extras
RECORD_KEYS = (
    "k",
    "method",
    "test",
    "estimate",
    "se",
    "statistic",
    "pvalue",
    "ci_lower",
    "ci_upper",
    "tau2",
    "tau2_ci_lower",
    "tau2_ci_upper",
    "i2",
    "h2",
    "q",
    "q_df",
    "q_pvalue",
    "pi_lower",
    "pi_upper",
)
EXTRA_KEYS = (
    "pi_method",
    "level",
    "se_tau2",
    "tau",
    "i2_q",
    "h2_q",
    "i2_ci_lower",
    "i2_ci_upper",
    "converged",
)
_MISSING = {"", "na", "nan", "null", "none"}


@dataclass(frozen=True)
class EffectTable:
    """Validated columns of an effect-size table; ``lines[i]`` is the file line of row ``i``."""

    path: Path
    yi: NDArray[np.float64]
    vi: NDArray[np.float64]
    variance_column: str
    lines: list[int]
    groups: list[str] | None


def read_effect_table(
    path: str | Path, *, yi: str, vi: str | None = None, sei: str | None = None, by: str | None = None
) -> EffectTable:
    """Read ``yi`` and ``vi`` (or ``sei``, squared) and optionally a ``by`` column from a CSV file.

    Cells must be numbers (``.`` decimal point); empty/NA cells, non-numeric cells, non-finite yi
    and vi/sei ≤ 0 are errors naming the line and column. The header is line 1.
    """
    path = Path(path)
    if (vi is None) == (sei is None):
        raise InputError("give exactly one of --vi and --sei", file=path)
    var_col = vi if vi is not None else sei
    assert var_col is not None
    if not path.is_file():
        raise InputError("file not found", file=path)
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        for col in (yi, var_col, *([by] if by else [])):
            if col not in header:
                raise InputError(
                    f"no column {col!r} (columns: {', '.join(header) or 'none'})",
                    file=path,
                    line=1,
                    field=col,
                )
        ys: list[float] = []
        vs: list[float] = []
        lines: list[int] = []
        groups: list[str] = []
        for row in reader:
            line = reader.line_num
            y = _number(row[yi], path, line, yi)
            v = _number(row[var_col], path, line, var_col)
            if not math.isfinite(y):
                raise InputError(
                    f"effect size must be finite, got {row[yi]!r}", file=path, line=line, field=yi
                )
            if not (math.isfinite(v) and v > 0):
                what = "sampling variance" if vi is not None else "standard error"
                raise InputError(
                    f"{what} must be > 0, got {row[var_col]!r}", file=path, line=line, field=var_col
                )
            if by:
                label = (row[by] or "").strip()
                if label.lower() in _MISSING:
                    raise InputError("missing group label", file=path, line=line, field=by)
                groups.append(label)
            ys.append(y)
            vs.append(v if vi is not None else v * v)
            lines.append(line)
    if not ys:
        raise InputError("no data rows", file=path)
    return EffectTable(path, np.array(ys), np.array(vs), var_col, lines, groups if by else None)


def _number(cell: str | None, path: Path, line: int, column: str) -> float:
    text = (cell or "").strip()
    if text.lower() in _MISSING:
        raise InputError("missing value", file=path, line=line, field=column)
    try:
        return float(text)
    except ValueError:
        raise InputError(f"not a number: {text!r}", file=path, line=line, field=column) from None


def meta_table(
    path: str | Path,
    *,
    yi: str,
    vi: str | None = None,
    sei: str | None = None,
    by: str | None = None,
    method: str = "REML",
    test: str = "z",
    pi: str = "z",
    level: float = 95.0,
) -> list[tuple[str | None, MetaResult]]:
    """Fit the table: ``[(None, result)]``, or with ``by`` one ``(group, result)`` per group (sorted).

    Groups are fitted together by :func:`~metareview.stats.meta_many`. Statistics errors come back
    as :class:`~metareview.errors.InputError` naming the file (and line and column where possible).
    """
    table = read_effect_table(path, yi=yi, vi=vi, sei=sei, by=by)
    try:
        if table.groups is None:
            return [(None, meta(table.yi, table.vi, method=method, test=test, pi=pi, level=level))]
        many = meta_many(table.yi, table.vi, table.groups, method=method, test=test, pi=pi, level=level)
        return [(str(g), many[g]) for g in many.groups.tolist()]
    except StatsInputError as exc:
        line = table.lines[exc.index] if exc.index is not None else None
        field = {"yi": yi, "vi": table.variance_column}.get(exc.field or "", f"--{exc.field}")
        raise InputError(exc.message, file=table.path, line=line, field=field) from None


def meta_record(res: MetaResult, group: str | None = None) -> dict[str, Any]:
    """The flat JSON record of a result: the keys of :data:`RECORD_KEYS` (plus extras), NaN as None."""
    out: dict[str, Any] = {} if group is None else {"group": group}
    values = res.to_dict()
    for key in (*RECORD_KEYS, *EXTRA_KEYS):
        val = values[key]
        out[key] = None if isinstance(val, float) and not math.isfinite(val) else val
    return out
