"""Compare our numbers with metaumbrella 1.1.0's vignette tables as printed.

The vignette "Vignette 2: conduct an umbrella review with metaumbrella" (metaumbrella 1.1.0, CRAN,
inst/doc/conduct-umbrella.html) prints ``summary(umbrella(...))`` and ``summary(add.evidence(...))``:
numbers rounded to 3 decimals (``round(x, 3)``), p-values as ``sprintf("%.2e")``, intervals as
``[low, high]``. ``check_row`` compares a row of :func:`metareview.synthesis.evidence.umbrella_summary`
with such a printed row, to the printed digits.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

SCI = {"p_value", "egger_p", "ESB_p", "JK_p"}
INTERVALS = {"value_CI": "value_ci", "eG_CI": "eG_ci", "eOR_CI": "eOR_ci", "PI_eG": "PI_eG",
             "PI_eOR": "PI_eOR", "largest_CI_eG": "largest_CI_eG", "largest_CI_eOR": "largest_CI_eOR"}


def _interval(text: str) -> tuple[float, float]:
    lo, hi = text.strip("[]").split(",")
    return float(lo), float(hi)


def _bounds(row: pd.Series, prefix: str) -> tuple[float, float]:
    return row[f"{prefix}_lower"], row[f"{prefix}_upper"]


def check_row(row: pd.Series, printed: dict[str, Any]) -> list[str]:
    """The printed cells our row does not reproduce (empty when all agree to the printed digits)."""
    bad = []
    for col, want in printed.items():
        if col in INTERVALS:
            got = _bounds(row, INTERVALS[col])
            ok = all(round(float(g), 3) == w for g, w in zip(got, _interval(want), strict=True))
        elif col in SCI:
            got = row[col]
            ok = (want == "NaN" and math.isnan(got)) or (want != "NaN" and float(f"{got:.2e}") == float(want))
        elif isinstance(want, str):
            got = row[col]
            ok = got == want
        elif want is None:
            got = row[col]
            ok = got is None or (isinstance(got, float) and math.isnan(got))
        else:
            got = row[col]
            ok = round(float(got), 3) == want
        if not ok:
            bad.append(f"{row['factor']}.{col}: printed {want!r}, got {got!r}")
    return bad
