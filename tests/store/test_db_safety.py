"""store.db under hostile use (issue 8): a malformed URL never shows its password, and several
processes opening an empty store at the same moment all succeed (the migration is serialised)."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from metareview.errors import StoreError
from metareview.store.db import current_revision, head_revision, make_engine, mask_url, upgrade


def test_malformed_url_error_hides_the_password() -> None:
    with pytest.raises(StoreError) as info:
        make_engine("postgresql://bob:s3cret-pw@db.example:notaport/review")
    assert "s3cret-pw" not in str(info.value)
    assert "bob:***@" in str(info.value)


def test_mask_url() -> None:
    assert mask_url("postgresql+psycopg://u:p%40ss@h/d") == "postgresql+psycopg://u:***@h/d"
    assert mask_url("sqlite:///x.sqlite") == "sqlite:///x.sqlite"


def _open(url: str, barrier: object, results: object) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        results.put("ok")  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - the test reports whatever went wrong
        results.put(f"{type(exc).__name__}: {exc}"[:300])  # type: ignore[attr-defined]


def test_concurrent_first_open_of_an_empty_store(store_url: str, tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    n = 4
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_open, args=(store_url, barrier, results)) for _ in range(n)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    assert outcomes == ["ok"] * n
    assert current_revision(make_engine(store_url)) == head_revision()
