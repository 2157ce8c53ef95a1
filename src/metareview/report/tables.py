"""The report's tables as files: one CSV per table and one XLSX workbook holding them all.

Example::

    import pandas as pd
    from metareview.report.tables import write_tables
    files = write_tables({"pooled": pd.DataFrame({"g": [0.5]})}, "out/tables")
    files.workbook  # out/tables/tables.xlsx
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from metareview.cells import neutralise_frame
from metareview.filemodes import make_dir, restrict

__all__ = ["TableFiles", "slug", "write_tables"]


@dataclass(frozen=True)
class TableFiles:
    """Where :func:`write_tables` wrote the tables."""

    csv: dict[str, Path]
    workbook: Path


def slug(name: str) -> str:
    """A file-name-safe version of a table name: ``"Table 4 (votes)"`` -> ``"table-4-votes"``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "table"


def write_tables(tables: Mapping[str, pd.DataFrame], out_dir: str | Path, workbook: str = "tables.xlsx",
                 ) -> TableFiles:
    """Write each table to ``<out_dir>/<slug>.csv`` and all to one workbook (one sheet per table).

    Files are written to temporary names and renamed at the end, so a failure leaves no partial set.
    """
    out = make_dir(out_dir)
    staged: list[tuple[Path, Path]] = []
    csv: dict[str, Path] = {}
    sheets: dict[str, str] = {}
    try:
        for name, frame in tables.items():
            target = out / f"{slug(name)}.csv"
            tmp = target.with_suffix(".csv.part")
            neutralise_frame(frame).to_csv(tmp, index=False)
            staged.append((tmp, target))
            csv[name] = target
            sheet = slug(name)[:31]
            while sheet in sheets.values():
                sheet = sheet[:28] + f"-{len(sheets)}"
            sheets[name] = sheet
        book = out / workbook
        tmp_book = out / f".{workbook}.part"
        with pd.ExcelWriter(tmp_book, engine="openpyxl") as writer:
            for name, frame in tables.items():
                neutralise_frame(frame).to_excel(writer, sheet_name=sheets[name], index=False)
            if not tables:  # a workbook needs a sheet
                pd.DataFrame({"note": ["this report has no tables"]}).to_excel(writer, sheet_name="contents",
                                                                                index=False)
        staged.append((tmp_book, book))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        restrict(tmp)
        tmp.replace(target)
    return TableFiles(csv=csv, workbook=book)
