"""MEDLINE / PubMed text format reader (``.nbib``, ``.txt``): ``TAG - value`` lines with the tag padded
to four characters, six-space continuation lines, records separated by blank lines and starting with
``PMID-``. Streaming: one record in memory at a time; a field of many continuation lines is read in
linear time (its lines are joined once). Example::

    from metareview.records import medline
    records = list(medline.read(path, inspect_file(path)))

A **damaged record** (NLM, *MEDLINE/PubMed Data Element (Field) Descriptions*: every citation starts
with ``PMID``, a 1-8 digit number, and carries a title ``TI``, or ``BTI`` for a book) is one that

- has no valid ``PMID`` (not 1-8 digits),
- has a second ``PMID`` line (two records run together: the blank line between them is missing),
- has no title (``TI``, ``BTI`` or ``VTI``),
- is cut by the end of the file. MEDLINE has no end-of-record line, so a cut is recognised only
  where what PubMed always writes makes it visible:

  1. the file's last line has no line end (a download cut inside a line);
  2. the last record is a journal citation written by PubMed (it has ``OWN``) and has no ``SO``.
     PubMed (*Save* / *Send to: Citation manager* in the "PubMed" format, and NLM's EDirect
     ``efetch -format medline``) writes ``PMID``, ``OWN``, ``STAT`` as the first three lines of
     every journal citation and the source citation ``SO`` as its last line, whatever its status
     (MEDLINE, PubMed-not-MEDLINE, In-Data-Review, Publisher). A journal citation with ``OWN`` and no
     ``SO`` has lost its tail: this holds for a file of one record as for the last of many;
  3. every earlier record ends with ``SO`` and the last one has none (a file from a writer that
     ends records with ``SO`` but omits ``OWN``).

  Not detectable: a file whose last record has neither ``OWN`` nor ``SO`` (PubMed's book and
  book-chapter records, ``PMID``, ``STAT``, ``DRDT``, … ending with ``AID - NBK… [bookaccession]``,
  have neither; nor do records written by other tools) and is cut exactly at a line end: every
  prefix of such a record that keeps its ``PMID`` and title is a valid record. Such files are read
  as they are.

A damaged record refuses the whole file (:class:`InputError` naming file, line and field) unless
the import skips damaged records (:mod:`metareview.records.damage`). A line that is not a MEDLINE
line at all is always an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from metareview.errors import InputError
from metareview.records.damage import cut_at_end, damaged
from metareview.records.encoding import FileInfo, numbered_lines
from metareview.records.model import Record, clean_text, normalise_doi, normalise_pmid, parse_year

_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,2}- ?(.*)$")
_CONTINUATION = "      "
_PMID = re.compile(r"^\d{1,8}$")
_TITLES = ("TI", "BTI", "VTI")
_LAST_TAG = "SO"  # PubMed writes the source citation as each journal citation's last field
_OWNER = "OWN"  # ... and the owner as its second (right after PMID); book records have neither


class _Draft:
    """One record being read: each field value is a list of its line pieces, joined once at the end."""

    __slots__ = ("start", "fields", "last", "problem", "closed")

    def __init__(self, start: int) -> None:
        self.start = start
        self.fields: dict[str, list[list[str]]] = {}
        self.last: str | None = None
        self.problem: InputError | None = None
        self.closed = False

    def add(self, tag: str, value: str) -> None:
        self.fields.setdefault(tag, []).append([value])
        self.last = tag

    def joined(self) -> dict[str, list[str]]:
        return {
            tag: [" ".join(p for p in parts if p) for parts in values] for tag, values in self.fields.items()
        }


def read(path: Path, info: FileInfo) -> Iterator[Record]:
    """Yield the records of a MEDLINE-format file; raises :class:`InputError` at a malformed line."""
    assert info.encoding is not None
    draft: _Draft | None = None
    ends_seen: set[str | None] = set()
    for number, line in numbered_lines(path, info.encoding):
        if not line.strip():
            if draft is not None:
                draft.closed = True  # finished at the next record (or at the end, once a cut is ruled out)
            continue
        if draft is not None and draft.closed:
            ends_seen.add(draft.last)
            yield from _finish(draft, path)
            draft = None
        if line.startswith(_CONTINUATION) and draft is not None and draft.last is not None:
            draft.fields[draft.last][-1].append(line.strip())
            continue
        match = _TAG.match(line)
        if match is None or line[4:5] != "-":
            raise InputError("malformed MEDLINE line (expected 'TAG - value')", file=path, line=number)
        tag, value = match.group(1), match.group(2).strip()
        if draft is None:
            if tag != "PMID":
                raise InputError(
                    "a MEDLINE record must start with 'PMID- '", file=path, line=number, field=tag
                )
            draft = _Draft(number)
        elif tag == "PMID":
            if draft.problem is None:
                draft.problem = InputError(
                    f"a second PMID inside the record starting at line {draft.start} "
                    "(two records run together: missing blank line?)",
                    file=path,
                    line=number,
                    field="PMID",
                )
            ends_seen.add(draft.last)
            yield from _finish(draft, path)
            draft = _Draft(number)
        draft.add(tag, value)
    if draft is not None:
        if draft.problem is None:
            draft.problem = cut_at_end(path, draft.start, draft.last)
        if draft.problem is None and _OWNER in draft.fields and _LAST_TAG not in draft.fields:
            draft.problem = InputError(
                f"the last record (line {draft.start}) is a PubMed citation (it has {_OWNER}) without "
                f"the {_LAST_TAG} field PubMed writes last in every citation (truncated?)",
                file=path,
                line=draft.start,
                field=_LAST_TAG,
            )
        if draft.problem is None and ends_seen == {_LAST_TAG} and _LAST_TAG not in draft.fields:
            draft.problem = InputError(
                f"the last record (line {draft.start}) has no {_LAST_TAG} field, which ends every other "
                "record (truncated?)",
                file=path,
                line=draft.start,
                field=_LAST_TAG,
            )
        yield from _finish(draft, path)


def _finish(draft: _Draft, path: Path) -> Iterator[Record]:
    """The draft's record, or nothing when it is damaged (reported through :func:`damaged`)."""
    fields = draft.joined()
    pmid = " ".join(fields.get("PMID", [""])[:1]).strip()
    problem = draft.problem
    if problem is None and not _PMID.match(pmid):
        problem = InputError(
            f"PMID {pmid!r} is not a 1-8 digit number", file=path, line=draft.start, field="PMID"
        )
    if problem is None and not any(v.strip() for t in _TITLES for v in fields.get(t, [])):
        problem = InputError(
            f"record PMID {pmid} has no title (TI or BTI)", file=path, line=draft.start, field="TI"
        )
    if problem is not None:
        damaged(problem)
        return
    yield _to_record(fields, path, draft.start)


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
