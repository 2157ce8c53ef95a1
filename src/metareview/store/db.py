"""Engines and schema upgrades.

``make_engine(url)`` creates an engine (SQLite gets foreign keys ON and WAL journaling);
``upgrade(engine)`` runs the Alembic migrations shipped in ``store/migrations`` up to head, without an
``alembic.ini``. Example::

    from metareview.store.db import make_engine, upgrade
    engine = make_engine("sqlite:///review.sqlite")
    upgrade(engine)
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from metareview.errors import StoreError

MIGRATIONS = Path(__file__).with_name("migrations")


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` as shorthands for the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite connections get ``foreign_keys=ON`` and WAL journaling."""
    url = normalise_url(url)
    try:
        engine = create_engine(url)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot use database URL {url!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migrations (no ini file needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    """The newest migration revision shipped with this version of metareview."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as con:
        return MigrationContext.configure(con).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` to ``revision`` (default: head) in one transaction."""
    cfg = alembic_config()
    try:
        with engine.begin() as con:
            cfg.attributes["connection"] = con
            command.upgrade(cfg, revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the store at {engine.url!r}: {exc}") from exc
