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
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from metareview.errors import InputError
from metareview.stats import ManyResult, MetaResult, StatsInputError, meta, meta_many

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
    fast = _read_fast(path, yi, var_col, by, squared=vi is None)
    if fast is not None:
        return fast
    return _read_exact(path, yi=yi, vi=vi, sei=sei, by=by)


def _read_fast(path: Path, yi: str, var_col: str, by: str | None, *, squared: bool) -> EffectTable | None:
    """The table split in whole columns (plain text split at commas and line ends when the file has no
    quotes, else the csv module's C reader), converted at once; None whenever anything is off (a bad
    cell, a blank or ragged row, a quoted line break, a duplicate column): then
    :func:`_read_exact` reads it row by row and names the file, line and column of the problem.
    Accepted cells get exactly the values :func:`_read_exact` gives them (the same ``float``)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        text = handle.read()
    split = _split_plain(text) if not any(c in text for c in '"\r\0') else _split_csv(text)
    if split is None:
        return None
    header, columns = split
    wanted = (yi, var_col, *([by] if by else []))
    if len(set(header)) != len(header) or any(col not in header for col in wanted):
        return None
    try:
        ys = np.array(list(map(float, columns[header.index(yi)])))
        vs = np.array(list(map(float, columns[header.index(var_col)])))
    except ValueError:
        return None
    if not (np.isfinite(ys).all() and np.isfinite(vs).all() and (vs > 0).all()):
        return None
    groups: list[str] | None = None
    if by:
        groups = [label.strip() for label in columns[header.index(by)]]
        if any(label.lower() in _MISSING for label in set(groups)):
            return None
    lines = list(range(2, len(ys) + 2))
    return EffectTable(path, ys, vs * vs if squared else vs, var_col, lines, groups)


def _split_plain(text: str) -> tuple[list[str], list[list[str]]] | None:
    """Header and columns of a CSV text without quotes, carriage returns or NULs, where the csv
    module's rows are exactly the lines split at commas; None for blank or ragged lines."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) < 2:
        return None
    header = lines[0].split(",")
    width = len(header)
    commas = width - 1
    if any(not line or line.count(",") != commas for line in lines[1:]):
        return None
    cells = ",".join(lines[1:]).split(",")
    return header, [cells[i::width] for i in range(width)]


def _split_csv(text: str) -> tuple[list[str], list[list[str]]] | None:
    """Header and columns read by the csv module's C reader; None for blank or ragged rows and for
    quoted line breaks (file lines would no longer be row numbers + 2)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    rows = list(reader)
    width = len(header)
    if not rows or any(len(row) != width for row in rows) or reader.line_num != len(rows) + 1:
        return None
    return header, [[row[i] for row in rows] for i in range(width)]


def _read_exact(
    path: Path, *, yi: str, vi: str | None = None, sei: str | None = None, by: str | None = None
) -> EffectTable:
    """Row by row with :class:`csv.DictReader`: every problem raises InputError naming its line."""
    var_col = vi if vi is not None else sei
    assert var_col is not None
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
    fit = _fit_table(path, yi=yi, vi=vi, sei=sei, by=by, method=method, test=test, pi=pi, level=level)
    if isinstance(fit, MetaResult):
        return [(None, fit)]
    return [(str(g), fit[g]) for g in fit.groups.tolist()]


def _fit_table(
    path: str | Path,
    *,
    yi: str,
    vi: str | None,
    sei: str | None,
    by: str | None,
    method: str,
    test: str,
    pi: str,
    level: float,
) -> MetaResult | ManyResult:
    table = read_effect_table(path, yi=yi, vi=vi, sei=sei, by=by)
    try:
        if table.groups is None:
            return meta(table.yi, table.vi, method=method, test=test, pi=pi, level=level)
        return meta_many(table.yi, table.vi, table.groups, method=method, test=test, pi=pi, level=level)
    except StatsInputError as exc:
        line = table.lines[exc.index] if exc.index is not None else None
        field = {"yi": yi, "vi": table.variance_column}.get(exc.field or "", f"--{exc.field}")
        raise InputError(exc.message, file=table.path, line=line, field=field) from None


def meta_json(
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
) -> str:
    """The JSON text of ``metareview meta --json``: the :func:`meta_record` of the one model, or with
    ``by`` an array of them, one per group, exactly as ``json.dumps(..., indent=2)`` writes them.
    Groups are written column by column from the stacked fit (no per-group result objects)."""
    fit = _fit_table(path, yi=yi, vi=vi, sei=sei, by=by, method=method, test=test, pi=pi, level=level)
    if isinstance(fit, MetaResult):
        return json.dumps(meta_record(fit), indent=2, allow_nan=False)
    return many_json(fit)


def many_json(many: ManyResult) -> str:
    """``json.dumps([meta_record(many[g], str(g)) for g in many.groups], indent=2)``, column-wise."""
    if len(many) == 0:
        return "[]"
    settings = {
        "method": many.fit.method,
        "test": many.fit.test,
        "pi_method": many.fit.pi_method,
        "level": many.fit.level,
    }
    keys = ("group", *RECORD_KEYS, *EXTRA_KEYS)
    columns: list[list[str]] = []
    parts: list[str] = []
    for key in keys:
        if key in settings:  # the same for every group: written into the template
            value = json.dumps(settings[key], allow_nan=False).replace("%", "%%")
            parts.append(f"    {json.dumps(key)}: {value}")
            continue
        parts.append(f"    {json.dumps(key)}: %s")
        if key == "group":
            columns.append([json.dumps(str(g)) for g in many.groups.tolist()])
        else:
            columns.append(_json_cells(many.column(key)))
    template = "  {\n" + ",\n".join(parts) + "\n  }"
    return "[\n" + ",\n".join(template % row for row in zip(*columns, strict=True)) + "\n]"


def _json_cells(values: NDArray[Any]) -> list[str]:
    """JSON text of each value as :func:`json.dumps` writes it (non-finite floats as ``null``)."""
    if values.dtype == np.bool_:
        return ["true" if v else "false" for v in values.tolist()]
    if np.issubdtype(values.dtype, np.integer):
        return [str(v) for v in values.tolist()]
    uniq, inverse = np.unique(values, return_inverse=True)
    if len(uniq) < 0.9 * len(values) and not (np.signbit(values) & (values == 0)).any():
        # many repeated values (tau2 = 0, I^2 = 0, h2 = 1 ...): repr each distinct value once (-0.0,
        # which np.unique merges with 0.0, never comes here)
        texts = list(map(repr, uniq.tolist()))
        cells = [texts[i] for i in inverse.ravel().tolist()]
    else:
        cells = list(map(repr, values.tolist()))  # Python floats: repr is what json.dumps writes
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        cells[i] = "null"
    return cells


def meta_record(res: MetaResult, group: str | None = None) -> dict[str, Any]:
    """The flat JSON record of a result: the keys of :data:`RECORD_KEYS` (plus extras), NaN as None."""
    out: dict[str, Any] = {} if group is None else {"group": group}
    values = res.to_dict()
    for key in (*RECORD_KEYS, *EXTRA_KEYS):
        val = values[key]
        out[key] = None if isinstance(val, float) and not math.isfinite(val) else val
    return out
