"""``metareview meta``: the exact JSON interface of issue 2 §3, the printed table, and bad input."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from metareview.cli import main
from metareview.errors import InputError
from metareview.stats import meta
from metareview.tables import RECORD_KEYS, read_effect_table

KEYS = [
    "k",
    "method",
    "test",
    "estimate",
    "se",
    "statistic",
    "pvalue",
    "ci_lower",
    "ci_upper",
    "tau2",
    "tau2_ci_lower",
    "tau2_ci_upper",
    "i2",
    "h2",
    "q",
    "q_df",
    "q_pvalue",
    "pi_lower",
    "pi_upper",
]
# dat.bcg log risk ratios and variances, rounded to 4 decimals (Colditz et al. 1994)
YI = [
    -0.8893,
    -1.5854,
    -1.3481,
    -1.4416,
    -0.2175,
    -0.7861,
    -1.6209,
    0.0120,
    -0.4694,
    -1.3713,
    -0.3394,
    0.4459,
    -0.0173,
]
VI = [0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069, 0.2230, 0.0040, 0.0564, 0.0730, 0.0124, 0.5325, 0.0714]
ALLOC = ["random"] * 4 + ["alternate"] * 2 + ["random"] * 3 + ["systematic"] * 4


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["metareview", *map(str, args)])
    with pytest.raises(SystemExit) as done:
        main()
    out = capsys.readouterr()
    return int(done.value.code or 0), out.out, " ".join(out.err.split())  # the console may wrap long errors


@pytest.fixture
def bcg_csv(tmp_path: Path) -> Path:
    path = tmp_path / "bcg.csv"
    rows = ["trial,yi,vi,sei,alloc"] + [
        f"{i + 1},{y},{v},{math.sqrt(v)},{a}" for i, (y, v, a) in enumerate(zip(YI, VI, ALLOC, strict=True))
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_json_has_exactly_the_issue_keys(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], bcg_csv: Path
) -> None:
    code, out, _ = run(
        monkeypatch,
        capsys,
        "meta",
        bcg_csv,
        "--yi",
        "yi",
        "--vi",
        "vi",
        "--method",
        "DL",
        "--test",
        "knha",
        "--pi",
        "t",
        "--level",
        "90",
        "--json",
    )
    assert code == 0
    record = json.loads(out)
    assert list(record)[: len(KEYS)] == KEYS == list(RECORD_KEYS)
    want = meta(YI, VI, method="DL", test="knha", pi="t", level=90)
    assert (record["k"], record["method"], record["test"]) == (13, "DL", "knha")
    for key in ("estimate", "se", "ci_lower", "tau2", "tau2_ci_upper", "i2", "q", "pi_lower"):
        assert record[key] == pytest.approx(getattr(want, key), abs=1e-12), key
    assert record["i2_q"] == pytest.approx(want.i2_q)  # an extra key


def test_by_gives_an_array_with_string_groups_and_nulls(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], bcg_csv: Path
) -> None:
    code, out, _ = run(
        monkeypatch, capsys, "meta", bcg_csv, "--yi", "yi", "--sei", "sei", "--by", "trial", "--json"
    )
    assert code == 0
    records = json.loads(out)
    assert [r["group"] for r in records] == sorted(str(i) for i in range(1, 14))  # labels as strings
    one = records[0]  # k = 1: undefined quantities are null
    assert one["k"] == 1 and one["tau2_ci_lower"] is None and one["q_df"] == 0
    code, out, _ = run(
        monkeypatch, capsys, "meta", bcg_csv, "--yi", "yi", "--vi", "vi", "--by", "alloc", "--json"
    )
    groups = json.loads(out)
    assert [(r["group"], r["k"]) for r in groups] == [("alternate", 2), ("random", 7), ("systematic", 4)]


def test_prints_a_metafor_like_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], bcg_csv: Path
) -> None:
    code, out, _ = run(monkeypatch, capsys, "meta", bcg_csv, "--yi", "yi", "--vi", "vi")
    assert code == 0
    assert "Random-Effects Model (k = 13; tau^2 estimator: REML)" in out
    assert "Test for Heterogeneity:" in out and "prediction interval" in out
    code, out, _ = run(monkeypatch, capsys, "meta", bcg_csv, "--yi", "yi", "--vi", "vi", "--by", "alloc")
    assert out.count("Random-Effects Model") == 3 and "=== alloc = systematic ===" in out


@pytest.mark.parametrize(
    ("content", "args", "line", "column"),
    [
        ("yi,vi\n0.1,0.01\n0.2,abc\n", ["--vi", "vi"], 3, "vi"),
        ("yi,vi\n0.1,0.01\n0.2,-0.5\n", ["--vi", "vi"], 3, "vi"),
        ("yi,vi\n0.1,0.01\nNA,0.02\n", ["--vi", "vi"], 3, "yi"),
        ("yi,se\n0.1,0.01\n0.2,0\n", ["--sei", "se"], 3, "se"),
        ("yi,vi\n0.1,0.01\n", ["--vi", "variance"], 1, "variance"),
        ("yi,vi,g\n0.1,0.01,a\n0.2,0.02,\n", ["--vi", "vi", "--by", "g"], 3, "g"),
    ],
)
def test_bad_input_names_file_row_and_column(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    content: str,
    args: list[str],
    line: int,
    column: str,
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, out, err = run(monkeypatch, capsys, "meta", path, "--yi", "yi", *args, "--json")
    assert code == 2 and out == ""
    assert str(path) in err and f"line {line}" in err and f"field '{column}'" in err
    with pytest.raises(InputError) as exc:
        read_effect_table(path, yi="yi", **_kwargs(args))
    assert (exc.value.line, exc.value.field) == (line, column)


def _kwargs(args: list[str]) -> dict[str, str]:
    return {args[i].lstrip("-"): args[i + 1] for i in range(0, len(args), 2)}


def test_bad_options_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], bcg_csv: Path
) -> None:
    code, _, err = run(monkeypatch, capsys, "meta", bcg_csv, "--yi", "yi", "--vi", "vi", "--method", "XX")
    assert code == 2 and "--method" in err and "unknown method" in err
    code, _, err = run(monkeypatch, capsys, "meta", bcg_csv, "--yi", "yi", "--vi", "vi", "--sei", "sei")
    assert code == 2 and "exactly one" in err
    code, _, err = run(monkeypatch, capsys, "meta", bcg_csv.with_name("none.csv"), "--yi", "yi", "--vi", "vi")
    assert code == 2 and "not found" in err
