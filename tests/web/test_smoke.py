"""Every page renders for its members, and a vote made in the browser is in the engine's event log."""

from __future__ import annotations

from metareview.screening import decisions as sd
from tests.web.conftest import csrf_of


def test_pages_render(clients, team, server):
    slug = team["slug"]
    c = clients["olga"]
    for path in ("/", "/account", f"/r/{slug}/", f"/r/{slug}/import", f"/r/{slug}/screen",
                 f"/r/{slug}/screen?stage=full_text", f"/r/{slug}/mine", f"/r/{slug}/conflicts",
                 f"/r/{slug}/members", f"/r/{slug}/extraction", f"/r/{slug}/prisma.svg",
                 f"/r/{slug}/curve.svg",
                 f"/r/{slug}/export/ris", f"/r/{slug}/export/csv", f"/r/{slug}/export/xlsx"):
        r = c.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])


def test_report_builds_from_the_dashboard(clients, team):
    slug = team["slug"]
    c = clients["olga"]
    r = c.post(f"/r/{slug}/report", data={"csrf": csrf_of(c)})
    assert r.status_code == 303
    page = c.get(f"/r/{slug}/report")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert "script-src" not in page.headers["content-security-policy"]


def test_vote_through_page_lands_in_event_log(clients, team, server):
    slug = team["slug"]
    c = clients["ana"]
    page = c.get(f"/r/{slug}/screen").text
    import re

    rid = int(re.search(r'name="record_id" value="(\d+)"', page).group(1))
    r = c.post(f"/r/{slug}/screen", data={"csrf": csrf_of(c, f"/r/{slug}/screen"), "record_id": rid,
                                          "decision": "include", "stage": "title_abstract", "key": "k1"})
    assert r.status_code == 303, r.text
    st = sd.state(server.review(slug), rid, "title_abstract", "ana")
    assert [(v.reviewer, v.decision) for v in st.votes] == [("ana", "include")]
