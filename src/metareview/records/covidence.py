"""Covidence's reference export (*Export > References*, format CSV), read as records.

Covidence writes one CSV per list of studies, named ``review_<review>_<list>_csv_<timestamp>.csv``,
with the columns ``Title, Authors, Abstract, Published Year, Published Month, Journal, Volume, Issue,
Pages, Accession Number, DOI, Ref, Covidence #, Study, Notes, Tags`` (the layout of a real export:
asreview/citation-file-formatting, ``Datasets/CSV/_baseline_covidence.csv``). It is recognised by its
``Covidence #`` column and read by :mod:`metareview.records.table_reader` (same damage rules: short
rows, rows with no title, DOI or PMID; its column names cover Covidence's: ``Published Year`` is the
year, ``Authors`` are separated by ``;``), and ``Accession Number`` is taken as the PMID only when it is a
1-8 digit number (the accession number of the source database: a PMID for PubMed imports, an Embase
PUI or a Web of Science UT otherwise). ``Covidence #``, ``Study``, ``Notes`` and ``Tags`` stay in
``raw``. Which list a file is (the studies' screening decisions) is read by
:mod:`metareview.interop.decisions` (``import-decisions``). Example::

    from metareview.records import covidence
    records = list(covidence.read(path, inspect_file(path)))
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from metareview.records import table_reader
from metareview.records.encoding import FileInfo
from metareview.records.model import Record, normalise_pmid

ID_COLUMN = "Covidence #"
_PMID = re.compile(r"^\d{1,8}$")


def looks_like(first_line: str) -> bool:
    """Whether a CSV header line is Covidence's (it has the ``Covidence #`` column)."""
    return ID_COLUMN in first_line


def read(path: Path, info: FileInfo) -> Iterator[Record]:
    """Yield the studies of a Covidence reference export as records."""
    for rec in table_reader.read(path, info):
        accession = str(rec.raw.get("Accession Number", "")).strip()
        if not rec.pmid and _PMID.match(accession):
            rec.pmid = normalise_pmid(accession)
        rec.source_database = rec.source_database or "Covidence"
        yield rec
