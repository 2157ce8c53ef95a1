"""Repository functions of appraisals (the only SQL of that area).

Example::

    with review.session() as s:
        save_appraisals(s, "rob2", [("Smith 2004", "low", None, {...})])
        load_appraisals(s, "rob2")     # [(subject, overall, weight, data), ...]
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from metareview.store.appraisal_models import StoredAppraisal

Row = tuple[str, str, float | None, dict[str, Any]]


def save_appraisals(session: Session, tool: str, rows: Iterable[Row]) -> dict[str, int]:
    """Insert or replace (same tool and subject) each appraisal; counts of ``added`` and ``replaced``."""
    q = select(StoredAppraisal).where(StoredAppraisal.tool == tool)
    existing = {a.subject: a for a in session.scalars(q)}
    added = replaced = 0
    now = datetime.now(UTC)
    for subject, overall, weight, data in rows:
        old = existing.get(subject)
        if old is None:
            session.add(StoredAppraisal(tool=tool, subject=subject, overall=overall, weight=weight, data=data,
                                        created_at=now))
            added += 1
        else:
            old.overall, old.weight, old.data, old.created_at = overall, weight, data, now
            replaced += 1
    session.flush()
    return {"added": added, "replaced": replaced}


def load_appraisals(session: Session, tool: str) -> list[Row]:
    """The stored appraisals of ``tool``, by subject."""
    q = select(StoredAppraisal).where(StoredAppraisal.tool == tool).order_by(StoredAppraisal.subject)
    return [(a.subject, a.overall, a.weight, dict(a.data)) for a in session.scalars(q)]
