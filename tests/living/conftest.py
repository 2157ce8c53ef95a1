"""Living-review fixtures: a review with one reviewer per record and RIS files written on the fly."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from storefixtures import store_url  # noqa: F401

from metareview.review import Review

_WORDS = (
    "anxiety depression stress trauma sleep insomnia panic phobia worry mood grief anger burnout "
    "internet smartphone app online web computer chatbot digital virtual email video game wearable "
    "guided coached supported selfhelp blended therapist peer nurse clinician automated human "
    "trial cohort review randomised pilot feasibility outcome adherence engagement dropout cost "
    "adolescents students veterans mothers elderly workers patients refugees nurses athletes "
    "cancer diabetes pain heart stroke asthma obesity tinnitus epilepsy arthritis"
).split()


def titles(n: int, seed: int) -> list[str]:
    """``n`` titles of seven words drawn without replacement from a vocabulary of 60 words: distinct
    papers (fuzzy deduplication sees no near-duplicates among them)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(_WORDS, 7, replace=False)).capitalize() for _ in range(n)]


def write_ris(path: Path, titles: Sequence[str], year: int = 2020) -> Path:
    """A RIS file with one journal article per title (distinct titles are distinct papers)."""
    lines = []
    for i, t in enumerate(titles):
        lines += [
            "TY  - JOUR",
            f"TI  - {t}",
            f"AU  - Author{i}, A.",
            f"PY  - {year}",
            f"AB  - {t.lower()} abstract",
            "ER  - ",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


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
