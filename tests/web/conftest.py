"""Fixtures of the team-server tests: a server in a temporary folder with an owner, two reviewers,
a review holding a small RIS import, and signed-in TestClients."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from metareview.records.importer import import_file
from metareview.team import accounts, members
from metareview.team.server import REVIEWER, Server
from metareview.web.app import create_app

PASSWORD = "a long passphrase"
TITLES = [
    "Guided internet-based CBT for depression: a meta-analysis",
    "Telephone coaching for anxiety: study protocol",
    "Digital interventions with human support for stress: systematic review and meta-analysis",
    "Smartphone apps for PTSD symptoms: a meta-analysis of randomised trials",
    "Text message reminders in primary care",
    "<script>alert(1)</script> unguided self-help online",
]


def ris_text(titles: list[str]) -> str:
    out = []
    for i, t in enumerate(titles, 1):
        out.append(
            f"TY  - JOUR\nTI  - {t}\nAU  - Author{i}, A.\nAU  - Second, B.\nPY  - {2010 + i}\n"
            f"JO  - Journal of Tests {i}\nAB  - Abstract {i}: internet support and a protocol for adults.\n"
            f"KW  - digital\nDO  - 10.1000/test.{i}\nER  - \n"
        )
    return "\n".join(out)


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server.open(tmp_path / "server")
    yield srv
    srv.close()


@pytest.fixture()
def team(server: Server, tmp_path: Path) -> dict[str, object]:
    """owner 'olga' of review 'r1' (6 records), reviewers 'ana' and 'ben'; 'eve' owns another review."""
    olga = accounts.create_user(server, "olga", PASSWORD, admin=True)
    ana = accounts.create_user(server, "ana", PASSWORD)
    ben = accounts.create_user(server, "ben", PASSWORD)
    eve = accounts.create_user(server, "eve", PASSWORD)
    hosted = server.create_review("R1", olga.id)
    other = server.create_review("Other review", eve.id)
    for who in (ana, ben):
        secret = members.invite(server, hosted.slug, olga, REVIEWER)
        members.accept(server, secret, who)
    ris = tmp_path / "search.ris"
    ris.write_text(ris_text(TITLES), encoding="utf-8")
    import_file(server.review(hosted.slug), ris, "MEDLINE")
    other_ris = tmp_path / "other.ris"
    other_ris.write_text(ris_text(["Secret other review record"]), encoding="utf-8")
    import_file(server.review(other.slug), other_ris, "PubMed")
    return {"slug": hosted.slug, "other": other.slug}


def client_for(server: Server, name: str | None) -> TestClient:
    client = TestClient(create_app(server), follow_redirects=False)
    if name is not None:
        r = client.post("/signin", data={"name": name, "password": PASSWORD})
        assert r.status_code == 303, r.text
    return client


def csrf_of(client: TestClient, path: str = "/") -> str:
    html = client.get(path).text
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html[:500]
    return m.group(1)


@pytest.fixture()
def clients(server: Server, team: dict[str, object]) -> dict[str, TestClient]:
    return {n: client_for(server, n) for n in ("olga", "ana", "ben", "eve")}
