"""Screening test fixtures: a review (SQLite and PostgreSQL) holding a few records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from storefixtures import store_url  # noqa: F401

from metareview.records.model import Record
from metareview.review import Review
from metareview.store import records_repo

TITLES = [
    "Guided internet CBT for depression: a meta-analysis",
    "Unguided digital interventions for anxiety: meta-analysis",
    "Aspirin after myocardial infarction: a randomised trial",
    "Statins and stroke: cohort study",
    "Human support in smartphone apps for stress: a meta-analysis",
    "Hip fracture surgery outcomes in older adults",
]


def make_review(directory: Path, url: str, blind: bool = True, reviewers: int = 2) -> Review:
    """A review with the template protocol (blind and reviewers edited) and the six records above."""
    review = Review.init(directory, db_url=url)
    proto = directory / "protocol.toml"
    text = proto.read_text()
    text = text.replace("blind = true", f"blind = {str(blind).lower()}")
    text = text.replace("reviewers_per_record = 2", f"reviewers_per_record = {reviewers}")
    proto.write_text(text)
    review.close()
    review = Review.open(directory, db_url=url)
    with review.session() as s:
        search = records_repo.add_search(
            s, database="MEDLINE", file_name="x.ris", file_hash="h1", file_format="ris"
        )
        records_repo.insert_records(s, search.id, 0, [Record(title=t, abstract=t.lower()) for t in TITLES])
        records_repo.finish_search(s, search, len(TITLES))
    return review


@pytest.fixture
def review(tmp_path: Path, store_url: str) -> Iterator[Review]:  # noqa: F811
    """A blind, dual-review review with six records (ids 1..6)."""
    rv = make_review(tmp_path / "rv", store_url)
    yield rv
    rv.close()
