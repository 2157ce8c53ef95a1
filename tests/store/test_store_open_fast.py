"""Opening a store that is already at head costs one query and no Alembic import (issue 11, a CLI that
answers at once); any other store is still migrated under the first-open locks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from metareview.review import Review
from metareview.store.db import (
    MIGRATIONS,
    alembic_config,
    head_revision,
    make_engine,
    shipped_head,
    stored_revision,
    upgrade,
)

SRC = Path(__file__).resolve().parents[2] / "src"


def test_shipped_head_is_alembics_head() -> None:
    assert shipped_head() == head_revision()


def test_shipped_head_gives_up_on_files_it_cannot_read(tmp_path: Path, monkeypatch: object) -> None:
    import metareview.store.db as db

    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (versions / "b.py").write_text('revision = "b"\ndown_revision = ("a", "c")\n')  # a merge: not parsed
    monkeypatch.setattr(db, "MIGRATIONS", tmp_path)  # type: ignore[attr-defined]
    assert db.shipped_head() is None
    (versions / "b.py").write_text('revision = "b"\ndown_revision = "a"\n')
    (versions / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')  # two heads
    assert db.shipped_head() is None
    (versions / "c.py").write_text('revision: str = "c"\ndown_revision: str | None = "b"\n')
    assert db.shipped_head() == "c"
    assert MIGRATIONS.is_dir()


def test_open_at_head_imports_no_alembic(tmp_path: Path) -> None:
    Review.init(tmp_path / "rv").close()
    code = (
        "import sys\n"
        "from metareview.review import Review\n"
        f"Review.open({str(tmp_path / 'rv')!r}).close()\n"
        "print('alembic' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("METAREVIEW_DB", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_older_store_is_still_migrated_on_open(tmp_path: Path, store_url: str) -> None:
    from alembic import command

    review = Review.init(tmp_path / "rv", store_url)
    engine = review.engine
    cfg = alembic_config()
    with engine.begin() as con:
        cfg.attributes["connection"] = con
        command.downgrade(cfg, "0009_appraisal")
    assert stored_revision(engine) == "0009_appraisal"
    review.close()
    review = Review.open(tmp_path / "rv", store_url)
    assert stored_revision(review.engine) == head_revision()
    review.close()


def test_empty_store_has_no_stored_revision(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert stored_revision(engine) is None
    upgrade(engine)
    assert stored_revision(engine) == head_revision()
    engine.dispose()
