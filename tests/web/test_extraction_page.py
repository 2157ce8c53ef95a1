"""The extraction page: a meta-analysis report with AMSTAR 2 (overall confidence derived), an effect
size and a primary-study list through the forms; bad values come back with the message beside the field
and nothing is stored."""

from __future__ import annotations

import re

from metareview.team import extraction as ex
from tests.web.conftest import csrf_of

# Every item "yes" gives high confidence (Shea et al. 2017, BMJ 358:j4008: no critical flaw, no weakness).
ALL_YES = {f"amstar_{i}": "yes" for i in range(1, 17)}


def test_report_effect_and_studies_through_the_forms(server, team, clients):
    slug = team["slug"]
    c = clients["ana"]
    tok = csrf_of(c, f"/r/{slug}/extraction")
    r = c.post(f"/r/{slug}/extraction/report", data={
        "csrf": tok, "id": "heber2017", "citation": "Heber E et al. 2017 <b>bold</b>", "year": "2017",
        "databases": "MEDLINE, PsycINFO", "n_studies": "26", **ALL_YES})
    assert r.status_code == 303, r.text[:500]
    page = c.get(f"/r/{slug}/extraction").text
    assert re.search(r'class="confidence">high<', page)
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    # item 2 "no" is a critical flaw: one critical flaw gives low confidence (Shea et al. 2017)
    r = c.post(f"/r/{slug}/extraction/report", data={
        "csrf": tok, "id": "heber2017", "citation": "Heber E et al. 2017", **ALL_YES, "amstar_2": "no"})
    assert r.status_code == 303
    assert ex.stored(server.review(slug)).reports[0].confidence == "low"

    bad = c.post(f"/r/{slug}/extraction/effect", data={
        "csrf": tok, "report_id": "heber2017", "outcome_domain": "stress", "comparison": "guided vs unguided",
        "sample": "unrestricted", "support_provider": "clinically_trained", "measure": "SMD",
        "estimate": "0.31", "ci_lower": "0.11", "ci_upper": ""})
    assert bad.status_code == 400
    assert "give both ci_lower and ci_upper" in bad.text and 'id="form-errors"' in bad.text
    bad2 = c.post(f"/r/{slug}/extraction/effect", data={
        "csrf": tok, "report_id": "heber2017", "outcome_domain": "stress", "comparison": "x",
        "sample": "unrestricted", "support_provider": "clinically_trained", "measure": "SMD",
        "estimate": "not a number"})
    assert bad2.status_code == 400 and 'aria-invalid="true"' in bad2.text
    assert ex.stored(server.review(slug)).effect_sizes == ()
    ok = c.post(f"/r/{slug}/extraction/effect", data={
        "csrf": tok, "report_id": "heber2017", "outcome_domain": "stress", "comparison": "guided vs unguided",
        "sample": "unrestricted", "support_provider": "clinically_trained", "measure": "SMD",
        "estimate": "0.31", "ci_lower": "0.11", "ci_upper": "0.51"})
    assert ok.status_code == 303, ok.text[:400]
    st = c.post(f"/r/{slug}/extraction/studies", data={
        "csrf": tok, "report_id": "heber2017", "studies": "Andersson 2005; 2005; 10.1/a\nBerger 2011; 2011"})
    assert st.status_code == 303, st.text[:400]
    bundle = ex.stored(server.review(slug))
    assert [e.direction.value for e in bundle.effect_sizes] == ["better"]
    assert [s.label for s in bundle.primary_studies[0].studies] == ["Andersson 2005", "Berger 2011"]
    # a viewer reads but cannot write; a non-member cannot read
    assert clients["eve"].get(f"/r/{slug}/extraction").status_code == 404
