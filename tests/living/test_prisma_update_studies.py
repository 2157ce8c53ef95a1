"""PRISMA for updated reviews with studies vs reports (issue 10): a new report of a study the previous
version already included is a new report, not a new study. Counts worked out by hand."""

from __future__ import annotations

from pathlib import Path

from test_prisma_update import _review_with_update, _screen

from metareview.review import Review
from metareview.screening import studies
from metareview.screening.batches import batch_records
from metareview.screening.prisma_update import update_prisma_counts


def test_a_follow_up_report_is_not_a_new_study(review: Review, tmp_path: Path) -> None:
    _review_with_update(review, tmp_path)
    old, new = batch_records(review)[1], batch_records(review)[2]
    _screen(review, new, include_ta=3, include_ft=2)   # 2 new records included at full text
    c = update_prisma_counts(review)
    counts = (c.previous_studies, c.previous_reports, c.update.new_studies, c.update.new_reports)
    assert counts == (3, 3, 2, 2)
    # the first new record is a follow-up paper of the first previously included review; two previous
    # records are one review
    studies.link_reports(review, [old[0], new[0]], "review A", actor="ana")
    studies.link_reports(review, [old[1], old[2]], "review B", actor="ana")
    c = update_prisma_counts(review)
    assert (c.previous_studies, c.previous_reports) == (2, 3)
    assert (c.update.new_studies, c.update.new_reports) == (1, 2)
    assert (c.total_studies, c.total_reports) == (3, 5)
    frame = c.to_frame().set_index("data")
    assert frame.loc["new_studies", "n"] == 1 and frame.loc["new_reports", "n"] == 2
