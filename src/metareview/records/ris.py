"""RIS reader (Ovid/EBSCO PsycINFO, Scopus, Web of Science, Zotero, EndNote, Mendeley exports).

Lines are checked one by one (tag lines ``XX  - value``, continuation lines, ``ER`` closing each
record), so a broken file is reported with its line; each record's lines are then parsed by rispy.
Streaming: one record in memory at a time. Example::

    from metareview.records.damage import damaged
from metareview.records.encoding import inspect_file
    from metareview.records import ris
    records = list(ris.read(path, inspect_file(path)))

**Embase.com** exports (*Export > RIS*) are RIS with Embase's own uses of some tags (the layout of a
real Embase.com export, and the field mapping reported by bibfix's maintainers, nealhaddaway/bibfix
issue 25): ``U2`` is the Embase record number (PUI, ``L`` + digits), ``C5`` the MEDLINE PMID, ``DB``
the databases that hold the record (``Embase``, ``Medline``; one line each), ``M3`` the publication
type, ``KW`` the Emtree index terms, ``L2`` the full-text link (a DOI URL), ``UR`` the record's
embase.com address, ``JF``/``JO`` the journal. A record is read as Embase's when its ``U2`` is a
PUI or its ``UR`` is on embase.com; then ``C5`` (1-8 digits) is its PMID, every ``DB`` line goes to
``source_database`` (``Embase; Medline``), the PUI to ``raw["embase_pui"]``, and ``L2`` gives the DOI
when ``DO`` is missing. ``C5`` of other writers (a free "custom 5" field) is left alone.

A **damaged record** (RIS specification, Research Information Systems 2011: a record runs from its
``TY`` tag to its ``ER`` tag) is one without its ``ER`` end tag (the next ``TY`` comes first, or the
file ends: a truncated file) or with no title, DOI or PMID. It refuses the file unless damaged
records are skipped (:mod:`metareview.records.damage`); a malformed tag line or text outside a
record is always an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import rispy

from metareview.errors import InputError
from metareview.records.damage import damaged
from metareview.records.encoding import FileInfo, numbered_lines
from metareview.records.model import (
    Record,
    clean_text,
    has_identity,
    join_pages,
    normalise_doi,
    normalise_pmid,
    parse_year,
    split_list,
)

_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
_BROKEN_TAG = re.compile(r"^([A-Z][A-Z0-9])\s*-(?:\s|$)")
_NUMBER = re.compile(r"^\s*\d+\.?\s*$")  # the "N." some writers (rispy, EndNote) put before a record
_PARSER = rispy.RisParser()
_EMBASE_PUI = re.compile(r"^L\d{6,12}$")  # Embase's record number, e.g. L2029880245
_EMBASE_PMID = re.compile(r"^\d{1,8}$")
_JOURNAL_KEYS = (
    "alternate_title3",
    "secondary_title",
    "journal_name",
    "alternate_title2",
    "alternate_title1",
)


def read(path: Path, info: FileInfo) -> Iterator[Record]:
    """Yield the records of a RIS file; raises :class:`InputError` naming the line of a malformed one."""
    assert info.encoding is not None
    for start, lines in _record_chunks(path, info.encoding):
        parsed = _PARSER.parse_lines(iter(lines))
        if len(parsed) != 1:  # defensive: the chunker hands rispy exactly one TY..ER block
            raise InputError("could not parse record", file=path, line=start)
        rec = to_record(parsed[0], databases=[ln[6:].strip() for ln in lines if ln.startswith("DB  - ")])
        if not has_identity(rec):
            damaged(InputError("record has no title, DOI or PMID", file=path, line=start, field="TI"))
            continue
        yield rec


def _foldable(tag: str) -> bool:
    """Whether rispy joins a continuation line of ``tag`` onto its value (a single-valued field)."""
    return tag in _PARSER.mapping and tag not in _PARSER.list_tags and tag not in _PARSER.delimiter_map


def _record_chunks(path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """Validate the tag structure and yield ``(first_line, lines)`` for each TY..ER block.

    Continuation lines of a single-valued field are folded into its tag line here, joined once, so
    a field of many continuation lines costs linear time (rispy would re-concatenate per line).
    """
    lines: list[list[str]] | None = None
    start = 0
    seen = 0
    fold = False
    for number, line in numbered_lines(path, encoding):
        match = _TAG.match(line.rstrip())
        if match is None:
            broken = _BROKEN_TAG.match(line)
            if broken is not None:
                raise InputError(
                    "malformed RIS tag line (expected 'XX  - value')", file=path, line=number, field=broken[1]
                )
            if lines is not None and line.strip():
                if fold:
                    lines[-1].append(line.strip())  # continuation of the previous tag's value
                else:
                    lines.append([line])
            elif lines is None and line.strip() and seen and not _NUMBER.match(line):
                raise InputError("text between records (missing 'TY  - ' line?)", file=path, line=number)
            continue
        tag = match.group(1)
        fold = _foldable(tag)
        if tag == "TY":
            if lines is not None:
                damaged(_unclosed(path, number, f"record starting at line {start} has no 'ER  - ' end tag"))
            lines, start = [[line]], number
        elif lines is None:
            raise InputError(
                "tag outside a record (records start with 'TY  - ')", file=path, line=number, field=tag
            )
        elif tag == "ER":
            lines.append([line])
            seen += 1
            yield start, [" ".join(pieces) for pieces in lines]
            lines = None
        else:
            lines.append([line])
    if lines is not None:
        damaged(
            _unclosed(
                path, start, f"file ends inside the record starting at line {start} (no 'ER  - '; truncated?)"
            )
        )


def _unclosed(path: Path, line: int, message: str) -> InputError:
    """The error for a record without its ``ER`` end tag."""
    return InputError(message, file=path, line=line, field="ER")


def _first(entry: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, list):
            value = value[0] if value else ""
        text = clean_text(value)
        if text:
            return text
    return ""


def _embase_pui(entry: dict[str, Any]) -> str:
    """The Embase record number (PUI) of an Embase.com RIS record, else ''."""
    unknown = entry.get("unknown_tag") or {}
    values = unknown.get("U2") if isinstance(unknown, dict) else None
    for value in values or [entry.get("user_definable2")]:
        text = clean_text(value)
        if _EMBASE_PUI.match(text):
            return text
    if any("embase.com" in str(url) for url in entry.get("urls") or []):
        return "?"  # an Embase record without its PUI (still read the Embase way)
    return ""


def to_record(entry: dict[str, Any], databases: list[str] | None = None) -> Record:
    """Map one rispy entry (rispy's field names) to a :class:`Record`; ``databases`` are the record's
    ``DB`` lines (rispy keeps only the first)."""
    raw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in entry.items()}
    pui = _embase_pui(entry)
    links = list(entry.get("urls") or [])
    if pui:
        links.append(_first(entry, "file_attachments2"))
        if pui != "?":
            raw["embase_pui"] = pui
    doi = normalise_doi(_first(entry, "doi"))
    if not doi:
        doi = next((d for d in map(normalise_doi, links) if d), "")
    pmid = normalise_pmid(_first(entry, "accession_number"))
    if not pmid and pui:
        embase_pmid = _first(entry, "custom5")
        pmid = embase_pmid if _EMBASE_PMID.match(embase_pmid) else ""
    named = [clean_text(d) for d in databases or [] if clean_text(d)]
    source = "; ".join(dict.fromkeys(named)) if pui and named else ""
    kinds = [clean_text(entry.get("type_of_reference")), _first(entry, "type_of_work")]
    return Record(
        title=_first(entry, "title", "primary_title", "translated_title"),
        abstract=_first(entry, "abstract", "notes_abstract"),
        authors=split_list(entry.get("authors") or entry.get("first_authors")),
        year=parse_year(_first(entry, "year", "publication_year", "date")),
        journal=_first(entry, *_JOURNAL_KEYS),
        volume=_first(entry, "volume"),
        issue=_first(entry, "number"),
        pages=join_pages(_first(entry, "start_page"), _first(entry, "end_page")),
        doi=doi,
        pmid=pmid,
        keywords=split_list(entry.get("keywords")),
        publication_types=[k for k in kinds if k],
        language=_first(entry, "language"),
        source_database=source or _first(entry, "name_of_database", "database_provider"),
        raw=raw,
    )
