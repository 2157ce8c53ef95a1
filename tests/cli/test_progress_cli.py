"""Progress of long work (issue 11): the engine reports steps through :mod:`metareview.progress` (no
rich import in engine modules), the CLI draws them as a rich bar with count, rate and time left, and
``--quiet`` / ``--json`` give scripts no progress output (``--json``: one JSON object on stdout)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from metareview import progress
from metareview.progress import Step, reporting, track

SRC = Path(__file__).resolve().parents[2] / "src"


def _ris(n: int) -> str:
    record = "TY  - JOUR\nTI  - Trial number {} of guided therapy\nPY  - 2020\nER  - \n\n"
    return "".join(record.format(i) for i in range(n))


@pytest.fixture
def every_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "MIN_INTERVAL", 0.0)


def test_tracker_reports_to_the_installed_hook(every_step: None) -> None:
    steps: list[Step] = []
    with reporting(steps.append), track("work", 10, "items") as bar:
        for i in range(1, 11):
            bar.update(i)
    assert steps[0] == Step("work", 0, 10, "items")
    assert [s.done for s in steps[1:-1]] == list(range(1, 11))
    assert steps[-1] == Step("work", 10, 10, "items", finished=True)
    track("outside", 3).update(1)  # no hook installed: nothing to call, nothing raised


def test_tracker_throttles_and_does_not_finish_a_failed_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "MIN_INTERVAL", 3600.0)
    steps: list[Step] = []
    with reporting(steps.append):
        with track("quick", 1000, "rows") as bar:
            for i in range(1000):
                bar.update(i)
        with pytest.raises(ValueError), track("broken", 5) as bar:
            raise ValueError("boom")
    assert [(s.task, s.done, s.finished) for s in steps] == [
        ("quick", 0, False),
        ("quick", 1000, True),
        ("broken", 0, False),
    ]


def test_import_reports_records_with_an_estimated_total(tmp_path: Path, every_step: None) -> None:
    from metareview.records.importer import import_file
    from metareview.review import Review

    review = Review.init(tmp_path / "rv")
    path = tmp_path / "search.ris"
    path.write_text(_ris(2000), encoding="utf-8")
    steps: list[Step] = []
    result = import_file(review, path, "X", progress=steps.append)
    assert result.added == 2000
    mine = [s for s in steps if s.task == "importing search.ris"]
    assert mine[-1] == Step("importing search.ris", 2000, 2000, "records", finished=True)
    middle = [s for s in mine if s.total is not None and not s.finished]
    assert middle and all(abs(s.total - 2000) <= 20 for s in middle if s.total)  # from the lines read
    review.close()


def test_dedup_reports_its_pair_comparisons(tmp_path: Path, every_step: None) -> None:
    from metareview.records.dedup import deduplicate
    from metareview.records.importer import import_file
    from metareview.review import Review

    review = Review.init(tmp_path / "rv")
    path = tmp_path / "a.ris"
    path.write_text(_ris(50) + _ris(50).replace("guided", "Guided"), encoding="utf-8")
    import_file(review, path, "X")
    steps: list[Step] = []
    with reporting(steps.append):
        result = deduplicate(review)
    finished = {s.task: s for s in steps if s.finished}
    pairs = finished["deduplicating: comparing candidate pairs"]
    assert pairs.unit == "pairs" and pairs.done == pairs.total and pairs.total >= 50
    assert result.records == 100 and result.uncertain_added + result.duplicates == 50
    review.close()


def test_embedding_reports_texts_embedded(monkeypatch: pytest.MonkeyPatch, every_step: None) -> None:
    import numpy as np

    from metareview.screening import models

    class FakeEncoder:  # stands in for the optional sentence-transformers model
        def encode(self, texts: list[str], **_: object) -> np.ndarray:
            return np.ones((len(texts), 3), dtype=np.float32)

    monkeypatch.setattr(models.EmbeddingFeatures, "_load", lambda self: FakeEncoder())
    features = models.EmbeddingFeatures(batch_size=8)  # slices of 8 * 64 = 512 texts
    steps: list[Step] = []
    with reporting(steps.append):
        X = features.fit_transform([f"text {i}" for i in range(1200)])
    assert X.shape == (1200, 3)
    assert [s.done for s in steps] == [0, 512, 1024, 1200, 1200]  # start, each slice, finished
    assert {s.total for s in steps} == {1200}
    assert steps[-1].finished and steps[-1].unit == "texts"


def test_engine_modules_import_no_rich() -> None:
    # the display belongs to the interfaces: no module outside metareview/cli imports rich (scikit-learn
    # may import it on its own; what matters is that the engine's progress goes through the hook)
    import ast

    offenders = []
    for path in (SRC / "metareview").rglob("*.py"):
        if "cli" in path.relative_to(SRC / "metareview").parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )
            if any(n == "rich" or n.startswith("rich.") for n in names):
                offenders.append(f"{path}:{node.lineno}")
    assert offenders == []


def test_rich_display_shows_count_rate_and_time_left() -> None:
    from rich.console import Console

    from metareview.cli._progress import RichProgress

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=140, color_system=None)
    with RichProgress(console, transient=False) as hook:
        hook(Step("importing big.ris", 0, 10_000, "records"))
        hook.bar.tasks[0].start_time = hook.bar.get_time() - 2.0  # two seconds in, so a rate exists
        for done in (1000, 2000, 4000):
            hook(Step("importing big.ris", done, 10_000, "records"))
        hook(Step("embedding texts", 5, None, "texts"))
    text = buffer.getvalue()
    assert "importing big.ris" in text and "4,000/10,000 records" in text
    assert "records/s" in text
    assert "embedding texts" in text and "5 texts" in text


def _cli(args: list[str], tty: bool) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("METAREVIEW_DB", None)
    if tty:
        env["TTY_COMPATIBLE"] = "1"  # rich draws as on a terminal
    else:
        env.pop("TTY_COMPATIBLE", None)
    return subprocess.run(
        [sys.executable, "-c", "from metareview.cli import main; main()", *args],
        capture_output=True, text=True, env=env, timeout=300,
    )


def test_cli_bar_on_a_terminal_and_none_with_quiet_or_json(tmp_path: Path) -> None:
    review = str(tmp_path / "rv")
    assert _cli(["init", review], tty=False).returncode == 0
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.ris").write_text(_ris(300).replace("Trial", f"Trial {name}"), encoding="utf-8")
    shown = _cli(["import", str(tmp_path / "a.ris"), "--database", "X", "--review", review], tty=True)
    assert shown.returncode == 0 and "importing a.ris" in shown.stderr
    quiet = _cli(["import", str(tmp_path / "b.ris"), "--database", "X", "--review", review, "-q"], tty=True)
    assert quiet.returncode == 0 and quiet.stderr == "" and "300 added" in quiet.stdout
    as_json = _cli(
        ["import", str(tmp_path / "c.ris"), "--database", "X", "--review", review, "--json"], tty=True
    )
    assert as_json.returncode == 0 and as_json.stderr == ""
    assert json.loads(as_json.stdout)["added"] == 300  # the whole of stdout is one JSON object
    dedup = _cli(["dedup", "--review", review, "--json"], tty=True)
    assert dedup.stderr == "" and json.loads(dedup.stdout)["records"] == 900
