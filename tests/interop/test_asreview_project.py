"""ASReview project files (``.asreview``) against the real ``asreview`` package (PyPI), run in its own
virtual environment (``.venv-asreview``, made by ``make test``; its pandas differs from ours) through
tests/interop/asreview_api.py: our export is opened by ASReview's ``Project.load`` and its labels read
back; a project made by ASReview's own API is imported. None of this existed before issue 11."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from metareview.errors import InputError
from metareview.interop.asreview_project import export_asreview, import_asreview, read_project
from metareview.records.model import Record
from metareview.review import Review
from metareview.screening import decisions as sd
from metareview.screening.stages import TITLE_ABSTRACT
from metareview.store import records_repo
from tests.needs import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
HELPER = Path(__file__).with_name("asreview_api.py")

RECORDS = [
    Record(
        title="Guided internet CBT for depression: a meta-analysis",
        year=2020,
        doi="10.1000/a",
        authors=["Smith, A", "Jones, B"],
        abstract="Pooled trials of guided iCBT.",
    ),
    Record(title="Unguided apps for anxiety", year=2019, doi="10.1000/b", abstract="Apps."),
    Record(title="Aspirin after myocardial infarction", year=2018, pmid="333"),
    Record(title="Human support in smartphone apps for stress", year=2021),
]


def _asreview_python() -> Path:
    for candidate in (
        os.environ.get("METAREVIEW_ASREVIEW_PYTHON"),
        ROOT / ".venv-asreview" / "bin" / "python",
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    skip_or_fail("the asreview package (make .venv-asreview/.installed, or set METAREVIEW_ASREVIEW_PYTHON)")
    raise AssertionError("unreachable")


def _asreview(*args: str, stdin: str | None = None) -> Any:
    done = subprocess.run(
        [str(_asreview_python()), str(HELPER), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout) if args[0] == "read" else None


def _review(tmp_path: Path, name: str, *, blind: bool = False, records: list[Record] | None = None) -> Review:
    review = Review.init(tmp_path / name)
    proto = tmp_path / name / "protocol.toml"
    proto.write_text(proto.read_text().replace("blind = true", f"blind = {str(blind).lower()}"))
    review.close()
    review = Review.open(tmp_path / name)
    if records:
        with review.session() as s:
            search = records_repo.add_search(
                s, database="MEDLINE", file_name="x", file_hash="h", file_format="ris"
            )
            records_repo.insert_records(s, search.id, 0, records)
            records_repo.finish_search(s, search, len(records))
    return review


def _votes(review: Review, reviewer: str) -> list[tuple[str, str, str | None]]:
    """(title, decision, note) of ``reviewer``'s title/abstract votes, in the order they were made."""
    from metareview.records.export import records_frame
    from metareview.store import screening_repo

    frame = records_frame(review)
    title_of = dict(zip(frame["id"].astype(int), frame["title"], strict=True))
    with review.session() as s:
        events = screening_repo.events(s, stage=TITLE_ABSTRACT)
        return [(title_of[e.record_id], e.decision, e.note) for e in events if e.reviewer == reviewer]


def test_export_opens_in_asreview_with_labels_order_and_notes(tmp_path: Path) -> None:
    review = _review(tmp_path, "rv", records=RECORDS)
    # decided in the order 2, 4, 1 (two reviewers each); 3 has one vote only (not decided)
    for rid, decision, note in ((2, "exclude", "not a review"), (4, "include", None), (1, "include", "core")):
        sd.decide(
            review,
            rid,
            "ana",
            decision,
            note=note,
            reason="not a meta-analysis" if decision == "exclude" else None,
        )
        sd.decide(
            review, rid, "ben", decision, reason="not a meta-analysis" if decision == "exclude" else None
        )
    sd.decide(review, 3, "ana", "exclude", reason="not a meta-analysis")
    out = tmp_path / "handback.asreview"
    assert export_asreview(review, out) == 4
    seen = _asreview("read", str(out))
    assert seen["version"] == 3
    title_of = {r["record_id"]: r["title"] for r in seen["records"]}
    assert sorted(title_of.values()) == sorted(r.title for r in RECORDS)
    labels = [(title_of[rid], label, note) for rid, label, note in seen["labels"]]
    assert labels == [
        (RECORDS[1].title, 0, "not a review"),
        (RECORDS[3].title, 1, None),
        (RECORDS[0].title, 1, "core"),
    ]

    # ... and back: a fresh review gets the records and one vote per label, in the same order
    back = _review(tmp_path, "back")
    report = import_asreview(back, out, reviewer="asreview")
    assert report.records.added == 4 and report.labels.written == 3 and not report.labels.unmatched
    votes = _votes(back, "asreview")
    assert votes == [
        (RECORDS[1].title, "exclude", "not a review"),
        (RECORDS[3].title, "include", None),
        (RECORDS[0].title, "include", "core"),
    ]
    again = tmp_path / "again.asreview"
    export_asreview(back, again)
    # one vote of the two the protocol asks for: nothing is decided yet, so nothing is labelled
    assert _asreview("read", str(again))["labels"] == []


def test_blind_mode_hides_labels_the_requester_may_not_see(tmp_path: Path) -> None:
    review = _review(tmp_path, "rv", blind=True, records=RECORDS)
    sd.decide(review, 1, "ana", "include", note="secret")
    sd.decide(review, 1, "ben", "include")
    sd.decide(review, 2, "ana", "exclude", reason="not a meta-analysis", note="hidden")
    carl = tmp_path / "carl.asreview"
    export_asreview(review, carl, reviewer="carl")  # voted on nothing: sees no decision, no note
    assert read_project(carl)[1] == []
    with zipfile.ZipFile(carl) as zf:
        assert all(b"secret" not in zf.read(n) and b"hidden" not in zf.read(n) for n in zf.namelist())
    ana = tmp_path / "ana.asreview"
    export_asreview(review, ana, reviewer="ana")  # record 2 waits for a second vote: not labelled
    assert [(lab.label, lab.note) for lab in read_project(ana)[1]] == [(1, "secret")]


def test_import_a_project_made_by_asreview(tmp_path: Path) -> None:
    spec = {
        "records": [
            {
                "title": "Exercise for depression in older adults",
                "abstract": "RCTs.",
                "authors": ["Lee, K"],
                "year": 2015,
                "doi": "10.2000/x1",
            },
            {"title": "Yoga and back pain", "abstract": "Trials.", "authors": [], "year": 2016, "doi": ""},
            {
                "title": "Statins in the elderly",
                "abstract": "Cohorts.",
                "authors": ["Ng, P", "Ode, Q"],
                "year": 2017,
                "doi": "10.2000/x3",
            },
            {"title": "Never labelled", "abstract": "", "authors": [], "year": 2018, "doi": ""},
        ],
        "labels": [[2, 1, "relevant: statins"], [0, 0, ""], [1, 1, "check full text"]],
    }
    made = tmp_path / "made.asreview"
    _asreview("make", str(made), stdin=json.dumps(spec))
    review = _review(tmp_path, "rv")
    report = import_asreview(review, made, reviewer="asreview")
    assert report.records.database == "ASReview" and report.records.added == 4
    assert report.labelled == 3 and report.labels.written == 3
    assert _votes(review, "asreview") == [
        ("Statins in the elderly", "include", "relevant: statins"),
        ("Exercise for depression in older adults", "exclude", None),
        ("Yoga and back pain", "include", "check full text"),
    ]
    from metareview.records.export import records_frame

    frame = records_frame(review).set_index("title")
    assert frame.loc["Statins in the elderly", "authors"] == "Ng, P; Ode, Q"
    assert frame.loc["Exercise for depression in older adults", "doi"] == "10.2000/x1"
    assert set(frame["database"]) == {"ASReview"}


def test_a_refused_label_leaves_the_review_unchanged(tmp_path: Path) -> None:
    r1 = Record(title="Screened twice already", year=2020, doi="10.3000/z")
    r2 = Record(title="A new record", year=2021, doi="10.3000/y")
    first = _review(tmp_path, "a", records=[r1])
    second = _review(tmp_path, "b", records=[r1, r2])
    for source in (first, second):
        for who in ("ana", "ben"):
            sd.decide(source, 1, who, "include")
    export_asreview(first, tmp_path / "a.asreview")
    export_asreview(second, tmp_path / "b.asreview")
    review = _review(tmp_path, "rv")
    import_asreview(review, tmp_path / "a.asreview", reviewer="asreview")
    sd.decide(review, 1, "ana", "include")  # r1 now has the two votes the protocol asks for
    # b adds r2 (new) and a third vote on r1, which is refused: r2 must not be added either
    with pytest.raises(InputError, match="already has its 2 of 2 vote") as err:
        import_asreview(review, tmp_path / "b.asreview", reviewer="asreview2")
    assert err.value.file == str(tmp_path / "b.asreview")  # the user's file, not a temporary one
    assert "label" in str(err.value.field)
    from metareview.records.export import records_frame

    assert list(records_frame(review)["title"]) == [r1.title]


def test_not_a_project_is_an_input_error(tmp_path: Path) -> None:
    review = _review(tmp_path, "rv")
    bad = tmp_path / "x.asreview"
    bad.write_text("not a zip")
    with pytest.raises(InputError, match="not a zip"):
        import_asreview(review, bad, reviewer="a")
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("project.json", json.dumps({"project_file_version": 1}))
        zf.writestr("results.db", b"")
    with pytest.raises(InputError, match="version 1 is not supported"):
        import_asreview(review, bad, reviewer="a")
