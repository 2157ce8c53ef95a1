"""Living reviews in the browser: the owner uploads an update's search exports (the same
``screening.batches.update_review`` that ``metareview update`` calls), and the dashboard shows each
batch with its own stopping rules and, once the update is screened, the PRISMA diagram for updated
reviews."""

from __future__ import annotations

import re

from metareview.screening import decisions as sd
from metareview.screening.batches import batch_records
from metareview.store import living_repo
from tests.web.conftest import TITLES, csrf_of, ris_text

NEW_TITLES = [
    "Peer support in app-based therapy for depression: a meta-analysis",
    "Coach-guided online programmes for stress: updated meta-analysis",
]


def _files(tmp_path):
    """Two exports of the update: PubMed with two new records, PsycINFO repeating an old record."""
    pubmed = tmp_path / "pubmed-2025.ris"
    # DOIs 10.1000/test.7 and .8: new records (ris_text numbers its records from 1)
    pubmed.write_text(ris_text(TITLES + NEW_TITLES).split("\n\n", len(TITLES))[-1], encoding="utf-8")
    psycinfo = tmp_path / "psycinfo-2025.ris"
    psycinfo.write_text(ris_text(TITLES[:1]), encoding="utf-8")  # the first record again: a duplicate
    return pubmed, psycinfo


def _upload(client, slug, rows, note="yearly update", csrf_path=None):
    data = {"csrf": csrf_of(client, csrf_path or f"/r/{slug}/import"), "note": note}
    files = {}
    for i, (path, database, searched) in enumerate(rows, 1):
        files[f"file{i}"] = (path.name, path.read_bytes(), "application/x-research-info-systems")
        data[f"database{i}"] = database
        data[f"searched{i}"] = searched
    return client.post(f"/r/{slug}/update", data=data, files=files)


def test_owner_imports_an_update_and_the_dashboard_shows_its_batch(clients, team, server, tmp_path):
    slug = team["slug"]
    owner = clients["olga"]
    review = server.review(slug)
    # one batch only: the dashboard has no batch table, the import page offers the update form
    assert 'id="batches"' not in owner.get(f"/r/{slug}/").text
    assert f'action="/r/{slug}/update"' in owner.get(f"/r/{slug}/import").text
    pubmed, psycinfo = _files(tmp_path)
    r = _upload(owner, slug, [(pubmed, "PubMed", "2025-03-01"), (psycinfo, "PsycINFO", "2025-03-02")])
    assert r.status_code == 303, r.text
    assert "batch%202" in r.headers["location"]
    msg = owner.get(r.headers["location"]).text
    assert "Update imported as batch 2" in msg and "2 new unique records queued" in msg
    with review.session() as s:
        runs = living_repo.batches(s)
    assert [(b.number, b.actor, b.note) for b in runs] == [(2, "olga", "yearly update")]
    new_ids = batch_records(review)[2]
    assert len(new_ids) == 2

    page = owner.get(f"/r/{slug}/").text
    assert 'id="batch-1"' in page and 'id="batch-2"' in page
    row = re.search(r'<tr id="batch-2">(.*?)</tr>', page, re.S).group(1)
    assert "by olga" in row and "yearly update" in row and "hypergeometric" in row
    assert re.search(r"<td>2</td><td>0</td>", row)  # 2 records, none screened yet
    assert "not finished" in page  # the updated-review PRISMA waits for the update's screening

    # both reviewers screen the update's records (and nothing else): the update's PRISMA is drawn
    for rid in new_ids:
        for who in ("ana", "ben"):
            sd.decide(review, rid, who, "include" if rid == new_ids[0] else "exclude")
    for rid in new_ids[:1]:
        for who in ("ana", "ben"):
            sd.decide(review, rid, who, "exclude", stage="full_text", reason="full text not available")
    page = owner.get(f"/r/{slug}/").text
    assert 'id="prisma-update-counts"' in page
    assert re.search(r'id="prisma-update-total">0<', page)
    svg = owner.get(f"/r/{slug}/prisma-update.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg")
    assert b"Previous studies" in svg.content or b"Previous" in svg.content


def test_update_form_errors_name_the_field_and_change_nothing(clients, team, server, tmp_path):
    slug = team["slug"]
    owner = clients["olga"]
    pubmed, _ = _files(tmp_path)
    r = _upload(owner, slug, [(pubmed, "PubMed", "")])  # no new search date
    assert r.status_code == 400 and "search date" in r.text
    r = _upload(owner, slug, [(pubmed, "", "2025-03-01")])  # no database
    assert r.status_code == 400 and "database" in r.text
    bad = tmp_path / "broken.ris"
    bad.write_text("TY  - JOUR\nTI  - cut short\n", encoding="utf-8")  # no ER: a damaged export
    r = _upload(owner, slug, [(pubmed, "PubMed", "2025-03-01"), (bad, "PsycINFO", "2025-03-01")])
    assert r.status_code == 400 and "broken" in r.text
    with server.review(slug).session() as s:
        assert living_repo.batches(s) == []  # nothing half-written
    r = owner.post(f"/r/{slug}/update", data={"csrf": csrf_of(owner, f"/r/{slug}/import")})
    assert r.status_code == 400 and "at least one search export" in r.text


def test_only_the_owner_imports_an_update(clients, team, tmp_path):
    slug = team["slug"]
    pubmed, _ = _files(tmp_path)
    for who in ("ana", "eve"):  # a reviewer of this review; the owner of another review
        r = _upload(clients[who], slug, [(pubmed, "PubMed", "2025-03-01")], csrf_path="/")
        assert r.status_code == 404, who
    assert f'action="/r/{slug}/update"' not in clients["ana"].get(f"/r/{slug}/import").text
    assert clients["eve"].get(f"/r/{slug}/prisma-update.svg").status_code == 404
