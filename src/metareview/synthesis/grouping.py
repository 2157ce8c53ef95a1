"""Credibility classes grouped by a moderator of the findings (``metareview credibility --by NAME``).

A factor-level moderator is a column of the umbrella table whose value is the same on every row of a
factor (e.g. a domain, the population, the design); :func:`factor_levels` reads it, and
:func:`classes_by` cross-tabulates the classes I–IV/ns of the assessed findings by its levels::

    data = pd.read_csv("df.csv")
    levels = factor_levels(data, "domain", source="df.csv")
    print(classes_by(assess_umbrella(read_umbrella(data)), levels, moderator="domain"))
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from metareview.errors import InputError
from metareview.synthesis.credibility import CLASSES, CredibilityTable

__all__ = ["classes_by", "factor_levels"]


def factor_levels(frame: pd.DataFrame, column: str, *, source: str = "<data frame>") -> dict[str, str]:
    """factor -> its value of ``column``; :class:`InputError` naming the row where a factor's value differs
    from its first row, or the column when it is absent."""
    if column not in frame.columns:
        raise InputError(f"no column {column!r} to group the findings by", file=source, line=1, field=column)
    out: dict[str, str] = {}
    for i, (factor, value) in enumerate(zip(frame["factor"].astype(str), frame[column], strict=True)):
        text = "not reported" if pd.isna(value) or str(value).strip() == "" else str(value).strip()
        if out.setdefault(factor, text) != text:
            raise InputError(f"{column} must be the same on every row of factor {factor!r} "
                             f"({out[factor]!r} before, {text!r} here)", file=source, line=i + 2,
                             field=column)
    return out


def classes_by(table: CredibilityTable, levels: Mapping[str, str], *, moderator: str = "moderator",
               ) -> pd.DataFrame:
    """Number of findings per credibility class (columns I, II, III, IV, ns, total) for each level of the
    moderator (rows, in order of first appearance)."""
    order: list[str] = []
    counts: dict[str, dict[str, int]] = {}
    for a in table.assessments:
        if a.name not in levels:
            raise InputError(f"finding {a.name!r} has no {moderator} level", field=moderator)
        lv = levels[a.name]
        if lv not in counts:
            order.append(lv)
            counts[lv] = dict.fromkeys(CLASSES, 0)
        counts[lv][a.klass] += 1
    rows = [{moderator: lv, **counts[lv], "total": sum(counts[lv].values())} for lv in order]
    return pd.DataFrame(rows, columns=[moderator, *CLASSES, "total"])
