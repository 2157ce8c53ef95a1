"""The screening status names the protocol's stopping rule, its target recall and confidence, and its basis;
the CLI, the web pages and the report get it from the same engine function."""

from __future__ import annotations

from pathlib import Path

from screenfixtures import make_review

from metareview.review import Review
from metareview.screening import decisions as sd
from metareview.screening.batches import batch_stopping_status
from metareview.screening.queue import stopping_status
from metareview.screening.stopping_rules import DEFAULT_RULE


def _choose(directory: Path, url: str, table: str) -> Review:
    proto = directory / "protocol.toml"
    proto.write_text(proto.read_text() + "\n" + table)
    return Review.open(directory, db_url=url)


def _screen(review: Review) -> None:
    for rid, dec in [(1, "include"), (2, "include"), (3, "exclude"), (4, "exclude")]:
        for who in ("ana", "ben"):
            sd.decide(review, rid, who, dec, reason=None if dec == "include" else "not a meta-analysis")


def test_status_names_the_default_rule(review: Review) -> None:
    _screen(review)
    st = batch_stopping_status(review)
    first = st.current.results[0]
    names = {"poisson": "Poisson process", "hypergeometric": "hypergeometric", "knee": "knee",
             "budget": "budget", "safe": "SAFE", "consecutive": "consecutive"}
    assert names[DEFAULT_RULE] in first.rule
    text = str(st)
    assert first.rule in text and "basis:" in text
    if first.target_recall is not None:
        assert "target recall 95%" in text and "confidence 95%" in text
    # the queue (web dashboard, screen page) gets the same verdicts from the same function
    assert [r.headline for r in stopping_status(review)] == [r.headline for r in st.review_results()]


def test_protocol_chooses_the_rule(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rv.sqlite'}"
    make_review(tmp_path / "rv", url).close()
    table = ('[screening.stopping]\nrule = "hypergeometric"\ntarget_recall = 0.9\nconfidence = 0.8\n'
             "consecutive = 2\n")
    review = _choose(tmp_path / "rv", url, table)
    try:
        _screen(review)
        hyper, heuristic = stopping_status(review)
        assert "Callaghan" in hyper.rule and hyper.target_recall == 0.9 and hyper.confidence == 0.8
        assert "target recall 90%, confidence 80%" in hyper.headline
        assert heuristic.rule == "2 consecutive irrelevant" and heuristic.claim.startswith("heuristic")
        # a rule given to the engine overrides the protocol's
        knee = batch_stopping_status(review, rule="knee").current.results[0]
        assert "knee" in knee.rule and not knee.stop and "fewer than 150 screened" in knee.basis
    finally:
        review.close()


def test_cli_status_names_rule_target_and_basis(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from metareview.cli import app

    url = f"sqlite:///{tmp_path / 'rv.sqlite'}"
    review = make_review(tmp_path / "rv", url)
    _screen(review)
    review.close()
    where = ["--review", str(tmp_path / "rv"), "--db", url]
    out = CliRunner().invoke(app, ["screen", "status", *where], catch_exceptions=False).output
    assert "hypergeometric test (Callaghan & Müller-Hansen 2020) (target recall 95%, confidence 95%)" in out
    assert "basis: batch 1: hypergeometric test" in out and "guarantee:" in out
    args = ["screen", "status", "--rule", "knee", *where]
    out = CliRunner().invoke(app, args, catch_exceptions=False).output
    assert "knee method (Cormack & Grossman 2016) (heuristic: no recall target)" in out
