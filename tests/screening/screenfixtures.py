"""The screening tests' review builder (imported by name from a module of its own: ``from conftest import``
picks whichever conftest.py came first on sys.path when several test folders run together)."""

from __future__ import annotations

from pathlib import Path

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
