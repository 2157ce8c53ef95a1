"""Spreadsheet-safe cells: the one place CSV and XLSX exports neutralise formula text.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by Excel, LibreOffice and Google Sheets (CSV/formula injection). As OWASP's *CSV Injection*
page recommends, such text is written with a leading single quote, which spreadsheets show as text.
Numbers are left as they are (a negative effect size stays a number). Example::

    >>> neutralise('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    >>> neutralise(-0.5)
    -0.5
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and column name) passed through :func:`neutralise`."""
    out = frame.copy()
    for name in out.columns:
        if out[name].dtype == object or str(out[name].dtype) in ("string", "str"):
            out[name] = out[name].map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    return out
