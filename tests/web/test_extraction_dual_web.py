"""The Extraction pages and JSON API with the protocol's own fields and with two extractors per report.

* The forms follow ``protocol.toml`` (a review that is not the reference one): a declared categorical
  moderator is a drop-down of its levels, a yes/no field a yes/no choice, a report field an input; a bad
  value comes back with the message beside its field and nothing is stored.
* Blind extraction walk: extractor B walks every GET route of the app (pages and API, with their query
  variants) before and after extractor A saves and submits; no response shows A's values until B has
  submitted too. After B submits, the same pages show them (so the check can fail), the owner compares
  the two side by side and records consensus values, and the agreed values become the final ones."""

from __future__ import annotations

import re

import pytest

from metareview.extraction import dual
from metareview.team import accounts, members
from metareview.team.server import REVIEWER
from metareview.web.app import create_app
from tests.web.conftest import PASSWORD, client_for, csrf_of
from tests.web.routes import all_routes, fill

PROTOCOL = """
title = "Risk factors for PTSD"
outcome_domains = ["ptsd", "depression"]

[[moderators]]
name = "design"
type = "categorical"
levels = ["prospective", "cross_sectional"]
required = true

[[extraction.effect_fields]]
name = "adjusted"
type = "yes/no"

[[extraction.effect_fields]]
name = "follow_up_months"
type = "numeric"

[[extraction.report_fields]]
name = "country"
type = "text"

[extraction]
extractors_per_report = {n}
"""
MARKER = "ANA-PRIVATE-31337"
ESTIMATE = "effect[ptsd | exposed vs not | or].estimate"


@pytest.fixture()
def hosted(server):
    def make(n: int) -> dict[str, object]:
        olga = accounts.create_user(server, "olga", PASSWORD, admin=True)
        hosted = server.create_review("PTSD", olga.id, protocol_text=PROTOCOL.format(n=n))
        for name in ("ana", "ben"):
            user = accounts.create_user(server, name, PASSWORD)
            members.accept(server, members.invite(server, hosted.slug, olga, REVIEWER), user)
        return {"slug": hosted.slug, **{n: client_for(server, n) for n in ("olga", "ana", "ben")}}
    return make


def _report(c, slug, tok, citation="Brewin CR et al. 2000", country="UK"):
    r = c.post(f"/r/{slug}/extraction/report", data={"csrf": tok, "id": "brewin2000", "citation": citation,
                                                     "year": "2000", "country": country})
    assert r.status_code == 303, r.text[:500]


def _effect(c, slug, tok, estimate="2.0", comparison="exposed vs not", **more):
    data = {"csrf": tok, "report_id": "brewin2000", "outcome_domain": "ptsd", "comparison": comparison,
            "measure": "OR", "estimate": estimate, "ci_lower": "0.1", "ci_upper": "20",
            "design": "prospective", "adjusted": "yes", **more}
    return c.post(f"/r/{slug}/extraction/effect", data=data)


def test_forms_follow_the_protocols_fields(server, hosted):
    h = hosted(1)
    slug, ana = h["slug"], h["ana"]
    tok = csrf_of(ana, f"/r/{slug}/extraction")
    _report(ana, slug, tok)
    page = ana.get(f"/r/{slug}/extraction?report=brewin2000").text
    assert re.search(r'<select name="design"[^>]*><option value="">—</option><option\s*>prospective</option>'
                     r'<option\s*>cross_sectional</option></select>', page)
    assert re.search(r'<select name="adjusted"[^>]*>.*?<option value="yes"', page, re.S)
    assert 'name="follow_up_months" inputmode="decimal"' in page
    assert 'name="country" value="UK"' in page                 # the report's own declared field, pre-filled
    assert 'name="support_provider"' not in page and 'name="sample"' not in page  # not this review's fields
    bad = _effect(ana, slug, tok, design="cohort", adjusted="maybe", follow_up_months="six")
    assert bad.status_code == 400
    levels = "design must be one of prospective, cross_sectional; got &#39;cohort&#39;"
    for field, message in (("design", levels),
                           ("adjusted", "adjusted must be yes or no"),
                           ("follow_up_months", "follow_up_months must be a number")):
        label = re.search(rf'<label>[^<]*(?:<abbr[^>]*>\*</abbr>)?\s*<(?:select|input) name="{field}"'
                          rf'[^>]*aria-invalid="true".*?</label>', bad.text, re.S)
        assert label and message in label.group(0), (field, bad.text[-3000:])
    missing = _effect(ana, slug, tok, design="")
    assert missing.status_code == 400 and "design is required by protocol.toml" in missing.text
    domain = _effect(ana, slug, tok, outcome_domain="anxiety")
    assert domain.status_code == 400 and "outcome_domain must be one of ptsd, depression" in domain.text
    assert dual.final_bundle(server.review(slug)).effect_sizes == ()
    ok = _effect(ana, slug, tok, follow_up_months="6")
    assert ok.status_code == 303, ok.text[:800]
    es = dual.final_bundle(server.review(slug)).effect_sizes[0]
    assert es.fields == {"design": "prospective", "adjusted": True, "follow_up_months": 6.0}
    page = ana.get(f"/r/{slug}/extraction?report=brewin2000").text
    assert re.search(r'id="my-effects".*?prospective.*?True.*?6\.0', page, re.S)


def _walk(client, app, slug: str) -> dict[str, tuple[int, str]]:
    out = {}
    for method, path in all_routes(app):
        if method != "GET" or "{slug}" not in path:
            continue
        for fmt in ("ris", "csv", "xlsx") if "{fmt}" in path else ("",):
            base = fill(path, slug=slug, record_id=1, fmt=fmt, report_id="brewin2000")
            for q in ("", "?report=brewin2000", "?report=brewin2000&all=1", "?all_fields=true"):
                r = client.get(base + q)
                assert MARKER.encode() not in r.content, base + q
                assert b"7.77" not in r.content, base + q
                out[base + q] = (r.status_code, r.text)
    return out


def test_blind_extraction_walk_then_comparison_and_consensus(server, hosted):
    h = hosted(2)
    slug, ana, ben, olga = h["slug"], h["ana"], h["ben"], h["olga"]
    app = create_app(server)
    before = _walk(ben, app, slug)
    assert len(before) > 60
    tok = csrf_of(ana, f"/r/{slug}/extraction")
    _report(ana, slug, tok, citation=f"Brewin {MARKER}")
    assert _effect(ana, slug, tok, estimate="7.77", comparison=f"exposed {MARKER}").status_code == 303
    mid = _walk(ben, app, slug)                    # ana's draft
    assert ana.post(f"/r/{slug}/extraction/submit", data={"csrf": tok, "report_id": "brewin2000"}
                    ).status_code == 303
    after = _walk(ben, app, slug)                  # ana submitted
    page = ben.get(f"/r/{slug}/extraction").text
    assert re.search(r"<td>brewin2000</td><td></td>\s*<td class=\"mine\">none</td>\s*<td>1 of 2</td>", page)
    cmp = ben.get(f"/r/{slug}/extraction/compare?report=brewin2000")
    assert cmp.status_code == 400 and "(1 of 2 so far; blind extraction)" in cmp.text
    api = ben.get(f"/api/reviews/{slug}/extraction/reports/brewin2000/mine").json()
    assert api == {"report_id": "brewin2000", "state": "none", "extraction": None}
    assert set(before) == set(mid) == set(after)

    # ben extracts and submits: now the comparison opens, to him and to the owner
    btok = csrf_of(ben, f"/r/{slug}/extraction")
    _report(ben, slug, btok, citation="Brewin CR et al. 2000")
    assert _effect(ben, slug, btok, estimate="2.5").status_code == 303
    assert ben.post(f"/r/{slug}/extraction/submit", data={"csrf": btok, "report_id": "brewin2000"}
                    ).status_code == 303
    shown = ben.get(f"/r/{slug}/extraction/compare?report=brewin2000").text
    assert MARKER in shown and "7.77" in shown           # the walk above could have failed
    page = olga.get(f"/r/{slug}/extraction/compare?report=brewin2000").text
    assert "ana vs ben" in page and 'id="open-fields">3 field(s) open' in page
    assert 'name="take" value="ana"' in page and 'name="take" value="ben"' in page
    listing = olga.get(f"/r/{slug}/extraction/compare").text
    assert re.search(r"<td>brewin2000</td><td>ana, ben</td><td>3</td>", listing)
    assert re.search(r'id="agreement".*?report\.citation</td><td>1</td><td>0</td>', listing, re.S)

    otok = csrf_of(olga, f"/r/{slug}/extraction")
    for field, how in (("report.citation", {"take": "ben"}), (ESTIMATE, {"value": "2.4"}),
                       ("effect[ptsd | exposed vs not | or]", {"take": "ben"}),
                       (f"effect[ptsd | exposed {MARKER.lower()} | or]", {"take": "ben"})):
        r = olga.post(f"/r/{slug}/extraction/consensus",
                      data={"csrf": otok, "report_id": "brewin2000", "field": field, **how})
        assert r.status_code == 303, r.text[:500]
    page = olga.get(f"/r/{slug}/extraction/compare?report=brewin2000").text
    assert "Agreed: the values below are the report" in page, page[-4000:]
    assert re.search(r"2\.4 <span class=\"hint\">by olga, \d{4}-\d\d-\d\d", page)
    final = dual.final_bundle(server.review(slug))
    assert [(e.comparison, e.estimate) for e in final.effect_sizes] == [("exposed vs not", 2.4)]
    assert final.reports[0].citation == "Brewin CR et al. 2000"
    # a second consensus on one field is refused, beside nothing being changed
    again = olga.post(f"/r/{slug}/extraction/consensus",
                      data={"csrf": otok, "report_id": "brewin2000", "field": ESTIMATE, "value": "3"})
    assert again.status_code == 400 and "record a correction" in again.text
    fixed = olga.post(f"/r/{slug}/extraction/consensus", data={
        "csrf": otok, "report_id": "brewin2000", "field": ESTIMATE, "value": "3", "correct": "1"})
    assert fixed.status_code == 303
    assert dual.final_bundle(server.review(slug)).effect_sizes[0].estimate == 3.0
    assert ben.get(f"/api/reviews/{slug}/extraction/final").json()["effect_sizes"][0]["estimate"] == 3.0


def test_json_api_for_dual_extraction(server, hosted):
    h = hosted(2)
    slug, ana, ben, olga = h["slug"], h["ana"], h["ben"], h["olga"]
    hdr = {n: {"X-CSRF-Token": csrf_of(c)} for n, c in (("ana", ana), ("ben", ben), ("olga", olga))}
    schema = ana.get(f"/api/reviews/{slug}/extraction/schema").json()
    assert schema["extractors_per_report"] == 2
    assert {"name": "design", "levels": ["prospective", "cross_sectional"]}.items() <= next(
        f for f in schema["effect_sizes"] if f["name"] == "design").items()
    body = {"report": {"citation": "Brewin 2000", "country": "UK"},
            "effect_sizes": [{"outcome_domain": "ptsd", "comparison": "exposed vs not", "measure": "OR",
                              "estimate": 2.0, "p": 0.01, "design": "prospective"}],
            "primary_studies": [{"label": "Smith 1995", "year": 1995}]}
    url = f"/api/reviews/{slug}/extraction/reports/brewin2000"
    bad = ana.post(url + "/mine", json={**body, "effect_sizes": [{**body["effect_sizes"][0], "design": "x"}]},
                  headers=hdr["ana"])
    assert bad.status_code == 400 and bad.json()["field"] == "design"
    assert ana.post(url + "/mine", json={**body, "submit": True}, headers=hdr["ana"]).json()["submitted"] == 1
    assert ben.get(url + "/comparison").status_code == 400
    assert ben.get(url + "/mine").json()["extraction"] is None
    status = ben.get(f"/api/reviews/{slug}/extraction/status").json()
    assert status[0]["extractors"] == [] and status[0]["open_fields"] is None
    other = {**body, "effect_sizes": [{**body["effect_sizes"][0], "estimate": 2.2}]}
    assert ben.post(url + "/mine", json=other, headers=hdr["ben"]).json()["mine"] == "draft"
    assert ben.post(url + "/submit", headers=hdr["ben"]).json()["phase"] == "consensus"
    cmp = olga.get(url + "/comparison").json()
    assert [(r["field"], r["values"]) for r in cmp["rows"]] == [(ESTIMATE, {"ana": 2.0, "ben": 2.2})]
    res = olga.post(url + "/consensus", json={"field": ESTIMATE, "take": "ben", "note": "table 2"},
                    headers=hdr["olga"]).json()
    assert res["agreed"] and res["rows"][0]["consensus"]["reviewer"] == "olga"
    agreement = olga.get(f"/api/reviews/{slug}/extraction/agreement").json()
    assert agreement["reports"] == 1
    assert olga.get(f"/api/reviews/{slug}/extraction/final").json()["effect_sizes"][0]["estimate"] == 2.2


def test_studies_api(server, team, clients):
    """Two records of one review linked to a study through the JSON API, then one unlinked."""
    slug, ana = team["slug"], clients["ana"]
    hdr = {"X-CSRF-Token": csrf_of(ana)}
    url = f"/api/reviews/{slug}/studies"
    r = ana.post(url + "/link", json={"record_ids": [1, 2], "study": "heber2017"}, headers=hdr)
    assert r.json() == {"changed": 2}
    assert ana.get(url).json() == [{"name": "heber2017", "record_ids": [1, 2], "linked": True}]
    bad = ana.post(url + "/link", json={"record_ids": [999], "study": "x"}, headers=hdr)
    assert bad.status_code == 400 and "no record 999" in bad.json()["detail"]
    assert ana.post(url + "/link", json={"record_ids": [2]}, headers=hdr).json() == {"changed": 1}
    assert ana.get(url).json() == [{"name": "heber2017", "record_ids": [1], "linked": True}]
    assert clients["eve"].get(url).status_code == 404
