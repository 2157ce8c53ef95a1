"""Studies vs reports (issue 10): several records (reports) linked to one study; PRISMA 2020 counts the
studies included and the reports of included studies apart (``new_studies`` / ``new_reports``). Counts
are worked out by hand from the scenario below."""

from __future__ import annotations

import pandas as pd
import pytest
from screenfixtures import make_review

from metareview.errors import InputError
from metareview.screening import decisions as sd
from metareview.screening import studies
from metareview.screening.prisma import draw_prisma, prisma_counts

FT = "full_text"


@pytest.fixture
def screened(tmp_path, store_url):
    """Six records, one reviewer: 1, 2, 3, 5 included at title/abstract; 1, 2, 3 included at full text."""
    rv = make_review(tmp_path / "p", store_url, reviewers=1)
    for rid in (1, 2, 3, 5):
        sd.decide(rv, rid, "ana", "include")
    for rid in (4, 6):
        sd.decide(rv, rid, "ana", "exclude")
    for rid in (1, 2, 3):
        sd.decide(rv, rid, "ana", "include", stage=FT)
    sd.decide(rv, 5, "ana", "exclude", stage=FT, reason="not a quantitative meta-analysis")
    yield rv
    rv.close()


def test_linked_reports_count_as_one_study(screened, tmp_path):
    c = prisma_counts(screened)
    assert (c.new_studies, c.new_reports) == (3, 3)          # default: one study per report
    # records 1 and 2 are two papers of one review (e.g. the meta-analysis and its companion paper)
    assert studies.link_reports(screened, [1, 2], "heber2017", actor="ana", note="companion paper") == 2
    assert studies.link_reports(screened, [2], "heber2017", actor="ana") == 0     # already there
    c = prisma_counts(screened)
    assert (c.new_studies, c.new_reports, c.dbr_assessed) == (2, 3, 4)
    csv = pd.read_csv(c.to_csv(tmp_path / "prisma.csv")).set_index("data")
    assert csv.loc["new_studies", "n"] == "2" and csv.loc["new_reports", "n"] == "3"
    svg = draw_prisma(c, tmp_path / "prisma.svg").read_text()
    assert "Studies included in review" in svg and "Reports of included studies" in svg
    assert "(n = 2)" in svg and "(n = 3)" in svg
    found = studies.studies(screened, [1, 2, 3])
    assert [(s.name, s.record_ids, s.linked) for s in found] == [("heber2017", (1, 2), True),
                                                                 ("record 3", (3,), False)]
    # an excluded report linked to an included one does not add a report of an included study
    studies.link_reports(screened, [3, 5], "andersson", actor="ben")
    assert (prisma_counts(screened).new_studies, prisma_counts(screened).new_reports) == (2, 3)
    assert studies.unlink_reports(screened, [2], actor="ana") == 1
    assert (prisma_counts(screened).new_studies, prisma_counts(screened).new_reports) == (3, 3)
    hist = studies.history(screened)
    assert [(e.record_id, e.study, e.actor) for e in hist] == [
        (1, "heber2017", "ana"), (2, "heber2017", "ana"), (3, "andersson", "ben"), (5, "andersson", "ben"),
        (2, None, "ana")]
    assert hist[0].note == "companion paper" and hist[0].at is not None


def test_link_errors(screened):
    with pytest.raises(InputError, match="no record 99"):
        studies.link_reports(screened, [1, 99], "x", actor="ana")
    with pytest.raises(InputError, match="give the study a name"):
        studies.link_reports(screened, [1], "  ", actor="ana")
    with pytest.raises(InputError, match="own study"):
        studies.link_reports(screened, [1, 2], "record 2", actor="ana")
    with pytest.raises(InputError, match="at most 200"):
        studies.link_reports(screened, [1], "x" * 201, actor="ana")
    with pytest.raises(InputError, match="is not linked"):
        studies.unlink_reports(screened, [4], actor="ana")
    with pytest.raises(InputError, match="reviewer name is required"):
        studies.link_reports(screened, [1], "x", actor="")
    assert studies.history(screened) == []
