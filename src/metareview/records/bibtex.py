"""BibTeX reader (Zotero, JabRef, Mendeley, EndNote exports) on bibtexparser 1.x.

The entry structure (``@type{key, ...}`` with balanced braces) is checked line by line so a broken
entry is reported with its line; bibtexparser then parses each entry's text as it comes (streamed: one
entry in memory at a time; ``@string`` macros carry over). LaTeX accents become Unicode. Example::

    from metareview.records import bibtex
    records = list(bibtex.read(path, inspect_file(path)))

A **damaged entry** (BibTeX: an entry is ``@type{key, field = value, ...}``, Patashnik, *BibTeXing*
1988) is an ``@`` line outside any entry whose header is not ``@word{`` or ``@word(`` (such as
``@arti cle{a2,``: bibtexparser would drop it silently), or an entry with no title, DOI or PMID.
It refuses the file unless damaged records are skipped (:mod:`metareview.records.damage`).
Unbalanced braces damage the file as a whole and always raise.

**Size limit**: an entry longer than :data:`MAX_ENTRY_CHARS` (16 Mi characters; every field of a
real export is far smaller) is refused with an InputError naming its line. bibtexparser 1.x holds
about 12 times an entry's size in memory while parsing it (measured: a 2 MB field peaks at 23 MB,
``bench/results/readers.md``), so the limit bounds the reader's memory at about 200 MB.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bibtexparser.bparser import BibTexParser
from bibtexparser.latexenc import latex_to_unicode

from metareview.errors import InputError
from metareview.records.damage import damaged
from metareview.records.encoding import FileInfo, numbered_lines
from metareview.records.model import (
    Record,
    clean_text,
    has_identity,
    normalise_doi,
    normalise_pmid,
    parse_year,
    split_list,
)

_ENTRY = re.compile(r"^\s*@\s*(\w+)\s*([{(])")
_SPECIAL = {"comment", "string", "preamble"}
_BRACES = re.compile(r"(?<!\\)[{}]")
MAX_ENTRY_CHARS = 16 * 1024 * 1024


def read(path: Path, info: FileInfo) -> Iterator[Record]:
    """Yield the entries of a BibTeX file; an unbalanced or unparsable entry raises InputError.

    Streamed: the text from one entry's ``@`` line to the next one's is handed to bibtexparser on its
    own (one parser for the file, so ``@string`` macros carry over), so memory holds one entry."""
    assert info.encoding is not None
    parser = BibTexParser(common_strings=True, ignore_nonstandard_types=False)
    parser.expect_multiple_parse = True
    chunk: list[str] = []
    chunk_line = 1
    starts: list[int] = []  # non-special entries opened in the chunk
    depth, open_line, entry_chars = 0, 0, 0
    for number, line in numbered_lines(path, info.encoding):
        match = _ENTRY.match(line)
        if match is not None and depth == 0:
            yield from _parse_chunk(parser, chunk, chunk_line, starts, path)
            chunk, chunk_line, starts = [], number, []
            open_line, entry_chars = number, 0
            if match.group(1).lower() not in _SPECIAL:
                starts.append(number)
        chunk.append(line)
        if match is None and depth == 0 and line.lstrip().startswith("@"):
            damaged(
                InputError(
                    "damaged entry header (expected '@type{key,')", file=path, line=number, field="ENTRYTYPE"
                )
            )
            chunk[-1] = ""  # skipped: the entry's body is left for bibtexparser to ignore
        for brace in _BRACES.findall(line):
            depth += 1 if brace == "{" else -1
            if depth < 0:
                raise InputError("unbalanced '}'", file=path, line=number)
        if depth > 0 or match is not None:
            entry_chars += len(line) + 1
            if entry_chars > MAX_ENTRY_CHARS:
                raise InputError(
                    f"entry starting at line {open_line} is longer than the limit of "
                    f"{MAX_ENTRY_CHARS // (1024 * 1024)} Mi characters per BibTeX entry",
                    file=path,
                    line=open_line,
                    field="entry",
                )
    if depth != 0:
        raise InputError(
            f"entry starting at line {open_line} is not closed (unbalanced '{{'; truncated?)",
            file=path,
            line=open_line,
        )
    yield from _parse_chunk(parser, chunk, chunk_line, starts, path)


def _parse_chunk(
    parser: BibTexParser, chunk: list[str], first_line: int, starts: list[int], path: Path
) -> Iterator[Record]:
    """The records of one entry's text (with any text before the next entry)."""
    if not any(line.strip() for line in chunk):
        return
    try:
        entries = list(parser.parse("\n".join(chunk), partial=False).entries)
    except Exception as exc:  # noqa: BLE001 - bibtexparser raises assorted pyparsing/Value errors
        raise InputError(f"BibTeX parse error: {exc}", file=path, line=first_line) from None
    parser.bib_database.entries.clear()  # taken: the parser keeps only the @string macros
    if len(entries) != len(starts):
        missing = starts[len(entries)] if len(entries) < len(starts) else first_line
        raise InputError(
            f"{len(starts)} entries found but only {len(entries)} could be parsed", file=path, line=missing
        )
    for start, entry in zip(starts, entries, strict=True):
        rec = to_record(entry)
        if not has_identity(rec):
            damaged(InputError("entry has no title, DOI or PMID", file=path, line=start, field="title"))
            continue
        yield rec


def _field(entry: dict[str, Any], *names: str) -> str:
    for name in names:
        value = entry.get(name)
        if value:
            text = str(value)
            if "\\" in text:
                text = latex_to_unicode(text)
            return clean_text(text.replace("{", "").replace("}", ""))
    return ""


def to_record(entry: dict[str, Any]) -> Record:
    """Map one bibtexparser entry (lower-case field names) to a :class:`Record`."""
    authors = [a for a in re.split(r"\s+and\s+", _field(entry, "author")) if a]
    return Record(
        title=_field(entry, "title"),
        abstract=_field(entry, "abstract"),
        authors=authors,
        year=parse_year(_field(entry, "year", "date")),
        journal=_field(entry, "journal", "journaltitle", "booktitle"),
        volume=_field(entry, "volume"),
        issue=_field(entry, "number", "issue"),
        pages=_field(entry, "pages").replace("--", "-"),
        doi=normalise_doi(_field(entry, "doi")) or normalise_doi(_field(entry, "url")),
        pmid=normalise_pmid(_field(entry, "pmid")),
        keywords=split_list(_field(entry, "keywords"), ";,"),
        publication_types=[t for t in [_field(entry, "ENTRYTYPE")] if t],
        language=_field(entry, "language"),
        source_database=_field(entry, "database"),
        raw=dict(entry),
    )
