"""End to end in Debian's Chromium (Playwright): the owner creates a review and imports a file, invites
two reviewers; both screen the same records in blind mode in two browser contexts by keyboard; a conflict
appears and the owner resolves it; the dashboard's PRISMA counts change; the report is built and
downloaded; an update is imported as batch 2 (living review). Screenshots of every page go to
``out/screenshots/``."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from metareview.team import accounts
from tests.needs import skip_or_fail
from tests.web.conftest import PASSWORD, TITLES, ris_text
from tests.web.livesrv import live_server

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install playwright)")
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        yield b
        b.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _tiny_pdf() -> bytes:
    """A one-page PDF with one line of text (hand-written objects, offsets computed)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>"]
    text = b"BT /F1 18 Tf 72 700 Td (Full text of the report) Tj ET"
    objs.append(b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def text_of(page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def test_team_screens_in_blind_mode_resolves_and_dashboard_changes(browser, server, tmp_path):
    accounts.create_user(server, "olga", PASSWORD, admin=True)
    ris = tmp_path / "medline-search.ris"
    ris.write_text(ris_text(TITLES), encoding="utf-8")
    with live_server(server) as base:
        owner_ctx = browser.new_context(viewport={"width": 1366, "height": 800})
        owner = owner_ctx.new_page()
        owner.goto(base + "/")
        assert owner.url.endswith("/signin")
        shot(owner, "01-signin")
        owner.fill("input[name=name]", "olga")
        owner.fill("input[name=password]", PASSWORD)
        owner.keyboard.press("Enter")
        owner.wait_for_url(base + "/")
        owner.fill("input[name=title]", "Human support meta-review")
        owner.click("text=Create review")
        owner.wait_for_url("**/import")
        slug = owner.url.split("/r/")[1].split("/")[0]
        owner.set_input_files("input[name=file]", str(ris))
        owner.fill("input[name=database]", "MEDLINE")
        owner.fill("input[name=searched]", "2024-01-15")
        owner.fill("textarea[name=query]", "digital AND support")
        owner.click("text=Import and deduplicate")
        owner.wait_for_url("**/import?msg=*")
        assert "6 records added" in text_of(owner, "#import-msg")
        shot(owner, "02-import")
        owner.goto(f"{base}/r/{slug}/")
        assert text_of(owner, "#prisma-sought") == "0"
        screened_before = text_of(owner, "#prisma-screened")
        shot(owner, "03-dashboard-before")

        links = []
        for _ in range(2):
            owner.goto(f"{base}/r/{slug}/members")
            owner.click("#invite-btn")
            links.append(text_of(owner, "#invite-link"))
        shot(owner, "04-members")

        reviewers = {}
        for name, link in zip(("ana", "ben"), links, strict=True):
            ctx = browser.new_context(viewport={"width": 1366, "height": 800})
            page = ctx.new_page()
            page.goto(link)
            if name == "ana":
                shot(page, "05-invitation")
            page.fill("input[name=name]", name)
            page.fill("input[name=password]", PASSWORD)
            page.click("text=Join the review")
            page.wait_for_url(f"**/r/{slug}/")
            reviewers[name] = page

        ana, ben = reviewers["ana"], reviewers["ben"]
        owner.goto(f"{base}/r/{slug}/members")
        assert owner.locator("select[name=role]").count() == 4  # 3 members + the invitation form
        shot(owner, "04b-members-joined")
        # ana screens everything first, by keyboard: include all.
        ana.goto(f"{base}/r/{slug}/screen")
        shot(ana, "06-screen-title-abstract")
        seen_by_ana = []
        for _ in TITLES:
            seen_by_ana.append(ana.locator("input[name=record_id]").get_attribute("value"))
            with ana.expect_navigation():
                ana.keyboard.press("i")
        assert "Nothing left for you" in ana.content()
        assert sorted(seen_by_ana) == sorted(set(seen_by_ana))

        # ben, blind: nothing of ana's votes shows before he votes. He includes the first record and
        # excludes the others with reason 1 (e, then 1), so five conflicts appear.
        ben.goto(f"{base}/r/{slug}/screen")
        first = True
        for _ in TITLES:
            assert not re.search(r"\bana\b", ben.content().lower())
            if first:
                with ben.expect_navigation():
                    ben.keyboard.press("i")
                first = False
            else:
                ben.keyboard.press("e")
                assert ben.locator("#reasons").is_visible()
                if not Path(SHOTS / "07-screen-exclude-reasons.png").exists():
                    shot(ben, "07-screen-exclude-reasons")
                with ben.expect_navigation():
                    ben.keyboard.press("1")
        # u: undo retracts his last vote (an appended event) and shows that record again, without a vote
        last = seen = ben.url
        with ben.expect_navigation():
            ben.keyboard.press("u")
        assert ben.locator("#own-vote").count() == 0
        assert "record=" in ben.url and ben.url != last
        seen = ben.locator("input[name=record_id]").get_attribute("value")
        assert f"record={seen}" in ben.url
        # ... and he votes on it again by keyboard (exclude, reason 1), so the five conflicts stand
        ben.keyboard.press("e")
        with ben.expect_navigation():
            ben.keyboard.press("1")
        ben.goto(f"{base}/r/{slug}/mine")
        shot(ben, "08-my-decisions")

        # the conflicts: the voters and the owner (the arbiter, not a voter) see both votes
        ana.goto(f"{base}/r/{slug}/conflicts")
        assert ana.locator("article.conflict").count() == 5
        assert "ben" in text_of(ana, "article.conflict >> nth=0")
        shot(ana, "09-conflicts-voter")
        owner.goto(f"{base}/r/{slug}/conflicts")
        assert owner.locator("article.conflict").count() == 5
        # a record in conflict has all its votes in: the arbiter sees both, with reasons (as Covidence)
        arbiter_view = text_of(owner, "article.conflict >> nth=0")
        assert "ana" in arbiter_view and "ben" in arbiter_view and "hidden" not in arbiter_view
        shot(owner, "10-conflicts-owner")
        owner.fill("article.conflict >> nth=0 >> input[name=note]", "meets E1-E4 on the abstract")
        with owner.expect_navigation():
            owner.click("article.conflict >> nth=0 >> text=Resolve: include")
        assert owner.locator("article.conflict").count() == 4

        owner.goto(f"{base}/r/{slug}/")
        assert text_of(owner, "#prisma-sought") == "2"
        assert (screened_before, text_of(owner, "#prisma-screened")) == ("0", "2")
        assert "κ" in owner.content()
        shot(owner, "11-dashboard-after")
        # the report: built from the dashboard and downloaded (a ZIP of the HTML with its tables)
        with owner.expect_navigation():
            owner.click("text=Build the report")
        assert "The report is built" in owner.content()
        with owner.expect_download() as dl:
            owner.click("#report-zip")
        assert dl.value.suggested_filename == f"{slug}-report.zip"
        shot(owner, "11b-dashboard-report-built")

        ana.goto(f"{base}/r/{slug}/screen?stage=full_text")
        pdf = tmp_path / "fulltext.pdf"
        pdf.write_bytes(_tiny_pdf())
        ana.set_input_files("input[type=file]", str(pdf))
        with ana.expect_navigation():
            ana.click("text=Upload")
        assert text_of(ana, "#retrieval") == "retrieved"
        assert ana.locator("iframe").count() == 1
        ana.wait_for_timeout(800)
        shot(ana, "12-screen-full-text")
        ana.keyboard.press("e")
        assert not ana.locator('#reasons button[data-num="0"]').count()  # a reason is required here
        with ana.expect_navigation():
            ana.keyboard.press("2")
        assert "Record" in ana.content()
        owner.goto(f"{base}/r/{slug}/extraction")
        shot(owner, "13-extraction")
        owner.goto(f"{base}/account")
        owner.click("text=Create token")
        assert owner.locator("#new-token").inner_text().startswith("mrt_")
        shot(owner, "14-account")
        owner.goto(f"{base}/")
        shot(owner, "15-home")
        # a living review: the owner imports an update (a new search export) as batch 2 from the web
        update = tmp_path / "pubmed-2025.ris"
        new_titles = ["Guided apps for depression: a 2025 meta-analysis",
                      "Coached online CBT for anxiety: network meta-analysis"]
        update.write_text("".join(
            f"TY  - JOUR\nTI  - {t}\nAU  - Update{i}, A.\nPY  - 2025\nJO  - Journal of Updates\n"
            f"AB  - Abstract of update {i}: internet support.\nDO  - 10.1000/update.{i}\nER  - \n\n"
            for i, t in enumerate(new_titles, 1)), encoding="utf-8")
        owner.goto(f"{base}/r/{slug}/import")
        owner.set_input_files("input[name=file1]", str(update))
        owner.fill("input[name=database1]", "PubMed")
        owner.fill("input[name=searched1]", "2025-03-01")
        owner.fill("input[name=note]", "yearly update")
        with owner.expect_navigation():
            owner.click("text=Import the update")
        assert "batch 2" in text_of(owner, "#import-msg")
        owner.goto(f"{base}/r/{slug}/")
        assert "yearly update" in text_of(owner, "#batch-2")
        assert text_of(owner, "#review-stop") == "continue"  # the new batch has not been screened
        shot(owner, "16-dashboard-living-review")
        for ctx in (owner_ctx, ana.context, ben.context):
            ctx.close()
