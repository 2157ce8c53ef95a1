"""The normalised bibliographic record every reader produces, and the field normalisers.

Example::

    from metareview.records.model import Record, normalise_doi
    rec = Record(title="A trial", authors=["Smith, J"], year=2020, doi=normalise_doi("https://doi.org/10.1/ABC"))
    rec.doi      # '10.1/abc'
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|doi\s+)", re.IGNORECASE)
_DOI_CORE = re.compile(r"10\.\d{3,9}/\S+")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_PMID = re.compile(r"^\d{1,9}$")
_SPACES = re.compile(r"\s+")


# the longest value the store holds in each short field (the column sizes of store/records_models.py)
FIELD_LIMITS = {
    "volume": 100,
    "issue": 100,
    "pages": 100,
    "doi": 300,
    "language": 100,
    "source_database": 200,
}


@dataclass(slots=True)
class Record:
    """One bibliographic record, normalised. ``raw`` keeps the export's own fields (tag -> value)."""

    title: str = ""
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    keywords: list[str] = field(default_factory=list)
    publication_types: list[str] = field(default_factory=list)
    language: str = ""
    source_database: str = ""
    raw: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Cut the short fields to :data:`FIELD_LIMITS` (a damaged export can put a paragraph there)."""
        for name, limit in FIELD_LIMITS.items():
            value = getattr(self, name)
            if len(value) > limit:
                setattr(self, name, value[:limit])

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of all fields."""
        return asdict(self)

    def is_empty(self) -> bool:
        """True when the record has nothing to identify it (no title, DOI or PMID)."""
        return not (self.title or self.doi or self.pmid)


# the bibliographic fields of a record, in the store's column order (``raw`` left out)
RECORD_FIELDS = tuple(f.name for f in fields(Record) if f.name != "raw")


def clean_text(value: object) -> str:
    """Collapse whitespace and strip; ``None`` becomes ''."""
    if value is None:
        return ""
    text = str(value)
    if "  " in text or "\n" in text or "\t" in text or "\r" in text:
        text = _SPACES.sub(" ", text)
    return text.strip()


def normalise_doi(value: object) -> str:
    """Lower-case bare DOI (``10.xxxx/...``) from a DOI, ``doi:`` or doi.org URL; '' if none is found.

    >>> normalise_doi("https://dx.doi.org/10.1097/MOL.0b013e3282ffaf82.")
    '10.1097/mol.0b013e3282ffaf82'
    """
    text = clean_text(value)
    if not text:
        return ""
    text = _DOI_PREFIX.sub("", text)
    text = text.replace("%28", "(").replace("%29", ")").replace("%2F", "/").replace("%2f", "/")
    match = _DOI_CORE.search(text)
    if match is None:
        return ""
    return match.group(0).rstrip(".,;)]}").lower()[:300]


def parse_year(value: object) -> int | None:
    """The first plausible four-digit year (1500-2099) in ``value``, else None."""
    match = _YEAR.search(clean_text(value))
    return int(match.group(1)) if match else None


def normalise_pmid(value: object) -> str:
    """A PubMed id as digits only ('' when ``value`` is not one)."""
    text = clean_text(value)
    text = re.sub(r"^(?:pmid:?\s*)", "", text, flags=re.IGNORECASE)
    return text if _PMID.match(text) else ""


def has_identity(rec: Record) -> bool:
    """Whether a record can be told apart at all: it has a title, a DOI or a PMID."""
    return bool(rec.title or rec.doi or rec.pmid)


def join_pages(start: object, end: object = None) -> str:
    """``'123-9'`` style page range from start and end page (either may be empty)."""
    first, last = clean_text(start), clean_text(end)
    if first and last and last != first:
        return f"{first}-{last}"
    return first or last


def split_list(value: object, separators: str = ";") -> list[str]:
    """Split a delimited string into stripped, non-empty items (a list is cleaned item by item)."""
    if value is None:
        return []
    items = value if isinstance(value, list) else re.split(f"[{re.escape(separators)}]", str(value))
    return [c for c in (clean_text(i) for i in items) if c]


_TAGS = re.compile(r"<[^>]+>")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower-case ASCII letters and digits separated by single spaces (accents and markup removed).

    >>> fold("Effects of <i>Ginkgo</i> biloba: a Méta-analysis.")
    'effects of ginkgo biloba a meta analysis'
    """
    import unicodedata

    text = unicodedata.normalize("NFKD", _TAGS.sub(" ", text))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    return _NON_ALNUM.sub(" ", text).strip()


def first_author_key(authors: list[str]) -> str:
    """Folded surname of the first author ('smith' from 'Smith, John', 'Smith J' or 'Smith J.Lee K.')."""
    if not authors:
        return ""
    first = authors[0]
    surname = first.split(",", 1)[0] if "," in first else first.split(" ", 1)[0]
    return fold(surname).replace(" ", "")


def identity_key(record: Record) -> str:
    """Key that identifies the same record in two versions of one database's search export."""
    if record.pmid:
        return f"pmid:{record.pmid}"
    if record.doi:
        return f"doi:{record.doi}"
    return f"t:{fold(record.title)}|{record.year}|{first_author_key(record.authors)}"
