"""Screening test fixtures: a review (SQLite and PostgreSQL) holding a few records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from screenfixtures import make_review
from storefixtures import store_url  # noqa: F401

from metareview.review import Review


@pytest.fixture
def review(tmp_path: Path, store_url: str) -> Iterator[Review]:  # noqa: F811
    """A blind, dual-review review with six records (ids 1..6)."""
    rv = make_review(tmp_path / "rv", store_url)
    yield rv
    rv.close()
