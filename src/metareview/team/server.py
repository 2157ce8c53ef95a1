"""How one server hosts several reviews.

A server has a *data folder* (``--data``, default ``./metareview-server``) and a *server database*
(``--db`` / ``METAREVIEW_DB``; default ``<data>/server.sqlite``). The server database holds the accounts,
hosted reviews, memberships, invitations, sessions, API tokens and sign-in attempts. Each hosted review
is an ordinary review workspace in ``<data>/reviews/<slug>/`` (its ``protocol.toml``, uploaded full
texts, built reports), so the CLI can open it too. Its store is

* with SQLite: ``<data>/reviews/<slug>/review.sqlite``;
* with PostgreSQL: the server database, in the schema ``review_<slug>`` (one schema per review, created
  on first use), so a team needs a single PostgreSQL database.

Everything a request needs is in the database or the data folder, so several app processes
(``--workers N``) can serve one server.

Example::

    server = Server.open("server-data")
    hosted = server.create_review("Human support meta-review", owner_id=1)
    review = server.review(hosted.slug)            # a metareview.review.Review
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from metareview.errors import InputError
from metareview.protocol import PROTOCOL_FILE, TEMPLATE
from metareview.review import DB_ENV, Review
from metareview.store import team_repo as repo
from metareview.store.db import make_engine, normalise_url, upgrade
from metareview.store.team_models import HostedReview

SERVER_DB = "server.sqlite"
OWNER, REVIEWER, VIEWER = "owner", "reviewer", "viewer"
ROLES = (OWNER, REVIEWER, VIEWER)


def slugify(title: str) -> str:
    """A folder-safe, schema-safe name from a title: lower-case ascii letters, digits and '-'."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].strip("-")
    return slug or "review"


class Server:
    """The data folder and the server database of one team server."""

    def __init__(self, data_dir: Path, engine: Engine, db_url: str | None) -> None:
        self.data_dir = data_dir
        self.engine = engine
        self.db_url = db_url
        self._sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self._reviews: dict[str, Review] = {}
        self._lock = threading.Lock()

    @classmethod
    def open(cls, data_dir: str | Path = "metareview-server", db_url: str | None = None) -> Server:
        """Open (creating when needed) the server in ``data_dir``; migrates the server database."""
        data = Path(data_dir).resolve()
        (data / "reviews").mkdir(parents=True, exist_ok=True)
        url = db_url or os.environ.get(DB_ENV)
        engine = make_engine(url or f"sqlite:///{data / SERVER_DB}")
        upgrade(engine)
        return cls(data, engine, normalise_url(url) if url else None)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction on the server database."""
        with self._sessions() as s, s.begin():
            yield s

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """Reads that need no common snapshot (each statement on its own: no BEGIN/COMMIT round trips)."""
        from metareview.store.screening_repo import reading

        with reading(self.engine) as s:
            yield s

    # --- reviews ------------------------------------------------------------------------------------

    def workspace(self, slug: str) -> Path:
        """The folder of a hosted review (the slug is checked, never a user's file name)."""
        if not re.fullmatch(r"[a-z0-9-]{1,40}", slug):
            raise InputError(f"not a review name: {slug!r}", field="review")
        return self.data_dir / "reviews" / slug

    def _review_url(self, slug: str) -> str | None:
        if self.db_url is None or self.db_url.startswith("sqlite"):
            return None
        schema = "review_" + slug.replace("-", "_")
        with self.engine.begin() as con:
            con.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        url = make_url(self.db_url).update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def create_review(self, title: str, owner_id: int, protocol_text: str | None = None) -> HostedReview:
        """Host a new review titled ``title`` with ``owner_id`` as its owner; writes its workspace."""
        title = title.strip()
        if not title:
            raise InputError("a review needs a title", field="title")
        base = slugify(title)
        with self.session() as s:
            hosted = None
            for n in range(1, 1000):
                slug = base if n == 1 else f"{base[:36]}-{n}"
                if not self.workspace(slug).exists():
                    hosted = repo.add_review(s, slug, title)
                    if hosted is not None:
                        break
            if hosted is None:
                raise InputError(f"cannot find a free name for {title!r}", field="title")
            repo.set_member(s, hosted.id, owner_id, OWNER)
            folder = self.workspace(hosted.slug)
            folder.mkdir(parents=True)
            text_ = protocol_text if protocol_text is not None else _titled_template(title)
            (folder / PROTOCOL_FILE).write_text(text_, encoding="utf-8")
            Review.open(folder, self._review_url(hosted.slug)).close()
        return hosted

    def review(self, slug: str) -> Review:
        """The open :class:`Review` of a hosted review (cached per process)."""
        with self._lock:
            rv = self._reviews.get(slug)
            if rv is None:
                rv = Review.open(self.workspace(slug), self._review_url(slug))
                self._reviews[slug] = rv
            return rv

    def close(self) -> None:
        for rv in self._reviews.values():
            rv.close()
        self._reviews.clear()
        self.engine.dispose()


def _titled_template(title: str) -> str:
    escaped = title.replace("\\", "\\\\").replace('"', '\\"')
    out, n = re.subn(r'^title = ".*"$', f'title = "{escaped}"', TEMPLATE, count=1, flags=re.M)
    assert n == 1
    return out
