"""Security of the team server, each point tested against the app's own route table:
authentication on every route, cookie flags, CSRF, sign-in rate limiting shared by app processes,
membership isolation between reviews, escaping, upload limits and file names."""

from __future__ import annotations

import re

import pytest

from metareview.web import files
from metareview.web.app import create_app
from tests.web.conftest import PASSWORD, client_for, csrf_of
from tests.web.routes import PUBLIC, all_routes, fill


def test_every_route_but_signin_needs_a_session_or_token(server, team):
    app = create_app(server)
    anon = client_for(server, None)
    checked = 0
    for method, path in all_routes(app):
        if (method, path) in PUBLIC:
            continue
        url = fill(path, slug=team["slug"], fmt="csv", secret="x")
        r = anon.request(method, url)
        if path.startswith("/api/"):
            assert r.status_code == 401, (method, path, r.status_code)
        else:
            assert r.status_code == 303 and r.headers["location"] == "/signin", (method, path, r.status_code)
        checked += 1
    assert checked > 30
    # a wrong token or a forged cookie is no better
    assert anon.get("/api/me", headers={"Authorization": "Bearer mrt_forged"}).status_code == 401
    anon.cookies.set("mr_session", "forged")
    assert anon.get("/").status_code == 303


def test_session_cookie_is_httponly_and_samesite(server, team):
    c = client_for(server, None)
    r = c.post("/signin", data={"name": "ana", "password": PASSWORD})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "mr_session=" in cookie
    assert PASSWORD not in r.text


def test_csrf_required_on_state_changing_requests(server, team, clients):
    slug = team["slug"]
    c = clients["olga"]
    for data in ({"title": "no token"}, {"title": "bad token", "csrf": "wrong"}):
        assert c.post("/reviews", data=data).status_code == 403
    assert c.post("/reviews", data={"title": "ok", "csrf": csrf_of(c)}).status_code == 303
    # every POST page route refuses a missing token
    app = create_app(server)
    for method, path in all_routes(app):
        if method == "POST" and not path.startswith("/api/") and (method, path) not in PUBLIC:
            r = c.post(fill(path, slug=slug), data={"x": "1"})
            assert r.status_code == 403, path
    # the API with the session cookie needs X-CSRF-Token; with a Bearer token it does not
    body = {"record_id": 1, "decision": "include"}
    assert clients["ana"].post(f"/api/reviews/{slug}/decisions", json=body).status_code == 403
    ok = clients["ana"].post(f"/api/reviews/{slug}/decisions", json=body,
                             headers={"X-CSRF-Token": csrf_of(clients["ana"])})
    assert ok.status_code == 200, ok.text
    from metareview.team import accounts

    token = accounts.create_token(server, accounts.authenticate_id(server, "ben"), "script")
    anon = client_for(server, None)
    r = anon.post(f"/api/reviews/{slug}/decisions", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text


def test_signin_rate_limit_holds_across_app_processes(server, team):
    first, second = client_for(server, None), client_for(server, None)  # two apps, one database
    for _ in range(5):
        assert first.post("/signin", data={"name": "ana", "password": "wrong password"}).status_code == 401
    r = second.post("/signin", data={"name": "ANA ", "password": PASSWORD})
    assert r.status_code == 429
    assert "mr_session" not in r.headers.get("set-cookie", "")


def test_passwords_are_argon2_hashes(server, team):
    from metareview.store import team_repo

    with server.session() as s:
        user = team_repo.user_by_name(s, "ana")
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


@pytest.mark.parametrize("who,target", [("eve", "slug"), ("ana", "other")])
def test_members_of_one_review_cannot_reach_another(server, team, clients, who, target):
    """Walk every review-scoped route (GET and POST, pages and API) as a non-member."""
    app = create_app(server)
    c = clients[who]
    token = csrf_of(c)
    slug = team[target]
    walked = 0
    for method, path in all_routes(app):
        if "{slug}" not in path:
            continue
        url = fill(path, slug=slug, fmt="csv")
        if method == "GET":
            r = c.get(url)
        elif path.startswith("/api/"):
            r = c.post(url, json={"record_id": 1, "decision": "include"}, headers={"X-CSRF-Token": token})
        else:
            r = c.post(url, data={"csrf": token, "record_id": "1", "decision": "include", "role": "owner",
                                  "database": "X", "verdict": "confirm", "title": "t"},
                       files={"file": ("a.ris", b"TY  - JOUR\nTI  - x\nER  - \n")})
        assert r.status_code in (404, 422), (who, method, path, r.status_code)
        assert "Secret other review record" not in r.text
        walked += 1
    assert walked > 25
    # nothing changed in the other review
    from metareview.screening import decisions as sd

    assert sd.progress(server.review(team[target])).pending == sd.progress(server.review(team[target])).total


def test_user_written_text_is_escaped(server, team, clients):
    slug = team["slug"]
    c = clients["ana"]
    review = server.review(slug)
    from metareview.store import records_repo

    with review.session() as s:
        rid = next(r.id for r, *_ in records_repo.iter_records(s) if "<script>" in r.title)
    r = c.get(f"/r/{slug}/screen?record={rid}")
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    c.post(f"/r/{slug}/screen", data={"csrf": csrf_of(c), "record_id": rid, "decision": "maybe",
                                      "note": "<img src=x onerror=alert(2)>"})
    for path in (f"/r/{slug}/mine", f"/r/{slug}/mine?q=script", f"/r/{slug}/conflicts"):
        page = c.get(path).text
        assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "content-security-policy" in {k.lower() for k in r.headers}


def test_uploads_checked_for_type_and_size_and_names_never_become_paths(server, team, clients, monkeypatch,
                                                                         tmp_path):
    slug = team["slug"]
    c = clients["olga"]
    tok = csrf_of(c)
    bad_type = c.post(f"/r/{slug}/import", data={"csrf": tok, "database": "X"},
                      files={"file": ("evil.exe", b"MZ....")})
    assert bad_type.status_code == 400 and "file type" in bad_type.text
    sneaky = c.post(f"/r/{slug}/import", data={"csrf": tok, "database": "Embase"},
                    files={"file": ("../../../../escaped.ris", b"TY  - JOUR\nTI  - Escape test\nER  - \n")})
    assert sneaky.status_code == 303
    assert not list(tmp_path.rglob("escaped.ris")) and not list(server.data_dir.rglob("escaped*"))
    monkeypatch.setattr(files, "MAX_IMPORT", 100)
    big = c.post(f"/r/{slug}/import", data={"csrf": tok, "database": "X"},
                 files={"file": ("big.ris", b"TY  - JOUR\n" + b"x" * 200)})
    assert big.status_code == 400 and "larger than" in big.text
    # full text: only %PDF- content, at most MAX_PDF; saved as fulltext/<record id>.pdf
    rid = _included_record(server, slug)
    notpdf = c.post(f"/r/{slug}/fulltext/{rid}", data={"csrf": tok},
                    files={"file": ("paper.pdf", b"<html>not a pdf</html>")})
    assert notpdf.status_code == 400 and "PDF" in notpdf.text
    ok = c.post(f"/r/{slug}/fulltext/{rid}", data={"csrf": tok},
                files={"file": ("../../x/paper.pdf", b"%PDF-1.4\n%%EOF\n")})
    assert ok.status_code == 303
    saved = sorted(p.name for p in (server.workspace(slug) / "fulltext").iterdir())
    assert saved == [f"{rid}.pdf"]
    got = c.get(f"/r/{slug}/fulltext/{rid}.pdf")
    assert got.status_code == 200 and got.content.startswith(b"%PDF-")
    assert got.headers["content-type"] == "application/pdf"
    monkeypatch.setattr(files, "MAX_PDF", 10)
    assert c.post(f"/r/{slug}/fulltext/{rid}", data={"csrf": tok},
                  files={"file": ("p.pdf", b"%PDF-1.4" + b"0" * 50)}).status_code == 400


def _included_record(server, slug):
    from metareview.screening import decisions as sd

    review = server.review(slug)
    rid = sd.states(review)[0].record_id
    sd.decide(review, rid, "ana", "include")
    sd.decide(review, rid, "ben", "include")
    return rid


def test_invitation_links_work_once(server, team, clients):
    slug = team["slug"]
    c = clients["olga"]
    page = c.post(f"/r/{slug}/members/invite", data={"csrf": csrf_of(c), "role": "viewer"}).text
    link = re.search(r'id="invite-link">([^<]+)<', page).group(1)
    path = link.split("testserver")[1]
    anon = client_for(server, None)
    r = anon.post(path, data={"name": "vic", "password": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == f"/r/{slug}/"
    again = client_for(server, None).post(path, data={"name": "mallory", "password": PASSWORD})
    assert again.status_code == 400
    # a viewer cannot vote or invite
    vic = client_for(server, "vic")
    r = vic.post(f"/r/{slug}/members/invite", data={"csrf": csrf_of(vic), "role": "owner"})
    assert r.status_code == 404
    assert vic.get(f"/r/{slug}/screen").status_code == 404


def test_only_server_owners_create_reviews(server, team, clients):
    ana = clients["ana"]
    assert ana.post("/reviews", data={"title": "mine", "csrf": csrf_of(ana)}).status_code == 404
    olga = clients["olga"]
    assert olga.post("/reviews", data={"title": "mine", "csrf": csrf_of(olga)}).status_code == 303


def test_upload_display_names_are_reduced_to_safe_characters():
    from metareview.web.files import _safe_stem

    assert _safe_stem("../../etc/passwd.ris") == "passwd"
    assert _safe_stem("..\\\\..\\\\win\\\\MEDLINE export (2024).ris") == "MEDLINE_export_2024"
    assert _safe_stem("...ris") == "upload"
