"""Several app processes against one database: sessions, rate limits and votes live in the database,
so a cookie from one app works on another, and an idempotency key stops a retried vote from counting
twice. Run on SQLite and on PostgreSQL (a fresh database per test; one schema per hosted review)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from metareview.records.importer import import_file
from metareview.screening import decisions as sd
from metareview.store import screening_repo
from metareview.team import accounts, members
from metareview.team.server import REVIEWER, Server
from metareview.web.app import create_app
from tests.web.conftest import PASSWORD, TITLES, ris_text


@pytest.fixture(params=["sqlite", "postgresql"])
def server_url(request, tmp_path) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    base = request.getfixturevalue("postgres_url")
    name = "mr_web_" + uuid.uuid4().hex[:10]
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as con:
        con.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as con:
        con.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_two_app_processes_share_sessions_and_votes(server_url, tmp_path):
    data = tmp_path / "server"
    first = Server.open(data, server_url)
    olga = accounts.create_user(first, "olga", PASSWORD, admin=True)
    ana = accounts.create_user(first, "ana", PASSWORD)
    hosted = first.create_review("Shared review", olga.id)
    members.accept(first, members.invite(first, hosted.slug, olga, REVIEWER), ana)
    ris = tmp_path / "s.ris"
    ris.write_text(ris_text(TITLES), encoding="utf-8")
    import_file(first.review(hosted.slug), ris, "MEDLINE")
    second = Server.open(data, server_url)  # another process: nothing shared but the database and folder

    a1 = TestClient(create_app(first), follow_redirects=False)
    a2 = TestClient(create_app(second), follow_redirects=False)
    assert a1.post("/signin", data={"name": "ana", "password": PASSWORD}).status_code == 303
    a2.cookies.update(a1.cookies)
    csrf = a2.get("/api/me").status_code == 200 and _csrf(a2)
    nxt = a2.get(f"/api/reviews/{hosted.slug}/next").json()
    rid = nxt["record"]["id"]
    body = {"record_id": rid, "decision": "include"}
    headers = {"X-CSRF-Token": csrf, "Idempotency-Key": "vote-1"}
    r1 = a1.post(f"/api/reviews/{hosted.slug}/decisions?then_next=true", json=body, headers=headers)
    r2 = a2.post(f"/api/reviews/{hosted.slug}/decisions?then_next=true", json=body, headers=headers)
    assert r1.status_code == r2.status_code == 200, (r1.text, r2.text)
    assert r1.json()["repeated"] is False and r2.json()["repeated"] is True
    assert r1.json()["next"]["record"]["id"] != rid
    review = second.review(hosted.slug)
    with review.session() as s:
        events = screening_repo.events(s, record_id=rid)
    assert [(e.reviewer, e.decision) for e in events] == [("ana", "include")]
    assert sd.progress(review).pending == len(TITLES)  # one vote of the two required
    if server_url is not None:
        with second.engine.connect() as con:
            query = sa.text("select schema_name from information_schema.schemata")
            schemas = set(con.execute(query).scalars())
        assert "review_shared_review" in schemas
    # signing out on one app ends the session on the other
    a1.post("/signout", data={"csrf": csrf})
    assert a2.get("/api/me").status_code == 401
    first.close()
    second.close()


def _csrf(client: TestClient) -> str:
    import re

    m = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert m
    return m.group(1)
