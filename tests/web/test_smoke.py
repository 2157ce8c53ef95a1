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
                 f"/r/{slug}/export/ris", f"/r/{slug}/export/csv", f"/r/{slug}/export/xlsx",
                 f"/r/{slug}/export/csv?included=title_abstract", f"/r/{slug}/decision-log.csv",
                 f"/r/{slug}/decision-log.xlsx", f"/r/{slug}/prisma-update.svg"):
        r = c.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])


def test_report_builds_from_the_dashboard(clients, team):
    import io
    import zipfile

    slug = team["slug"]
    c = clients["olga"]
    assert c.get(f"/r/{slug}/report.zip").status_code == 400  # nothing built yet: says so
    assert "No report built yet" in c.get(f"/r/{slug}/").text
    r = c.post(f"/r/{slug}/report", data={"csrf": csrf_of(c)})
    assert r.status_code == 303 and r.headers["location"].startswith(f"/r/{slug}/?built=1")
    assert "The report is built" in c.get(r.headers["location"]).text
    page = c.get(f"/r/{slug}/report")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert "script-src" not in page.headers["content-security-policy"]
    z = c.get(f"/r/{slug}/report.zip")
    assert z.status_code == 200 and f'{slug}-report.zip' in z.headers["content-disposition"]
    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert "report/report.html" in names or "report/index.html" in names


def test_exports_of_included_records_and_decision_log(clients, team, server):
    slug = team["slug"]
    review = server.review(slug)
    for who in ("ana", "ben"):
        sd.decide(review, 1, who, "include")
        sd.decide(review, 2, who, "exclude")
    sd.decide(review, 3, "ana", "include")  # pending: ben has not voted
    c = clients["olga"]
    csv = c.get(f"/r/{slug}/export/csv?included=title_abstract").text
    assert "10.1000/test.1" in csv and "10.1000/test.2" not in csv and "10.1000/test.3" not in csv
    assert c.get(f"/r/{slug}/export/csv?included=nonsense").status_code == 400
    log = c.get(f"/r/{slug}/decision-log.csv")
    assert log.status_code == 200 and "decision-log.csv" in log.headers["content-disposition"]
    assert log.text.splitlines()[0].startswith("at,record_id,stage,reviewer")
    # blind mode: ben sees ana's votes on the records he voted on too, not on record 3 (pending)
    rows = clients["ben"].get(f"/r/{slug}/decision-log.csv").text.splitlines()
    assert sum(",ana," in r for r in rows) == 2 and sum(",ben," in r for r in rows) == 2
    own = clients["ana"].get(f"/r/{slug}/decision-log.csv").text
    assert sum(",ana," in r for r in own.splitlines()) == 3  # her own votes, all of them


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
