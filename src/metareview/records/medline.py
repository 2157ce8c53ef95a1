"""MEDLINE / PubMed text format reader (``.nbib``, ``.txt``): ``TAG - value`` lines with the tag padded
to four characters, six-space continuation lines, records separated by blank lines and starting with
``PMID-``. Streaming: one record in memory at a time. Example::

    from metareview.records import medline
    records = list(medline.read(path, inspect_file(path)))
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from metareview.errors import InputError
from metareview.records.encoding import FileInfo, numbered_lines
from metareview.records.model import Record, clean_text, normalise_doi, normalise_pmid, parse_year

_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,2}- ?(.*)$")
_CONTINUATION = "      "


def read(path: Path, info: FileInfo) -> Iterator[Record]:
    """Yield the records of a MEDLINE-format file; raises :class:`InputError` at a malformed line."""
    assert info.encoding is not None
    fields: dict[str, list[str]] | None = None
    last: str | None = None
    start = 0
    for number, line in numbered_lines(path, info.encoding):
        if not line.strip():
            if fields is not None:
                yield _to_record(fields, path, start)
            fields, last = None, None
            continue
        if line.startswith(_CONTINUATION) and fields is not None and last is not None:
            fields[last][-1] += " " + line.strip()
            continue
        match = _TAG.match(line)
        if match is None or line[4:5] != "-":
            raise InputError("malformed MEDLINE line (expected 'TAG - value')", file=path, line=number)
        tag, value = match.group(1), match.group(2).strip()
        if fields is None:
            if tag != "PMID":
                raise InputError(
                    "a MEDLINE record must start with 'PMID- '", file=path, line=number, field=tag
                )
            fields, start = {}, number
        fields.setdefault(tag, []).append(value)
        last = tag
    if fields is not None:
        yield _to_record(fields, path, start)


def _one(fields: dict[str, list[str]], *tags: str) -> str:
    for tag in tags:
        for value in fields.get(tag, []):
            if value:
                return clean_text(value)
    return ""


def _doi(fields: dict[str, list[str]]) -> str:
    for tag in ("LID", "AID"):
        for value in fields.get(tag, []):
            if value.endswith("[doi]"):
                return normalise_doi(value[: -len("[doi]")])
    return ""


def _to_record(fields: dict[str, list[str]], path: Path, start: int) -> Record:
    pmid = normalise_pmid(_one(fields, "PMID"))
    if not pmid:
        raise InputError("PMID is not a number", file=path, line=start, field="PMID")
    return Record(
        title=_one(fields, "TI", "BTI"),
        abstract=_one(fields, "AB"),
        authors=[clean_text(a) for a in (fields.get("FAU") or fields.get("AU") or [])],
        year=parse_year(_one(fields, "DP", "DEP", "DA")),
        journal=_one(fields, "JT", "TA"),
        volume=_one(fields, "VI"),
        issue=_one(fields, "IP"),
        pages=_one(fields, "PG"),
        doi=_doi(fields),
        pmid=pmid,
        keywords=[clean_text(k) for k in fields.get("MH", []) + fields.get("OT", [])],
        publication_types=[clean_text(p) for p in fields.get("PT", [])],
        language=_one(fields, "LA"),
        source_database="PubMed",
        raw=fields,
    )
