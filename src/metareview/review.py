"""The review workspace: a folder with ``protocol.toml`` and a store (SQLite file ``review.sqlite`` in
the folder by default; a PostgreSQL URL for team work, from ``db_url`` or the ``METAREVIEW_DB``
environment variable).

Example::

    from metareview.review import Review
    review = Review.init("my-review")              # writes the protocol template and the store
    review = Review.open("my-review")              # later: re-reads the protocol, upgrades the store
    with review.session() as session:              # one transaction: commit on success, rollback on error
        ...
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from metareview.errors import StoreError
from metareview.filemodes import make_dir, restrict
from metareview.protocol import PROTOCOL_FILE, TEMPLATE, Protocol
from metareview.store.db import make_engine, mask_url, upgrade

DB_ENV = "METAREVIEW_DB"
SQLITE_FILE = "review.sqlite"


def resolve_db_url(directory: Path, db_url: str | None = None) -> str:
    """``db_url`` if given, else ``$METAREVIEW_DB``, else the SQLite file in the review folder."""
    url = db_url or os.environ.get(DB_ENV)
    if url:
        return url
    return f"sqlite:///{(directory / SQLITE_FILE).resolve()}"


class Review:
    """An open review: its folder, protocol, and store engine."""

    def __init__(self, directory: Path, protocol: Protocol, engine: Engine) -> None:
        self.directory = directory
        self.protocol = protocol
        self.engine = engine
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)

    @classmethod
    def init(cls, directory: str | Path, db_url: str | None = None) -> Review:
        """Create a review folder with a commented protocol template and an up-to-date store.

        Refuses a folder that already holds a protocol (use :meth:`open`).
        """
        directory = Path(directory)
        proto_path = directory / PROTOCOL_FILE
        if proto_path.exists():
            raise StoreError(f"{proto_path} already exists: this folder is a review already")
        make_dir(directory)
        proto_path.write_text(TEMPLATE, encoding="utf-8")
        restrict(proto_path)
        return cls.open(directory, db_url)

    @classmethod
    def open(cls, directory: str | Path, db_url: str | None = None) -> Review:
        """Open an existing review: load its protocol and migrate its store to the current schema."""
        directory = Path(directory)
        proto_path = directory / PROTOCOL_FILE
        if not proto_path.is_file():
            raise StoreError(f"no review at {directory}: {PROTOCOL_FILE} not found (run `metareview init`)")
        protocol = Protocol.load(proto_path)
        engine = make_engine(resolve_db_url(directory, db_url))
        upgrade(engine)
        return cls(directory, protocol, engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends normally, rolled back on any exception."""
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        """Release the store's connections."""
        self.engine.dispose()

    def __str__(self) -> str:
        return f"Review {self.protocol.title!r} at {self.directory} (store: {mask_url(self.engine.url)!r})"

    def __repr__(self) -> str:
        return f"Review(directory={str(self.directory)!r}, url={mask_url(self.engine.url)!r})"


def open_review(directory: str | Path = ".", db_url: str | None = None) -> Review:
    """Open the review in ``directory`` (shorthand for :meth:`Review.open`)."""
    return Review.open(directory, db_url)
