"""Ovid exports (MEDLINE, APA PsycInfo, Embase on Ovid), in both text layouts Ovid writes:

* *tagged* ("Direct Export"/"Ovid" fields with labels): ``UI  - 31234567``, ``TI  - …``, the tag padded
  to four characters, continuation lines indented six spaces, records separated by ``<1>``, ``<2>`` …
  lines (or starting at ``VN  -``/``DB  -``);
* *display* ("Citation/Abstract" or "Complete Reference" as text): a ``<n>`` line, then each field's
  label alone on a line (``Unique Identifier``, ``Title``, ``Authors`` …) followed by its value
  indented two spaces.

Field labels and two-letter tags follow Ovid's field guides ("MEDLINE Database Field Guide", "APA
PsycInfo Database Field Guide", "Embase Field Guide", Wolters Kluwer): UI unique identifier (the PMID
in MEDLINE, an accession number in PsycInfo/Embase), TI, AU/FA authors, SO source, AB, YR year of
publication, DP date, DO/DI DOI, PT publication type, LG language, MH/ID/KW subject headings and
keywords, PM PubMed ID (Embase), DB database. Streamed, one record at a time.

A **damaged record** is one with a second ``UI`` / "Unique Identifier" (two records run together: the
``<n>`` line between them is missing), one with no title, DOI or PMID, or a last record cut inside a
line (the file's last line has no line end). Each refuses the file unless damaged records are skipped
(:mod:`metareview.records.damage`). Ovid writes no end-of-record line, so a last record cut exactly at
a line end cannot be told from a complete one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from metareview.errors import InputError
from metareview.records.damage import cut_at_end, damaged
from metareview.records.encoding import FileInfo, numbered_lines
from metareview.records.model import Record, has_identity, normalise_doi, normalise_pmid, parse_year
from metareview.records.tagged_text import Fields, many, one, scan

_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,2}- ?(.*)$")
_NUMBER = re.compile(r"^\s*<\d+>\s*$")
_SOURCE = re.compile(
    r"^(?P<journal>.+?)\.\s+(?P<volume>[^\s(:]*)\s*(?:\((?P<issue>[^)]*)\))?\s*:\s*(?P<pages>[^,]*)"
)
# display label -> tag of the tagged form (Ovid field guides)
LABELS = {
    "unique identifier": "UI",
    "title": "TI",
    "authors": "AU",
    "author": "AU",
    "authors full name": "FA",
    "source": "SO",
    "abstract": "AB",
    "year of publication": "YR",
    "date of publication": "DP",
    "publication date": "DP",
    "digital object identifier": "DO",
    "doi": "DO",
    "publication type": "PT",
    "language": "LG",
    "mesh subject headings": "MH",
    "keyword heading": "KW",
    "keywords": "KW",
    "emtree heading": "MH",
    "subject headings": "MH",
    "pubmed id": "PM",
    "pubmed identifier": "PM",
    "pmid": "PM",
    "database": "DB",
    "journal name": "JN",
    "volume": "VO",
    "issue": "IP",
    "page": "PG",
    "pages": "PG",
    "issn": "IS",
}


def looks_like(text: str) -> bool:
    """Head of an Ovid text export (either layout)."""
    lines = [ln for ln in text.lstrip("\ufeff").split("\n")[:12] if ln.strip()]
    if not lines:
        return False
    if _NUMBER.match(lines[0]) and len(lines) > 1:
        return bool(_TAG.match(lines[1])) or lines[1].strip().lower() in LABELS
    return bool(re.match(r"^(VN|DB|UI)  - ", lines[0]))


def read(path: Path, info: FileInfo) -> Iterator[Record]:
    """Yield the records of an Ovid text export (tagged or display layout)."""
    assert info.encoding is not None
    head = [ln for ln in info.head.decode(info.encoding, errors="ignore").split("\n")[:4] if ln.strip()]
    display = len(head) > 1 and _NUMBER.match(head[0]) and head[1].strip().lower() in LABELS
    numbered = bool(head) and bool(_NUMBER.match(head[0]))
    chunks = _display(path, info.encoding) if display else _tagged(path, info.encoding, numbered)
    for start, fields in chunks:
        rec = _to_record(fields, path, start)
        if has_identity(rec):
            yield rec
        else:
            damaged(InputError("record has no title, DOI or PMID", file=path, line=start, field="TI"))


def _tagged(path: Path, encoding: str, numbered: bool) -> Iterator[tuple[int, Fields]]:
    """Records split at ``<n>`` lines, or (a file without them) at each VN line, else each UI line."""
    pending = {"new": True}
    opener = {"tag": ""}

    def starts(tag: str, _value: str) -> bool:
        if numbered:
            new, pending["new"] = pending["new"], False
            return new
        if not opener["tag"]:
            opener["tag"] = tag if tag in ("VN", "UI") else "UI"
            return True
        return tag == opener["tag"]

    def number_line(line: str) -> bool:
        if _NUMBER.match(line):
            pending["new"] = True
            return True
        return False

    yield from scan(
        path,
        encoding,
        _TAG,
        starts=starts,
        ends=number_line,
        continuation=lambda line: line.startswith("      "),
        once=frozenset({"UI"}),
        format_name="Ovid",
    )


def _display(path: Path, encoding: str) -> Iterator[tuple[int, Fields]]:
    fields: Fields | None = None
    tag: str | None = None
    start = 0
    problem: InputError | None = None
    for number, line in numbered_lines(path, encoding):
        if not line.strip():
            continue
        if _NUMBER.match(line):
            if fields is not None:
                if problem is not None:
                    damaged(problem)
                else:
                    yield start, fields
            fields, tag, start, problem = {}, None, number, None
            continue
        if fields is None:
            raise InputError("text before the first '<1>' record line", file=path, line=number)
        if line.startswith("  "):
            if tag is None:
                raise InputError("value without a field label", file=path, line=number)
            values = fields.setdefault(tag, [])
            if tag in ("AU", "FA", "MH", "KW", "PT"):
                values.extend(v.strip() for v in line.split(";") if v.strip())
            elif values:
                values[-1] += " " + line.strip()
            else:
                values.append(line.strip())
            continue
        label = line.strip().lower()
        tag = LABELS.get(label, line.strip())
        if tag == "UI" and "UI" in fields and problem is None:
            problem = InputError(
                f"a second Unique Identifier inside the record starting at line {start} (two records run "
                "together: missing '<n>' line?)",
                file=path,
                line=number,
                field="UI",
            )
        fields.setdefault(tag, [])
    if fields is not None:
        if problem is None:
            problem = cut_at_end(path, start, tag)
        if problem is not None:
            damaged(problem)
        else:
            yield start, fields


def _to_record(fields: Fields, path: Path, start: int) -> Record:
    source = one(fields, "SO")
    match = _SOURCE.match(source) if source else None
    journal = one(fields, "JN", "JT", "TA") or (match["journal"] if match else source)
    database = one(fields, "DB")
    ui = one(fields, "UI")
    is_medline = "medline" in database.lower() or (not database and bool(normalise_pmid(ui)))
    pmid = normalise_pmid(one(fields, "PM")) or (normalise_pmid(ui) if is_medline else "")
    doi = normalise_doi(one(fields, "DO", "DI"))
    if not doi:
        doi = next((d for d in map(normalise_doi, many(fields, "XL", "UR", "LK")) if d), "")
    year = parse_year(one(fields, "YR", "DP")) or parse_year(source)
    return Record(
        title=one(fields, "TI"),
        abstract=one(fields, "AB"),
        authors=many(fields, "FA") or many(fields, "AU"),
        year=year,
        journal=journal,
        volume=one(fields, "VO", "VI") or (match["volume"] if match else ""),
        issue=one(fields, "IP") or ((match["issue"] or "") if match else ""),
        pages=one(fields, "PG") or (match["pages"].strip() if match else ""),
        doi=doi,
        pmid=pmid,
        keywords=many(fields, "MH", "KW", "ID"),
        publication_types=many(fields, "PT"),
        language=one(fields, "LG", "LA"),
        source_database=database or "Ovid",
        raw=fields,
    )
