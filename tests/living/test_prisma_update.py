"""PRISMA 2020 for updated reviews (issue 12), derived from the store: previous studies, the update's
own flow, total studies. Counts are worked out by hand from the scenario below."""

from __future__ import annotations

from pathlib import Path

import pytest
from living_helpers import titles, write_ris

from metareview.errors import InputError
from metareview.records.importer import import_file
from metareview.review import Review
from metareview.screening import decisions as sd
from metareview.screening.batches import UpdateSource, batch_records, update_review
from metareview.screening.prisma import PrismaError
from metareview.screening.prisma_update import draw_update_prisma, update_prisma_counts

T = titles(30, seed=3)
FT_REASON = "not a quantitative meta-analysis"
TA_REASON = "not a meta-analysis"


def _screen(review: Review, ids: list[int], include_ta: int, include_ft: int, not_retrieved: int = 0) -> None:
    """Include the first ``include_ta`` at title/abstract (exclude the rest); of those, mark the last
    ``not_retrieved`` not retrieved, include ``include_ft`` at full text and exclude the others."""
    for i, rid in enumerate(ids):
        sd.decide(
            review,
            rid,
            "ana",
            "include" if i < include_ta else "exclude",
            reason=None if i < include_ta else TA_REASON,
        )
    sought = ids[:include_ta]
    missing = sought[len(sought) - not_retrieved :] if not_retrieved else []
    for rid in missing:
        sd.mark_retrieval(review, rid, "ana", retrieved=False)
    for i, rid in enumerate([r for r in sought if r not in missing]):
        sd.decide(
            review,
            rid,
            "ana",
            "include" if i < include_ft else "exclude",
            stage="full_text",
            reason=None if i < include_ft else FT_REASON,
        )


def _review_with_update(review: Review, tmp: Path) -> None:
    # previous version: 12 records from MEDLINE, 4 included at TiAb, 3 included at full text
    import_file(review, write_ris(tmp / "a.ris", T[:12]), "MEDLINE", searched="2024-01-01")
    _screen(review, batch_records(review)[1], include_ta=4, include_ft=3)
    # update: MEDLINE returns 5 new records; PsycINFO returns 2 of them again plus 2 of the old ones
    update_review(
        review,
        [
            UpdateSource(write_ris(tmp / "m2.ris", T[12:17]), "MEDLINE", searched="2025-01-01"),
            UpdateSource(write_ris(tmp / "p2.ris", T[12:14] + T[0:2]), "PsycINFO", searched="2025-01-02"),
        ],
    )


def test_update_counts_from_the_store(review: Review, tmp_path: Path) -> None:
    _review_with_update(review, tmp_path)
    new = batch_records(review)[2]
    assert len(new) == 5
    with pytest.raises(PrismaError, match="not finished"):
        update_prisma_counts(review)
    # 5 screened, 3 included at TiAb, 1 of them not retrieved, 1 included and 1 excluded at full text
    _screen(review, new, include_ta=3, include_ft=1, not_retrieved=1)
    c = update_prisma_counts(review)
    assert c.update_batch == 2
    assert c.previous_studies == 3 and c.previous_reports == 3
    u = c.update
    assert u.database_results == {"MEDLINE": 5, "PsycINFO": 4}
    assert u.duplicates == 4  # 2 duplicates of new MEDLINE records + 2 of records the review already held
    assert (u.records_screened, u.records_excluded) == (5, 2)
    assert (u.dbr_sought_reports, u.dbr_notretrieved_reports, u.dbr_assessed) == (3, 1, 2)
    assert u.dbr_excluded == {FT_REASON: 1}
    assert u.new_studies == 1 and c.total_studies == 4 and c.total_reports == 4
    frame = c.to_frame().set_index("data")
    assert frame.loc["previous_studies", "n"] == 3 and frame.loc["total_studies", "n"] == 4
    out = draw_update_prisma(c, tmp_path / "flow.svg")
    svg = out.read_text()
    assert "Previous studies" in svg and "Total studies included in review" in svg


def test_no_update_is_an_input_error(review: Review, tmp_path: Path) -> None:
    import_file(review, write_ris(tmp_path / "a.ris", T[:3]), "MEDLINE", searched="2024-01-01")
    with pytest.raises(InputError, match="no update"):
        update_prisma_counts(review)
