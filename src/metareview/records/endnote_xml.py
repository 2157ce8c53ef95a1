"""EndNote XML reader (EndNote's *File > Export > XML*: ``<xml><records><record>…``).

Field names follow EndNote's XML export (the ``RSXML`` document type): ``ref-type``,
``contributors/authors/author``, ``titles/title``, ``titles/secondary-title`` or
``periodical/full-title`` (journal), ``dates/year``, ``volume``, ``number`` (issue), ``pages``,
``electronic-resource-num`` (DOI), ``accession-num``, ``keywords/keyword``, ``abstract``, ``language``,
``remote-database-name``. Text sits in ``<style>`` children, which are flattened.

Streamed with :func:`xml.etree.ElementTree.iterparse` (each record cleared once read); expat never
fetches external entities. Example::

    from metareview.records import endnote_xml
    records = list(endnote_xml.read(path, inspect_file(path)))
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from metareview.errors import InputError
from metareview.records.encoding import FileInfo
from metareview.records.model import Record, clean_text, normalise_doi, normalise_pmid, parse_year


def looks_like(text: str) -> bool:
    """True when the head of a file is an EndNote XML export."""
    head = text[:4096]
    return "<records>" in head and ("<record>" in head or "<record " in head) and "PubmedArticle" not in head


def read(path: Path, info: FileInfo) -> Iterator[Record]:
    """Yield the records of an EndNote XML file; malformed XML raises InputError with its line."""
    root: ET.Element | None = None
    seen_records = False
    try:
        for event, elem in ET.iterparse(path, events=("start", "end")):
            if root is None:
                root = elem
                if elem.tag not in ("xml", "records"):
                    raise InputError(
                        f"root element is <{elem.tag}>, expected <xml> (EndNote XML)", file=path, line=1
                    )
                continue
            if event == "start" and elem.tag == "records":
                seen_records = True
            if event == "end" and elem.tag == "record":
                yield _to_record(elem)
                root.clear()
    except ET.ParseError as exc:
        line, _col = exc.position
        raise InputError(f"malformed XML: {exc}", file=path, line=line) from None
    except (LookupError, ValueError) as exc:
        raise InputError(f"cannot read XML: {exc}", file=path, line=1) from None
    if root is not None and not seen_records and root.tag != "records":
        raise InputError("no <records> element (not an EndNote XML export?)", file=path, line=1)


def _text(elem: ET.Element | None) -> str:
    return "" if elem is None else clean_text("".join(elem.itertext()))


def _first(record: ET.Element, *paths: str) -> str:
    for p in paths:
        text = _text(record.find(p))
        if text:
            return text
    return ""


def _to_record(rec: ET.Element) -> Record:
    authors = [t for t in (_text(a) for a in rec.findall("contributors/authors/author")) if t]
    keywords = [t for t in (_text(k) for k in rec.findall("keywords/keyword")) if t]
    ref_type = rec.find("ref-type")
    kind = (ref_type.get("name") or _text(ref_type)) if ref_type is not None else ""
    raw = {child.tag: _text(child) for child in rec}
    doi = normalise_doi(_first(rec, "electronic-resource-num"))
    if not doi:
        doi = next(
            (d for d in (normalise_doi(_text(u)) for u in rec.findall("urls/related-urls/url")) if d), ""
        )
    accession = _first(rec, "accession-num")
    return Record(
        title=_first(rec, "titles/title"),
        abstract=_first(rec, "abstract"),
        authors=authors,
        year=parse_year(_first(rec, "dates/year", "dates/pub-dates/date")),
        journal=_first(rec, "titles/secondary-title", "periodical/full-title", "periodical/abbr-1"),
        volume=_first(rec, "volume"),
        issue=_first(rec, "number", "issue"),
        pages=_first(rec, "pages"),
        doi=doi,
        pmid=normalise_pmid(accession),
        keywords=keywords,
        publication_types=[kind] if kind else [],
        language=_first(rec, "language"),
        source_database=_first(rec, "remote-database-name", "remote-database-provider"),
        raw=raw,
    )
