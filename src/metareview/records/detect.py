"""Format auto-detection of an export file from its first bytes (and its extension as a last resort).

Example::

    from metareview.records.detect import detect_format
    detect_format(path, inspect_file(path))    # 'ris', 'medline', 'pubmed-xml', 'bibtex' or 'csv'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

from metareview.errors import InputError
from metareview.records import (
    bibtex,
    cochrane_central,
    covidence,
    endnote_xml,
    medline,
    ovid,
    pubmed_xml,
    ris,
    table_reader,
    wos,
)
from metareview.records.encoding import FileInfo, decode_head
from metareview.records.model import Record

Reader = Callable[[Path, FileInfo], Iterator[Record]]

READERS: dict[str, Reader] = {
    "ris": ris.read,
    "medline": medline.read,
    "pubmed-xml": pubmed_xml.read,
    "bibtex": bibtex.read,
    "csv": table_reader.read,
    "endnote-xml": endnote_xml.read,
    "ovid": ovid.read,
    "wos": wos.read,
    "cochrane": cochrane_central.read,
    "covidence": covidence.read,
}
FORMATS = ("auto", *READERS)

_EXTENSIONS = {
    ".ris": "ris",
    ".nbib": "medline",
    ".medline": "medline",
    ".xml": "pubmed-xml",
    ".bib": "bibtex",
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".xlsx": "csv",
}
_RIS = re.compile(r"^TY  -", re.MULTILINE)
_MEDLINE = re.compile(r"^PMID- ?\d", re.MULTILINE)


def detect_format(path: Path, info: FileInfo) -> str:
    """The reader name for ``path``; raises InputError when the content matches no known format."""
    if info.encoding is None:
        return "csv"  # a zip container: an XLSX workbook
    text = decode_head(info).lstrip("\ufeff")
    start = text.lstrip()
    if start.startswith("<") and endnote_xml.looks_like(start):
        return "endnote-xml"
    if start.startswith(
        ("<?xml", "<!DOCTYPE PubmedArticleSet", "<PubmedArticleSet", "<PubmedBookArticleSet")
    ):
        return "pubmed-xml"
    if start.startswith("@") or re.match(r"^(%.*\n\s*)+@", start):
        return "bibtex"
    if wos.looks_like_plain(text) or wos.looks_like_tabbed(text):
        return "wos"
    if cochrane_central.looks_like(start):
        return "cochrane"
    if ovid.looks_like(start):
        return "ovid"
    if _RIS.search(text):
        return "ris"
    if _MEDLINE.search(text):
        return "medline"
    first_line = start.split("\n", 1)[0]
    if covidence.looks_like(first_line):
        return "covidence"
    if any(sep in first_line for sep in ("\t", ",", ";")):
        return "csv"
    by_extension = _EXTENSIONS.get(path.suffix.lower())
    if by_extension is not None:
        return by_extension
    raise InputError(
        "cannot tell the file's format (RIS, MEDLINE, PubMed XML, BibTeX, CSV/TSV/XLSX)", file=path, line=1
    )
