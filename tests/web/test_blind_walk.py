"""Blind mode on the server: reviewer B walks every GET route of the app's route table (pages, SVG
fragments, API, exports) with every query variant, before and after reviewer A votes on a record; no
response may change or show A's vote until B has voted on that record. The same walk after B's vote
does show A's vote, so the check can fail."""

from __future__ import annotations

import io
import re

from metareview.screening import decisions as sd
from metareview.web.app import create_app
from tests.web.conftest import csrf_of
from tests.web.routes import all_routes, fill

MARKER = "ANA-PRIVATE-NOTE-31337"


def _normalise(path: str, r) -> object:
    ctype = r.headers.get("content-type", "")
    if "spreadsheetml" in ctype or path.endswith("/xlsx"):
        import openpyxl

        wb = openpyxl.load_workbook(io.BytesIO(r.content))
        return [[c for c in row] for ws in wb for row in ws.iter_rows(values_only=True)]
    if "application/json" in ctype:
        data = r.json()
        if isinstance(data, dict):
            data.pop("per_reviewer", None)  # counts of votes per person: not a vote on a record
        return data
    text = r.text
    text = re.sub(r'name="(csrf|key)" value="[^"]*"', r'name="\1" value=""', text)
    text = re.sub(r"<!--per-reviewer-->.*?<!--/per-reviewer-->", "", text, flags=re.S)
    return (r.status_code, text)


def _walk(client, app, slug: str, rid: int) -> dict[str, object]:
    out = {}
    queries = ["", "?stage=title_abstract", "?stage=full_text", f"?record={rid}",
               f"?stage=title_abstract&record={rid}", "?q=a"]
    for method, path in all_routes(app):
        if method != "GET" or "{slug}" not in path:
            continue
        for fmt in ("ris", "csv", "xlsx") if "{fmt}" in path else ("",):
            base = fill(path, slug=slug, record_id=rid, fmt=fmt)
            for q in queries:
                r = client.get(base + q)
                body = r.content if "xlsx" not in base else b""
                assert MARKER.encode() not in body, base + q
                out[base + q] = _normalise(base, r)
    return out


def test_blind_mode_holds_on_every_route(server, team, clients):
    slug = team["slug"]
    review = server.review(slug)
    assert review.protocol.screening.blind
    app = create_app(server)
    ben = clients["ben"]
    rid = sd.states(review)[0].record_id
    reason = review.protocol.exclusion_reasons.title_abstract[0]

    before = _walk(ben, app, slug, rid)
    ana = clients["ana"]
    r = ana.post(f"/r/{slug}/screen", data={"csrf": csrf_of(ana), "record_id": rid, "decision": "exclude",
                                            "reason": reason, "note": MARKER, "stage": "title_abstract"})
    assert r.status_code == 303
    after = _walk(ben, app, slug, rid)
    assert len(before) > 60
    changed = [k for k in before if before[k] != after[k]]
    assert changed == [], changed
    # resolving (a state-changing route on that record) must not tell ben anything either
    res = ben.post(f"/r/{slug}/conflicts/{rid}", data={"csrf": csrf_of(ben), "decision": "include"})
    assert MARKER not in res.text and "exclude" not in res.text.split("<main", 1)[-1].lower().replace(
        "exclude word", "")
    api = ben.get(f"/api/reviews/{slug}/records/{rid}/state").json()
    assert api["votes"] == [] and api["status"] == "pending"

    # once ben has voted, the same walk shows ana's vote: the check above can fail
    ben.post(f"/r/{slug}/screen", data={"csrf": csrf_of(ben), "record_id": rid, "decision": "include"})
    state = ben.get(f"/api/reviews/{slug}/records/{rid}/state").json()
    votes = {(v["reviewer"], v["decision"]) for v in state["votes"]}
    assert votes == {("ana", "exclude"), ("ben", "include")}
    conflicts = ben.get(f"/r/{slug}/conflicts").text
    assert MARKER in conflicts
