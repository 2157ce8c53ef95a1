"""Where the records stand: per database searches, records, duplicates; totals and open pairs.

Example::

    from metareview.records.status import records_status
    print(records_status(review))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from metareview.review import Review
from metareview.store import records_repo as repo


@dataclass(frozen=True)
class DatabaseCount:
    """One database's numbers: searches imported, records in their files, records stored, duplicates."""

    database: str
    searches: int
    records_in_files: int
    records: int
    duplicates: int


@dataclass(frozen=True)
class RecordsStatus:
    """Counts per database and in total (the PRISMA identification numbers)."""

    databases: list[DatabaseCount]
    uncertain_pairs: int
    last_import: datetime | None = None
    last_dedup: datetime | None = None

    @property
    def dedup_stale(self) -> bool:
        """True when records were imported and deduplication has not run since the last import."""
        if self.last_import is None:
            return False
        return self.last_dedup is None or self.last_dedup < self.last_import

    @property
    def records(self) -> int:
        """Records stored (all databases)."""
        return sum(d.records for d in self.databases)

    @property
    def duplicates(self) -> int:
        """Records flagged as duplicates of a kept record."""
        return sum(d.duplicates for d in self.databases)

    @property
    def unique(self) -> int:
        """Records carried forward to screening."""
        return self.records - self.duplicates

    def to_dict(self) -> dict[str, Any]:
        """Plain dict: per-database rows and totals."""
        return {
            "databases": [asdict(d) for d in self.databases],
            "records": self.records,
            "duplicates": self.duplicates,
            "unique": self.unique,
            "uncertain_pairs": self.uncertain_pairs,
            "last_import": self.last_import,
            "last_dedup": self.last_dedup,
            "dedup_stale": self.dedup_stale,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per database."""
        return pd.DataFrame(
            [asdict(d) for d in self.databases],
            columns=["database", "searches", "records_in_files", "records", "duplicates"],
        )

    def __str__(self) -> str:
        lines = [f"{'database':<24}{'searches':>9}{'in files':>10}{'records':>9}{'duplicates':>11}"]
        lines += [
            f"{d.database[:23]:<24}{d.searches:>9}{d.records_in_files:>10}{d.records:>9}{d.duplicates:>11}"
            for d in self.databases
        ]
        lines.append(
            f"total: {self.records} records, {self.duplicates} duplicates, {self.unique} unique; "
            f"{self.uncertain_pairs} uncertain pairs to review"
        )
        if self.dedup_stale:
            when = "yet" if self.last_dedup is None else "since the last import"
            lines.append(f"deduplication has not run {when}: run `metareview dedup`")
        return "\n".join(lines)


def records_status(review: Review) -> RecordsStatus:
    """Count the review's records per database."""
    with review.session() as session:
        rows = [DatabaseCount(*row) for row in repo.database_counts(session)]
        return RecordsStatus(
            rows,
            len(repo.pairs(session, "uncertain")),
            last_import=repo.last_import(session),
            last_dedup=repo.last_dedup_run(session),
        )
