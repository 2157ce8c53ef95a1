from __future__ import annotations

import pytest
from storefixtures import store_url  # noqa: F401


@pytest.fixture(autouse=True)
def _no_team_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reviews made without an explicit URL use their own SQLite file, whatever $METAREVIEW_DB says."""
    monkeypatch.delenv("METAREVIEW_DB", raising=False)
