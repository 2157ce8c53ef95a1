"""Imports on SQLite and PostgreSQL: the search record, re-import by hash, living-review updates,
and an import killed mid-file leaving the store as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from samples import MEDLINE, PUBMED_XML, RIS

from metareview.records.dedup import deduplicate
from metareview.records.export import records_frame
from metareview.records.importer import import_file
from metareview.records.status import records_status
from metareview.review import Review
from metareview.store.records_models import Search, StoredRecord

NEW_RECORD = """\
TY  - JOUR
TI  - Therapist-guided versus self-guided apps for panic disorder
AU  - Haddad, Leila
PY  - 2022
JO  - Anxiety Research
DO  - 10.1000/ar.2022.7
ER  -
"""
VARIANT = """\
TY  - JOUR
TI  - GUIDED INTERNET DELIVERED COGNITIVE-BEHAVIOURAL THERAPY FOR DEPRESSION.
AU  - Lindqvist, A.
PY  - 2020
JO  - Journal of Depression Research
VL  - 12
SP  - 211
ER  -
"""


def _counts(review: Review) -> tuple[int, int]:
    with review.session() as s:
        return (
            int(s.scalar(sa.select(sa.func.count()).select_from(Search)) or 0),
            int(s.scalar(sa.select(sa.func.count()).select_from(StoredRecord)) or 0),
        )


def test_search_is_recorded(tmp_path: Path, store_url: str) -> None:
    review = Review.init(tmp_path / "rev", store_url)
    path = tmp_path / "pubmed.nbib"
    path.write_text(MEDLINE, encoding="utf-8")
    result = import_file(review, path, "PubMed", searched="2024-03-01", query="guided AND internet")
    assert (result.records_in_file, result.added, result.file_format) == (2, 2, "medline")
    with review.session() as s:
        search = s.scalars(sa.select(Search)).one()
        assert (search.database, search.searched_on, search.query, search.file_name, search.record_count) == (
            "PubMed",
            date(2024, 3, 1),
            "guided AND internet",
            "pubmed.nbib",
            2,
        )
        assert len(search.file_hash) == 64
        positions = sorted(s.scalars(sa.select(StoredRecord.position)))
    assert positions == [0, 1]
    review.close()


def test_reimport_same_file_adds_nothing(tmp_path: Path, store_url: str) -> None:
    review = Review.init(tmp_path / "rev", store_url)
    path = tmp_path / "a.xml"
    path.write_text(PUBMED_XML, encoding="utf-8")
    first = import_file(review, path, "PubMed")
    copy = tmp_path / "renamed.xml"
    copy.write_bytes(path.read_bytes())
    again = import_file(review, copy, "MEDLINE")
    assert again.already_imported and again.added == 0 and again.search_id == first.search_id
    assert "already imported" in str(again)
    assert _counts(review) == (1, 2)
    review.close()


def test_updated_search_adds_only_new_records_and_dedups(tmp_path: Path, store_url: str) -> None:
    review = Review.init(tmp_path / "rev", store_url)
    v1, v2, other = tmp_path / "v1.ris", tmp_path / "v2.ris", tmp_path / "medline.nbib"
    v1.write_text(RIS, encoding="utf-8")
    v2.write_text(RIS + "\n" + NEW_RECORD + "\n" + VARIANT, encoding="utf-8")
    other.write_text(MEDLINE, encoding="utf-8")
    import_file(review, v1, "PsycINFO")
    import_file(review, other, "MEDLINE")
    first = deduplicate(review)
    assert (first.clusters, first.duplicates) == (2, 2)  # both MEDLINE records are in the RIS file too
    before = records_frame(review)
    update = import_file(review, v2, "PsycINFO", searched="2024-06-01")
    assert (update.records_in_file, update.added, update.already_present) == (4, 2, 2)
    second = deduplicate(review)
    after = records_frame(review).set_index("id")
    variant = after[after.title.str.startswith("GUIDED INTERNET")]
    assert variant.status.tolist() == ["duplicate"]
    kept = int(variant.kept_record_id.iloc[0])
    assert (
        after.loc[kept, "title"] == "Guided internet-delivered cognitive behavioural therapy for depression"
    )
    assert second.duplicates == 3 and second.clusters == 2
    # what was kept before the update is still kept
    assert set(before[before.status == "kept"].id) <= set(after[after.status == "kept"].index)
    status = records_status(review)
    assert [(d.database, d.searches, d.records_in_files, d.records) for d in status.databases] == [
        ("MEDLINE", 1, 2, 2),
        ("PsycINFO", 2, 6, 4),
    ]
    assert (status.records, status.duplicates, status.unique) == (6, 3, 3)
    review.close()


CHILD = textwrap.dedent(
    """
    import sys, time
    from metareview.records import importer
    from metareview.review import Review
    from metareview.store import records_repo

    importer.BATCH_SIZE = 1
    real_insert = records_repo.insert_records
    calls = 0

    def slow_insert(*args, **kwargs):
        global calls
        real_insert(*args, **kwargs)
        calls += 1
        print("batch", calls, flush=True)
        if calls >= 3:
            time.sleep(600)

    records_repo.insert_records = slow_insert
    review = Review.open(sys.argv[1], sys.argv[2])
    importer.import_file(review, sys.argv[3], "Scopus")
    """
)


def test_killed_import_leaves_store_unchanged(tmp_path: Path, store_url: str) -> None:
    review = Review.init(tmp_path / "rev", store_url)
    first = tmp_path / "first.ris"
    first.write_text(RIS, encoding="utf-8")
    import_file(review, first, "PsycINFO")
    big = tmp_path / "big.ris"
    big.write_text("\n".join(NEW_RECORD.replace("2022", str(1900 + i)) for i in range(50)), encoding="utf-8")
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "rev"), store_url, str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    lines = [child.stdout.readline() for _ in range(3)]
    assert lines[-1].startswith("batch 3"), (lines, child.stderr.read() if child.poll() is not None else "")
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    review.close()
    reopened = Review.open(tmp_path / "rev", store_url)
    assert _counts(reopened) == (1, 2)
    result = import_file(reopened, big, "Scopus")  # the same file imports cleanly afterwards
    assert result.added == 50 and _counts(reopened) == (2, 52)
    reopened.close()
