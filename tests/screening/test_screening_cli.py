"""The screening CLI end to end on a SQLite review (thin commands over the tested API)."""

from __future__ import annotations

import pandas as pd
from screenfixtures import make_review
from typer.testing import CliRunner

from metareview.cli import app
from metareview.screening.highlight import keyword_spans

runner = CliRunner()


def _run(*args: str) -> str:
    res = runner.invoke(app, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_screening_commands(tmp_path):
    rv = make_review(tmp_path / "rv", f"sqlite:///{tmp_path / 'rv.sqlite'}")
    rv.close()
    where = ["--review", str(tmp_path / "rv"), "--db", f"sqlite:///{tmp_path / 'rv.sqlite'}"]
    out = _run("screen", "next", "--reviewer", "ana", *where)
    assert "record 1" in out and "Guided internet CBT" in out
    _run("screen", "decide", "1", "--reviewer", "ana", "--include", *where)
    out = _run(
        "screen", "decide", "1", "--reviewer", "ben", "--exclude", "--reason", "not a meta-analysis", *where
    )
    assert "conflict" in out
    assert "1 conflict(s)" in _run("conflicts", "--reviewer", "ana", *where)
    decisions = tmp_path / "d.csv"
    pd.DataFrame(
        {"record_id": [2, 2], "reviewer": ["ana", "ben"], "decision": ["include", "include"]}
    ).to_csv(decisions, index=False)
    assert "imported 2" in _run("screen", "import", str(decisions), *where)
    assert "Cohen's kappa" in _run("agreement", *where)
    _run("screen", "resolve", "1", "--reviewer", "cleo", "--include", *where)
    status = _run("screen", "status", *where)
    assert "2 included" in status and "hypergeometric" in status
    res = runner.invoke(app, ["prisma", "--out", str(tmp_path / "p.svg"), *where])
    assert res.exit_code != 0  # screening unfinished: an error, not a diagram
    assert not (tmp_path / "p.svg").exists()


def test_simulate_command(tmp_path):
    csv = tmp_path / "labelled.csv"
    pd.DataFrame(
        {
            "title": [f"brain imaging study {i}" for i in range(10)]
            + [f"aspirin trial {i}" for i in range(50)],
            "abstract": "",
            "label_included": [1] * 10 + [0] * 50,
        }
    ).to_csv(csv, index=False)
    out = _run(
        "simulate", str(csv), "--label", "label_included", "--seeds", "1", "--out", str(tmp_path / "sim")
    )
    assert "wss95" in out and (tmp_path / "sim" / "recall_curve.png").exists()


def test_keyword_spans():
    spans = keyword_spans("A Meta-analysis of guided apps; guidedness", ["meta-analysis", "guided"], ["apps"])
    assert spans == [(2, 15, "include"), (19, 25, "include"), (26, 30, "exclude")]
