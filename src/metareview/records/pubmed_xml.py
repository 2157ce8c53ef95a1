"""PubMed XML reader (``PubmedArticleSet`` from PubMed's "Save as XML" or E-utilities ``efetch``).

Parsed streaming with :func:`xml.etree.ElementTree.iterparse`: each article is turned into a
:class:`Record` and then cleared, so memory stays bounded whatever the file size. The DOCTYPE's
external DTD is never fetched (expat does not load external entities) and no network is used.
Example::

    from metareview.records import pubmed_xml
    records = list(pubmed_xml.read(path, inspect_file(path)))
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from metareview.errors import InputError
from metareview.records.encoding import FileInfo
from metareview.records.model import Record, clean_text, normalise_doi, normalise_pmid, parse_year

_ARTICLES = {"PubmedArticle", "PubmedBookArticle"}
_ROOTS = {"PubmedArticleSet", "PubmedBookArticleSet"}


def read(path: Path, info: FileInfo) -> Iterator[Record]:
    """Yield the articles of a PubMed XML file; a malformed or truncated file raises InputError."""
    root: ET.Element | None = None
    count = 0
    try:
        for event, elem in ET.iterparse(path, events=("start", "end")):
            if root is None:
                root = elem
                if elem.tag not in _ROOTS:
                    raise InputError(
                        f"root element is <{elem.tag}>, expected <PubmedArticleSet>", file=path, line=1
                    )
                continue
            if event == "end" and elem.tag in _ARTICLES:
                count += 1
                yield _to_record(elem, path, count)
                root.clear()
    except ET.ParseError as exc:
        line, _col = exc.position
        raise InputError(f"malformed XML: {exc}", file=path, line=line) from None
    except (LookupError, ValueError) as exc:  # e.g. an unknown encoding in the XML declaration
        raise InputError(f"cannot read XML: {exc}", file=path, line=1) from None


def _text(elem: ET.Element | None) -> str:
    return "" if elem is None else clean_text("".join(elem.itertext()))


def _year(article: ET.Element) -> int | None:
    for path in (
        ".//JournalIssue/PubDate/Year",
        ".//JournalIssue/PubDate/MedlineDate",
        ".//ArticleDate/Year",
        ".//Book/PubDate/Year",
        ".//PubMedPubDate/Year",
    ):
        year = parse_year(_text(article.find(path)))
        if year is not None:
            return year
    return None


def _author(elem: ET.Element) -> str:
    collective = _text(elem.find("CollectiveName"))
    if collective:
        return collective
    last, fore = _text(elem.find("LastName")), _text(elem.find("ForeName")) or _text(elem.find("Initials"))
    return f"{last}, {fore}" if last and fore else last or fore


def _doi(article: ET.Element) -> str:
    for elem in article.iterfind(".//ELocationID[@EIdType='doi']"):
        doi = normalise_doi(_text(elem))
        if doi:
            return doi
    for elem in article.iterfind(".//ArticleIdList/ArticleId[@IdType='doi']"):
        doi = normalise_doi(_text(elem))
        if doi:
            return doi
    return ""


def _abstract(article: ET.Element) -> str:
    parts = []
    for elem in article.iterfind(".//Abstract/AbstractText"):
        label, text = elem.get("Label"), _text(elem)
        parts.append(f"{label}: {text}" if label and text else text)
    return " ".join(p for p in parts if p)


def _to_record(article: ET.Element, path: Path, number: int) -> Record:
    pmid = normalise_pmid(_text(article.find(".//PMID")))
    if not pmid:
        raise InputError(f"article {number} has no numeric <PMID>", file=path, field="PMID")
    title = _text(article.find(".//ArticleTitle")) or _text(article.find(".//BookTitle"))
    journal = _text(article.find(".//Journal/Title")) or _text(article.find(".//Journal/ISOAbbreviation"))
    mesh = [_text(e) for e in article.iterfind(".//MeshHeading/DescriptorName")]
    keywords = [_text(e) for e in article.iterfind(".//KeywordList/Keyword")]
    pages = _text(article.find(".//Pagination/MedlinePgn"))
    if not pages:
        pages = "-".join(
            p
            for p in (
                _text(article.find(".//Pagination/StartPage")),
                _text(article.find(".//Pagination/EndPage")),
            )
            if p
        )
    return Record(
        title=title,
        abstract=_abstract(article),
        authors=[a for a in map(_author, article.iterfind(".//AuthorList/Author")) if a],
        year=_year(article),
        journal=journal,
        volume=_text(article.find(".//JournalIssue/Volume")),
        issue=_text(article.find(".//JournalIssue/Issue")),
        pages=pages,
        doi=_doi(article),
        pmid=pmid,
        keywords=[k for k in mesh + keywords if k],
        publication_types=[t for t in map(_text, article.iterfind(".//PublicationType")) if t],
        language=_text(article.find(".//Language")),
        source_database="PubMed",
        raw={"xml_tag": article.tag},
    )
