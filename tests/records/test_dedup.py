"""Deduplication: accuracy on ASySD's labelled test set, matching rules, reversible clusters, the
uncertain-pair review list."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import select

from metareview.errors import InputError
from metareview.records import dedup
from metareview.records.export import records_frame
from metareview.records.importer import import_file
from metareview.review import Review
from metareview.store import records_repo
from metareview.store.records_models import DedupEvent

BASE = (
    1,
    "Guided internet CBT for depression in primary care: a randomised trial",
    ["Lindqvist, Anna"],
    2019,
    "Journal of Depression Research",
    "12",
    "211-219",
    "10.1000/jdr.1",
    "",
)


def _row(rid: int, **changes: object) -> tuple[object, ...]:
    names = ("id", "title", "authors", "year", "journal", "volume", "pages", "doi", "pmid")
    values = dict(zip(names, BASE, strict=True))
    values.update(changes, id=rid)
    return tuple(values[n] for n in names)


@pytest.mark.parametrize(
    "variant",
    [
        {"title": BASE[1].upper().replace(":", " -"), "doi": ""},  # case and punctuation, no DOI
        {"title": BASE[1][:45], "doi": ""},  # truncated title
        {"year": 2020, "doi": "", "pages": ""},  # a year later (online first), no DOI
        {"journal": "J Depress Res", "authors": ["Lindqvist A"], "doi": ""},  # abbreviations
        {"title": "Something else entirely", "doi": BASE[7]},  # same DOI, title mangled -> not 0.8
        {"pmid": "123", "doi": ""},
        {"pages": "Feb-19", "doi": ""},  # "2-19" turned into a date by a spreadsheet
    ],
)
def test_variants_are_matched(variant: dict[str, object]) -> None:
    other = {"pmid": "123"} if "pmid" in variant else {"pages": "2-19"} if "pages" in variant else {}
    sure, unsure = dedup.find_duplicates([_row(1, **other), _row(2, **variant)])
    if variant.get("title") == "Something else entirely":
        assert sure == [] and unsure == []  # a shared (supplement) DOI with a different title
    else:
        assert [(a, b) for a, b, _ in sure] == [(1, 2)] and unsure == []


@pytest.mark.parametrize(
    ("variant", "expect"),
    [
        ({"title": "Guided internet CBT for anxiety in schools: a cohort study", "doi": ""}, "none"),
        ({"year": 2023, "doi": ""}, "none"),  # same title four years apart: another report
        ({"pages": "300-310", "doi": ""}, "uncertain"),  # same title, different pages
        ({"doi": "10.1000/other"}, "uncertain"),  # conflicting DOIs
        ({"pages": "212-219"}, "uncertain"),  # shared DOI but another page: supplement abstracts
        # the same first author, year and title in another journal: two abstracts, or one in two places
        ({"journal": "Depression Congress Abstracts", "volume": "1", "pages": "S12", "doi": ""}, "uncertain"),
        # a conference abstract and the later paper: a year apart in another journal, or another volume
        ({"year": 2020, "volume": "13", "journal": "Depression Congress Abstracts", "doi": ""}, "none"),
        ({"year": 2020, "volume": "13", "pages": "", "doi": ""}, "none"),
        # forename first and an unknown journal abbreviation, nothing placing it elsewhere: a human decides
        (
            {"authors": ["Anna Lindqvist"], "journal": "JDR", "volume": "", "pages": "", "doi": ""},
            "uncertain",
        ),
        # another first author's abstract of the same work in another journal and volume
        (
            {
                "authors": ["Berg, Ola"],
                "journal": "Nordic Psychiatry",
                "volume": "3",
                "pages": "45",
                "doi": "",
            },
            "none",
        ),
    ],
)
def test_non_duplicates_are_not_merged(variant: dict[str, object], expect: str) -> None:
    sure, unsure = dedup.find_duplicates([_row(1), _row(2, **variant)])
    assert sure == []
    assert [(a, b) for a, b, _ in unsure] == ([] if expect == "none" else [(1, 2)])


def test_electronic_page_numbers_agree() -> None:
    """'e0137960' and '137960' are one article number: with a shared DOI the pair is exact."""
    rows = [_row(1, pages="e0137960"), _row(2, pages="137960"), _row(3, pages="137961", doi="")]
    sure, unsure = dedup.find_duplicates(rows)
    assert [(a, b, k) for a, b, k in sure] == [(1, 2, "exact")]
    assert [(a, b) for a, b, _ in unsure] == [(1, 3), (2, 3)]  # another page: left to review


def test_threshold() -> None:
    with pytest.raises(InputError, match="threshold"):
        dedup.find_duplicates([], threshold=1.5)
    variant = _row(2, title=BASE[1].replace("randomised trial", "randomized clinical trial"), doi="")
    assert dedup.find_duplicates([_row(1), variant])[0] == []  # title similarity 0.925 < default 0.95
    sure, unsure = dedup.find_duplicates([_row(1), variant], threshold=0.8)
    assert [(a, b) for a, b, _ in sure] == [(1, 2)] and unsure == []


def test_large_blocks_use_cdist() -> None:
    rows = [
        _row(i, title=f"Editorial {i:04d} on a subject", doi="", pages="", authors=[]) for i in range(400)
    ]
    rows.append(_row(1000, title="Editorial 0007 on a subject", doi="", pages="", authors=[]))
    sure, unsure = dedup.find_duplicates(rows)
    assert (7, 1000) in {(a, b) for a, b, _ in sure + [(a, b, "") for a, b, _ in unsure]}


def test_accuracy_on_asysd_labelled_set(tmp_path: Path, shared_data: Path, store_url: str) -> None:
    """ASySD's hand-labelled set (Hair et al. 2023; camaradesuk/ASySD tests/testthat, commit df54be9).

    Truth: the CSV's ``source`` column ('unique' = the record to keep, 'duplicate' = a duplicate of one).
    Its ``label`` column (In_database / Duplicate_in_trash) marks identical copies as In_database in
    370 cases, so it cannot be the duplicate truth. Sensitivity = duplicates removed / duplicates,
    specificity = unique records kept / unique records (ASySD's definitions), counted per cluster
    so that which member is kept does not matter.
    """
    review = Review.init(tmp_path / "rev", store_url)
    import_file(review, shared_data / "records" / "asysd" / "labelled_test_set.csv", "ASySD")
    result = dedup.deduplicate(review)
    with review.session() as s:
        rows = [
            (rec.raw["source"] == "duplicate", cid) for rec, _db, cid, _kept in records_repo.iter_records(s)
        ]
    clusters: dict[int, list[bool]] = defaultdict(list)
    for is_dup, cid in rows:
        if cid is not None:
            clusters[cid].append(is_dup)
    sensitivity, specificity = dedup.accuracy_by_cluster(clusters.values(), [d for d, _ in rows])
    print(f"ASySD labelled set: sensitivity {sensitivity:.4f}, specificity {specificity:.4f}; {result}")
    assert len(rows) == 1845 and sum(d for d, _ in rows) == 1261
    # before the abstract/paper rules and one pair per two clusters: 0.9968, 1.0000 and 360 pairs
    assert sensitivity >= 0.997
    assert specificity >= 0.999
    assert result.uncertain_open <= 10  # 5 measured: 3 of them true duplicates by the labels
    review.close()


def test_accuracy_helpers() -> None:
    assert dedup.accuracy([True, False, False, True], [True, True, False, False]) == (0.5, 0.5)
    # a cluster of 3 holding 2 true duplicates removes 2 rightly; 2 non-duplicates together remove 1 wrongly
    got = dedup.accuracy_by_cluster([[True, True, False], [False, False]], [True, True, False, False, False])
    assert got == pytest.approx((1.0, 2 / 3))


EXPORT = """\
TY  - JOUR
TI  - Guided internet CBT for depression in primary care: a randomised trial
AU  - Lindqvist, Anna
PY  - 2019
JO  - Journal of Depression Research
SP  - 211
ER  -

TY  - JOUR
TI  - Guided internet CBT for depression in primary care - a randomised trial
AU  - Lindqvist, A
PY  - 2019
JO  - J Depress Res
SP  - 211
DO  - 10.1000/jdr.1
AB  - Adults were randomised.
ER  -

TY  - JOUR
TI  - Guided internet CBT for depression in primary care: a randomised trial
AU  - Lindqvist, Anna
PY  - 2019
JO  - Journal of Depression Research
SP  - 300
ER  -

TY  - JOUR
TI  - An unrelated paper on sleep
PY  - 2001
ER  -
"""


def _review(tmp_path: Path, store_url: str) -> Review:
    review = Review.init(tmp_path / "rev", store_url)
    path = tmp_path / "x.ris"
    path.write_text(EXPORT, encoding="utf-8")
    import_file(review, path, "PsycINFO")
    return review


def test_clusters_fill_kept_record_and_are_reversible(tmp_path: Path, store_url: str) -> None:
    review = _review(tmp_path, store_url)
    result = dedup.deduplicate(review)
    # record 3 (another page) is uncertain against both members of cluster {1, 2}: one pair to review
    assert (result.clusters, result.duplicates, result.uncertain_added) == (1, 1, 1)
    frame = records_frame(review).set_index("id")
    assert frame.status.tolist() == ["kept", "duplicate", "unique", "unique"]
    assert frame.loc[1, "doi"] == "10.1000/jdr.1" and frame.loc[1, "abstract"] == "Adults were randomised."
    with review.session() as s:
        assert records_repo.records_by_id(s, [1])[0].doi == ""  # the record row itself is untouched
    again = dedup.deduplicate(review)
    assert (again.clusters_changed, again.uncertain_added) == (0, 0)
    cluster = int(frame.loc[1, "cluster_id"])
    dedup.undo_cluster(review, cluster)
    assert set(records_frame(review).status) == {"unique"}
    with pytest.raises(InputError, match="no duplicate cluster"):
        dedup.undo_cluster(review, cluster)
    dedup.deduplicate(review)
    assert dedup.reset(review) == 1
    assert set(records_frame(review).status) == {"unique"}
    review.close()


def test_uncertain_pairs_confirm_and_reject(tmp_path: Path, store_url: str) -> None:
    review = _review(tmp_path, store_url)
    dedup.deduplicate(review)
    pairs = dedup.uncertain_pairs(review)
    # one pair per two clusters ({1, 2} and {3}), not one per two records: (2, 3) is not listed
    assert [(p.a["id"], p.b["id"]) for p in pairs] == [(1, 3)]
    assert "title similarity" in str(pairs[0])
    dedup.decide(review, pairs[0].pair_id, confirm=False)
    assert dedup.uncertain_pairs(review) == []
    rejected = dedup.deduplicate(review)  # the rejection covers the clusters: (2, 3) stays off the list
    assert (rejected.duplicates, rejected.uncertain_added, rejected.uncertain_open) == (1, 0, 0)
    assert records_frame(review).status.tolist() == ["kept", "duplicate", "unique", "unique"]
    dedup.decide(review, pairs[0].pair_id, confirm=True)  # the user changes their mind
    frame = records_frame(review).set_index("id")
    assert frame.status.tolist() == ["kept", "duplicate", "duplicate", "unique"]
    assert [p.status for p in dedup.uncertain_pairs(review, status=None)] == ["confirmed"]
    rerun = dedup.deduplicate(review)
    assert (rerun.duplicates, rerun.uncertain_open, rerun.clusters_changed) == (2, 0, 0)
    with pytest.raises(InputError, match="no duplicate pair"):
        dedup.decide(review, 999, confirm=True)
    review.close()


def test_confirm_then_reject_restores_the_record(tmp_path: Path, store_url: str) -> None:
    review = _review(tmp_path, store_url)
    dedup.deduplicate(review)
    (pair,) = dedup.uncertain_pairs(review)
    dedup.decide(review, pair.pair_id, confirm=True)
    assert records_frame(review).status.tolist() == ["kept", "duplicate", "duplicate", "unique"]
    dedup.decide(review, pair.pair_id, confirm=False)  # the user changes their mind again
    frame = records_frame(review).set_index("id")
    # record 3 is unique again; the automatic cluster {1, 2} (and what it merged into 1) stays
    assert frame.status.tolist() == ["kept", "duplicate", "unique", "unique"]
    assert frame.loc[1, "doi"] == "10.1000/jdr.1"
    assert [p.status for p in dedup.uncertain_pairs(review, status=None)] == ["rejected"]
    rerun = dedup.deduplicate(review)
    assert (rerun.duplicates, rerun.uncertain_open) == (1, 0)
    with review.session() as s:  # both decisions are kept as appended events
        kinds = [e.kind for e in s.scalars(select(DedupEvent).order_by(DedupEvent.id))]
    assert kinds == ["run", "confirmed", "rejected", "run"]
    review.close()


def test_status_says_when_dedup_has_not_run(tmp_path: Path, store_url: str) -> None:
    from metareview.records.status import records_status

    review = _review(tmp_path, store_url)
    st = records_status(review)
    assert st.dedup_stale and "deduplication has not run" in str(st)
    dedup.deduplicate(review)
    st = records_status(review)
    assert not st.dedup_stale and "has not run" not in str(st)
    path = tmp_path / "more.ris"
    path.write_text("TY  - JOUR\nTI  - Another trial of exercise\nPY  - 2020\nER  -\n", encoding="utf-8")
    import_file(review, path, "Embase")
    st = records_status(review)
    assert st.dedup_stale and "since the last import" in str(st)
    assert st.to_dict()["dedup_stale"] is True
    review.close()
