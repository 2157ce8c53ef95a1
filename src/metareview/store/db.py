"""Engines and schema upgrades.

``make_engine(url)`` creates an engine (SQLite gets foreign keys ON and WAL journaling);
``upgrade(engine)`` runs the Alembic migrations shipped in ``store/migrations`` up to head, without an
``alembic.ini``. Opening a store that is already at head costs one query: the revision stored in
``alembic_version`` is compared with the head read from the migration files' ``revision`` /
``down_revision`` lines (:func:`shipped_head`), and Alembic is imported and run (under the first-open
locks) only when they differ. Example::

    from metareview.store.db import make_engine, upgrade
    engine = make_engine("sqlite:///review.sqlite")
    upgrade(engine)
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import SQLAlchemyError

from metareview.errors import StoreError
from metareview.filemodes import create_private

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


_PASSWORD = re.compile(r"(://[^:/@\s'\"]*:)[^\s'\"]*@")  # greedy: up to the last @ of the URL
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&\s'\"]*", re.IGNORECASE)
_MIGRATION_LOCK = 0x6D72_0001  # PostgreSQL advisory lock key serialising first-open migrations


def mask_url(url: object, *, hide: Iterable[str | None] = ()) -> str:
    """``url`` as text with any password replaced by ``***`` (for every error and log message): the
    password of ``user:password@host`` and a ``password=`` query parameter, and each text in ``hide``
    (the passwords of the URL an error message is about, which a driver may quote on its own)."""
    out = _QUERY_PASSWORD.sub(r"\1***", _PASSWORD.sub(r"\1***@", str(url)))
    for secret in hide:
        if secret:
            out = out.replace(secret, "***")
    return out


def _passwords(url: Any) -> list[str]:
    """The passwords in a database URL (user info and ``password=`` query values), for :func:`mask_url`."""
    try:
        parsed = make_url(url)
    except (SQLAlchemyError, ValueError, TypeError):
        return []
    found = [parsed.password] if isinstance(parsed.password, str) else []
    query = parsed.query.get("password")
    found += [query] if isinstance(query, str) else list(query or ())
    return [p for p in found if p]


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
    netloc = url.partition("://")[2].split("/", 1)[0]
    if netloc.count("@") > 1:
        raise StoreError(
            f"cannot use database URL {mask_url(url)!r}: more than one '@' before the host; write an '@' "
            "in the user name or password as %40"
        )
    try:
        engine = create_engine(url)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(
            f"cannot use database URL {mask_url(url)!r}: {mask_url(exc, hide=_passwords(url))}"
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        database = engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                create_private(database)  # owner-only store (METAREVIEW_SHARED_FILES=1: the umask)
            except OSError:
                pass  # a folder that does not exist yet: SQLite reports it on connect
    return engine


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migrations (no ini file needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    """The newest migration revision shipped with this version of metareview."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


_REVISION_LINE = re.compile(
    r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:["']([^"']+)["']|None)\s*$""", re.MULTILINE
)


def shipped_head() -> str | None:
    """The head revision of the shipped migrations, read from the ``revision = "…"`` and
    ``down_revision = "…"`` lines of ``migrations/versions/*.py`` without importing Alembic; None
    when the files do not give exactly one head (then :func:`upgrade` asks Alembic)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(
            (name, value) for name, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8"))
        )
        if "revision" not in found:
            continue
        if not found["revision"] or "down_revision" not in found:
            return None
        revisions.add(found["revision"])
        if found["down_revision"]:
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def stored_revision(engine: Engine) -> str | None:
    """The revision in the store's ``alembic_version`` table (one query; None when it has none)."""
    try:
        with engine.connect() as con:
            rows = con.execute(text("SELECT version_num FROM alembic_version")).fetchall()
    except SQLAlchemyError:
        return None  # no table yet (an empty store), or the store cannot be read: Alembic will say
    return str(rows[0][0]) if len(rows) == 1 else None


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as con:
        return MigrationContext.configure(con).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` to ``revision`` (default: head) in one transaction.

    A store already at the shipped head is left alone after one query (no Alembic import); any
    other store is migrated under the first-open locks (a file lock on SQLite, an advisory lock on
    PostgreSQL), where Alembic checks the revision again, so concurrent first opens stay serialised.
    """
    if revision == "head":
        head = shipped_head()
        if head is not None and stored_revision(engine) == head:
            return
    cfg = alembic_config()
    with _sqlite_file_lock(engine):
        _upgrade(engine, cfg, revision)


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """On a SQLite file, hold an exclusive lock on ``<file>.lock`` (several first opens at once)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    import fcntl

    with open(f"{database}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _upgrade(engine: Engine, cfg: Config, revision: str) -> None:
    try:
        with engine.begin() as con:
            if con.dialect.name == "postgresql":  # several first opens at once: one migrates, the rest wait
                con.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            cfg.attributes["connection"] = con
            from alembic import command

            command.upgrade(cfg, revision)
    except SQLAlchemyError as exc:
        hidden = _passwords(engine.url)
        raise StoreError(
            f"cannot migrate the store at {mask_url(engine.url, hide=hidden)!r}: {mask_url(exc, hide=hidden)}"
        ) from None
