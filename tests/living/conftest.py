"""Living-review fixtures: a review with one reviewer per record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from storefixtures import store_url  # noqa: F401

from metareview.review import Review


@pytest.fixture
def review(tmp_path: Path, store_url: str) -> Iterator[Review]:  # noqa: F811
    """An empty review, one reviewer per record, not blind."""
    rv = Review.init(tmp_path / "rv", db_url=store_url)
    proto = tmp_path / "rv" / "protocol.toml"
    text = proto.read_text().replace("reviewers_per_record = 2", "reviewers_per_record = 1")
    proto.write_text(text.replace("blind = true", "blind = false"))
    rv.close()
    rv = Review.open(tmp_path / "rv", db_url=store_url)
    yield rv
    rv.close()
