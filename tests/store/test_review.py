"""The review workspace and store core on SQLite and PostgreSQL: init, open, migrations, transactions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from metareview.errors import InputError, StoreError
from metareview.protocol import PROTOCOL_FILE, Protocol
from metareview.review import Review
from metareview.store.db import current_revision, head_revision
from metareview.store.models import Base
from metareview.store.records_models import Search


def _search(name: str = "PubMed", digest: str = "a" * 64) -> Search:
    return Search(
        database=name,
        file_name="x.ris",
        file_hash=digest,
        file_format="ris",
        record_count=0,
        imported_at=datetime.now(UTC),
    )


def test_init_writes_template_and_migrates(tmp_path: Path, store_url: str) -> None:
    review = Review.init(tmp_path / "rev", store_url)
    try:
        assert (tmp_path / "rev" / PROTOCOL_FILE).is_file()
        assert [c.id for c in review.protocol.eligibility_criteria] == ["E1", "E2", "E3", "E4"]
        assert review.protocol.databases == ["MEDLINE", "PubMed", "PsycINFO"]
        assert current_revision(review.engine) == head_revision()
        tables = set(sa.inspect(review.engine).get_table_names())
        assert {"searches", "records", "duplicate_clusters", "cluster_members", "duplicate_pairs"} <= tables
    finally:
        review.close()


def test_open_sees_committed_data_and_init_refuses_existing(tmp_path: Path, store_url: str) -> None:
    Review.init(tmp_path, store_url).close()
    with pytest.raises(StoreError, match="already"):
        Review.init(tmp_path, store_url)
    review = Review.open(tmp_path, store_url)
    with review.session() as s:
        s.add(_search())
    review.close()
    again = Review.open(tmp_path, store_url)
    with again.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Search)) == 1
    again.close()


def test_session_rolls_back_on_error(tmp_path: Path, store_url: str) -> None:
    review = Review.init(tmp_path, store_url)
    with pytest.raises(RuntimeError), review.session() as s:
        s.add(_search())
        s.flush()
        raise RuntimeError("boom")
    with review.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Search)) == 0
    review.close()


def test_unique_file_hash_is_enforced(tmp_path: Path, store_url: str) -> None:
    review = Review.init(tmp_path, store_url)
    with pytest.raises(sa.exc.IntegrityError), review.session() as s:
        s.add_all([_search("A"), _search("B")])
    review.close()


def test_migrations_match_models(tmp_path: Path, store_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    review = Review.init(tmp_path, store_url)
    with review.engine.connect() as con:
        diff = compare_metadata(MigrationContext.configure(con), Base.metadata)
    review.close()
    assert diff == []


def test_open_missing_review(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="protocol.toml not found"):
        Review.open(tmp_path)


def test_default_store_is_sqlite_in_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("METAREVIEW_DB", raising=False)
    review = Review.init(tmp_path)
    review.close()
    assert (tmp_path / "review.sqlite").is_file()
    assert review.engine.dialect.name == "sqlite"


def test_protocol_errors_name_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / PROTOCOL_FILE
    path.write_text('title = "T"\n\n[screening]\nreviewers_per_record = 3\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        Protocol.load(path)
    assert info.value.line == 4
    assert info.value.field == "screening.reviewers_per_record"
    path.write_text('title = "T"\ndatabases = [\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        Protocol.load(path)
    assert "invalid TOML" in str(info.value) and info.value.file == str(path)


def test_protocol_rejects_repeated_criterion_ids() -> None:
    crit = '[[eligibility_criteria]]\nid = "E1"\ntext = "{}"\n'
    text = 'title = "T"\n' + crit.format("a") + crit.format("b")
    with pytest.raises(InputError, match="repeated: E1"):
        Protocol.from_toml(text)
