"""Helpers of the living-review tests: distinct titles and RIS files written on the fly."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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
