"""Studies and their reports: several records (reports) can be linked to one study.

PRISMA 2020 (Page et al. 2021, BMJ 372:n71) tells a *report* — a document: a journal article, a
preprint, a conference abstract, a registry entry — from the *study* it reports on, and counts both:
"Studies included in review (n = )" and "Reports of included studies (n = )" (``new_studies`` and
``new_reports`` in the PRISMA2020 field form). Screening decides on records, i.e. reports.

**What a study is in an umbrella review.** The units assessed at full text are reviews (systematic
reviews, meta-analyses), so a *study* here is one review and its *reports* are the papers that present
it: a meta-analysis and its companion paper of secondary outcomes, a conference abstract and the full
paper, a Cochrane review and a journal version of it, a review and its published erratum. (The primary
studies inside the included reviews are a different level: they are the rows of the extraction's
primary-study lists.)

Every record is its own study until it is linked: :func:`link_reports` puts records in a named study
(e.g. the main paper and its follow-up), :func:`unlink_reports` makes a record its own study again. Each
change is an appended event with who and when (the latest event per record holds); nothing is
overwritten. The PRISMA counts (:mod:`metareview.screening.prisma`,
:mod:`~metareview.screening.prisma_update`) count the distinct studies among the included records. Example::

    from metareview.screening import studies
    studies.link_reports(review, [12, 31], "heber2017", actor="ana")   # one review, two papers
    studies.count_studies(review, [12, 31, 40])                         # 2
    studies.unlink_reports(review, [31], actor="ana")
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from metareview.errors import InputError
from metareview.review import Review
from metareview.screening.roster import canonical_reviewer, check_text
from metareview.store import extraction_repo as repo

MAX_STUDY = 200  # characters of a study name (the store's column width)


@dataclass(frozen=True)
class Study:
    """A study and the records (reports) of it; ``linked`` is False for a record that is its own study."""

    name: str
    record_ids: tuple[int, ...]
    linked: bool

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "record_ids": list(self.record_ids), "linked": self.linked}

    def __str__(self) -> str:
        return f"{self.name}: record(s) {', '.join(map(str, self.record_ids))}"


@dataclass(frozen=True)
class LinkEvent:
    """One link or unlink, as stored."""

    record_id: int
    study: str | None
    actor: str
    note: str | None
    at: datetime


def own_study(record_id: int) -> str:
    """The name of the study of a record that is not linked: ``record <id>``."""
    return f"record {record_id}"


def _ids(record_ids: Iterable[int]) -> list[int]:
    out = []
    for r in record_ids:
        try:
            out.append(int(r))
        except (TypeError, ValueError):
            raise InputError(f"record id must be a number, not {r!r}", field="record_id") from None
    if not out:
        raise InputError("give one or more record ids", field="record_id")
    return sorted(set(out))


def _links(session: Any) -> dict[int, str]:
    latest: dict[int, str | None] = {}
    for e in repo.study_link_events(session):
        latest[e.record_id] = e.study
    return {r: s for r, s in latest.items() if s is not None}


def link_reports(review: Review, record_ids: Iterable[int], study: str, actor: str,
                 note: str | None = None) -> int:
    """Link records (reports) to the study named ``study`` (one transaction); the number of records whose
    study changed. :class:`InputError` for an unknown record, a blank or overlong name, or a name that
    looks like another record's own study (``record 7``: link both records under a real name instead)."""
    name = canonical_reviewer(review.protocol, actor, option="reviewer")
    text = check_text(study, "study", MAX_STUDY)
    if not text:
        raise InputError("give the study a name (e.g. the main report's key)", field="study")
    text = " ".join(text.split())
    ids = _ids(record_ids)
    if text.lower().startswith("record ") and text[7:].strip().isdigit():
        raise InputError(f"{text!r} is the name a record gets when it is its own study; choose another name",
                         field="study")
    note = check_text(note, "note")
    with review.session() as s:
        missing = sorted(set(ids) - repo.existing_records(s, ids))
        if missing:
            raise InputError(f"no record {missing[0]} in this review", field="record_id")
        links = _links(s)
        changed = [r for r in ids if links.get(r) != text]
        repo.add_study_links(s, [(r, text) for r in changed], name, note)
    return len(changed)


def unlink_reports(review: Review, record_ids: Iterable[int], actor: str, note: str | None = None) -> int:
    """Make records their own study again (appended events); :class:`InputError` for a record that is
    not linked. Returns the number unlinked."""
    name = canonical_reviewer(review.protocol, actor, option="reviewer")
    ids = _ids(record_ids)
    note = check_text(note, "note")
    with review.session() as s:
        links = _links(s)
        loose = [r for r in ids if r not in links]
        if loose:
            raise InputError(f"record {loose[0]} is not linked to a study", field="record_id")
        repo.add_study_links(s, [(r, None) for r in ids], name, note)
    return len(ids)


def study_of(review: Review) -> dict[int, str]:
    """``record id -> study name`` of every linked record (a record not in it is its own study)."""
    with review.session() as s:
        return _links(s)


def studies(review: Review, record_ids: Iterable[int]) -> list[Study]:
    """The studies of these records (each record in exactly one), in the order of their first record."""
    links = study_of(review)
    groups: dict[str, list[int]] = {}
    for r in sorted(set(int(x) for x in record_ids)):
        groups.setdefault(links.get(r, own_study(r)), []).append(r)
    return [Study(name, tuple(ids), ids[0] in links) for name, ids in groups.items()]


def count_studies(review: Review, record_ids: Iterable[int]) -> int:
    """The number of distinct studies among these records."""
    return len(studies(review, record_ids))


def history(review: Review) -> list[LinkEvent]:
    """Every link and unlink, oldest first."""
    with review.session() as s:
        return [LinkEvent(e.record_id, e.study, e.actor, e.note, e.created_at)
                for e in repo.study_link_events(s)]
