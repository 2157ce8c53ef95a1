"""Report versions and ``metareview report --diff vN`` (issue 12): new studies, pooled estimates before
and after, credibility classes / GRADE levels that moved and why."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from metareview.cli import app
from metareview.errors import InputError
from metareview.report.review_report import read_effects
from metareview.report.versions import (
    _effects_results,
    diff_snapshots,
    parse_version,
    snapshot,
)
from metareview.review import Review


def _effects(tmp: Path, name: str, big: int = 0) -> Path:
    """Depression, guided vs unguided: 4 small trials per arm, plus ``big`` large guided trials."""
    rows = []
    for g, base in (("guided", 0.35), ("unguided", 0.15)):
        for i in range(4):
            rows.append(
                {
                    "outcome": "depression",
                    "trial": f"{g}-{i}",
                    "guidance": g,
                    "yi": base + 0.1 * (i - 1.5),
                    "vi": 0.05 + 0.01 * i,
                    "n_arm1": 30,
                    "n_arm2": 30,
                }
            )
    for i in range(big):
        rows.append(
            {
                "outcome": "depression",
                "trial": f"big-{i}",
                "guidance": "guided",
                "yi": 0.45 + 0.02 * i,
                "vi": 0.004 + 0.0005 * i,
                "n_arm1": 500,
                "n_arm2": 500,
            }
        )
    path = tmp / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _snap(path: Path) -> dict:
    pooled, assessed = _effects_results(read_effects(path))
    return snapshot(
        trials=read_effects(path)["trial"],
        pooled=pooled,
        assessments=assessed,
        meta_analyses=["Smith 2020"] if "2" in path.name else [],
    )


def test_diff_names_new_trials_estimates_and_why_a_class_moved(tmp_path: Path) -> None:
    old, new = _snap(_effects(tmp_path, "e1.csv")), _snap(_effects(tmp_path, "e2.csv", big=4))
    d = diff_snapshots(old, new, since=1)
    assert d.new_trials == [f"big-{i}" for i in range(4)] and d.new_meta_analyses == ["Smith 2020"]
    guided = next(e for e in d.estimates if e.finding == "depression, guided")
    f_old, f_new = old["findings"]["depression, guided"], new["findings"]["depression, guided"]
    assert guided.before == (f_old["estimate"], f_old["ci_lower"], f_old["ci_upper"])
    assert guided.after == (f_new["estimate"], f_new["ci_lower"], f_new["ci_upper"])
    assert (guided.k_before, guided.k_after) == (4, 8) and guided.trials_added == [
        f"big-{i}" for i in range(4)
    ]
    unguided = next(e for e in d.estimates if e.finding == "depression, unguided")
    assert unguided.before == unguided.after and not unguided.trials_added
    # 4 trials of 60 participants: fewer than 1000 "cases"; with 4000 more participants the criterion holds
    assert f_old["criteria"]["cases"] is False and f_new["criteria"]["cases"] is True
    moved = [c for c in d.levels if c.finding == "depression, guided" and c.kind == "credibility class"]
    assert len(moved) == 1 and moved[0].before == f_old["class"] and moved[0].after == f_new["class"]
    assert any("criterion cases not met -> met" in w for w in moved[0].why)
    text = str(d)
    assert "since report version v1" in text and "big-0" in text and "credibility class" in text
    assert not any(c.finding == "depression, unguided" for c in d.levels)
    assert diff_snapshots(new, new, 2).lines() == ["nothing changed"]


def test_parse_version() -> None:
    assert parse_version("v3") == 3 and parse_version("2") == 2 and parse_version(4) == 4
    with pytest.raises(InputError, match="vN"):
        parse_version("latest")


def test_report_keeps_versions_and_diffs(tmp_path: Path) -> None:
    rv = tmp_path / "rv"
    Review.init(rv).close()
    e1, e2 = _effects(tmp_path, "e1.csv"), _effects(tmp_path, "e2.csv", big=4)
    out = tmp_path / "out"
    first = CliRunner().invoke(app, ["report", "--review", str(rv), "--effects", str(e1), "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert "report version: v1" in first.output
    missing = CliRunner().invoke(
        app, ["report", "--review", str(rv), "--effects", str(e2), "--out", str(out), "--diff", "v7"]
    )
    assert missing.exit_code != 0
    second = CliRunner().invoke(
        app, ["report", "--review", str(rv), "--effects", str(e2), "--out", str(out), "--diff", "v1"]
    )
    assert second.exit_code == 0, second.output
    assert "4 new trials" in second.output and "report version: v2" in second.output
    html = (out / "changes" / "report.html").read_text()
    assert "What changed since version v1" in html and "big-3" in html
