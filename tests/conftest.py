"""Shared test fixtures.

Tests that need something outside the repository (R's metafor, ../shared/data, PostgreSQL) use the
fixtures below. On a user's machine a missing dependency skips the test with a clear reason; with
``CI=true`` it is a failure, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from needs import IN_CI, skip_or_fail

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("METAREVIEW_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ../shared/data (real public data; never copied into the repository)."""
    if not SHARED_DATA.is_dir():
        skip_or_fail(f"shared data folder not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def rscript() -> str:
    """Path to Rscript with metafor and metadat installed."""
    exe = shutil.which("Rscript")
    if exe is None:
        skip_or_fail("Rscript not found (apt-get install r-cran-metafor r-cran-metadat)")
    import subprocess

    ok = subprocess.run(
        [exe, "-e", "suppressMessages({library(metafor); library(metadat); library(jsonlite)})"],
        capture_output=True,
    )
    if ok.returncode != 0:
        skip_or_fail("R packages metafor/metadat/jsonlite not installed")
    return exe


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """SQLAlchemy URL of the PostgreSQL test server (METAREVIEW_TEST_PG, default local trust auth)."""
    url = os.environ.get("METAREVIEW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        import sqlalchemy as sa

        eng = sa.create_engine(url)
        with eng.connect() as con:
            con.execute(sa.text("select 1"))
        eng.dispose()
    except Exception as exc:  # noqa: BLE001 - any connection failure means "not available"
        skip_or_fail(f"PostgreSQL not reachable at {url}: {exc}")
    return url


# Under CI=true a skipped test is a failure, whatever skipped it (the fixtures fail outright; this catches
# the rest).
_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and _skipped and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if IN_CI and _skipped:
        names = ", ".join(_skipped[:10])
        msg = f"CI=true: {len(_skipped)} skipped test(s) count as failures: {names}"
        terminalreporter.write_line(msg, red=True)
