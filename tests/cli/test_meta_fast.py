"""The fast path of ``metareview meta --json`` (C csv reader, column-wise JSON) against the row-by-row
path it replaced: same numbers, byte-identical JSON, and the same errors naming file, line and column."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from metareview.cli import main
from metareview.errors import InputError
from metareview.tables import _read_exact, _read_fast, meta_record, meta_table, read_effect_table


def _write(path: Path, groups: int, k: int = 4, seed: int = 3, quoted: bool = True) -> Path:
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.3, groups * k)
    yi = rng.normal(0.2, 0.3, groups).repeat(k) + rng.normal(0, np.sqrt(vi))
    with path.open("w") as fh:
        fh.write("study,g,yi,vi\n")
        for i in range(groups * k):
            # some groups of one study (k=1: nulls), names with spaces, quotes and non-ASCII
            g = f'"grp ""{i // k}"" é"' if quoted and (i // k) % 7 == 0 else f"g{i // k}"
            fh.write(f"s{i},{g},{float(yi[i])!r},{vi[i]:.5g}\n")
        fh.write("lone,solo,0.5,0.04\n")
    return path


def _old_json(path: Path, **kw: str) -> str:
    """What the command printed before the fast path: one MetaResult per group through json.dumps."""
    records = [meta_record(res, group) for group, res in meta_table(path, yi="yi", vi="vi", **kw)]
    return json.dumps(records if kw.get("by") else records[0], indent=2, allow_nan=False)


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    monkeypatch.setattr(sys, "argv", ["metareview", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code in (0, None)
    return capsys.readouterr().out


@pytest.mark.parametrize("method", ["REML", "DL", "EE"])
def test_fast_json_is_byte_identical_to_the_old_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], method: str
) -> None:
    path = _write(tmp_path / "effects.csv", 400)
    out = _cli(
        monkeypatch,
        capsys,
        "meta",
        str(path),
        "--yi",
        "yi",
        "--vi",
        "vi",
        "--by",
        "g",
        "--method",
        method,
        "--test",
        "knha",
        "--pi",
        "t",
        "--json",
    )
    assert out == _old_json(path, by="g", method=method, test="knha", pi="t") + "\n"
    parsed = json.loads(out)
    assert len(parsed) == 401 and any(rec["group"] == 'grp "7" é' for rec in parsed)
    assert any(rec["pi_lower"] is None for rec in parsed)  # the k=1 group writes null


def test_fast_json_without_by_is_the_old_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path / "effects.csv", 5)
    out = _cli(monkeypatch, capsys, "meta", str(path), "--yi", "yi", "--vi", "vi", "--json")
    assert out == _old_json(path) + "\n"


@pytest.mark.parametrize("quoted", [True, False])  # the csv module's reader / plain split at commas
def test_fast_reader_gives_the_exact_readers_values(tmp_path: Path, quoted: bool) -> None:
    path = _write(tmp_path / "effects.csv", 300, quoted=quoted)
    fast = _read_fast(path, "yi", "vi", "g", squared=False)
    exact = _read_exact(path, yi="yi", vi="vi", by="g")
    assert fast is not None
    assert fast.yi.tobytes() == exact.yi.tobytes() and fast.vi.tobytes() == exact.vi.tobytes()
    assert fast.groups == exact.groups and fast.lines == exact.lines
    sei_fast = _read_fast(path, "yi", "vi", "g", squared=True)
    sei_exact = _read_exact(path, yi="yi", sei="vi", by="g")
    assert sei_fast is not None and sei_fast.vi.tobytes() == sei_exact.vi.tobytes()


@pytest.mark.parametrize(
    ("cell", "line", "column", "message"),
    [
        ("abc", 702, "vi", "not a number"),
        ("NA", 702, "vi", "missing value"),
        ("-0.1", 702, "vi", "must be > 0"),
    ],
)
def test_a_bad_cell_deep_in_a_large_file_is_named(
    tmp_path: Path, cell: str, line: int, column: str, message: str
) -> None:
    path = _write(tmp_path / "effects.csv", 300)
    lines = path.read_text().splitlines(keepends=True)
    parts = lines[line - 1].split(",")
    parts[3] = cell + "\n"
    lines[line - 1] = ",".join(parts)
    path.write_text("".join(lines))
    assert _read_fast(path, "yi", "vi", "g", squared=False) is None
    with pytest.raises(InputError) as err:
        read_effect_table(path, yi="yi", vi="vi", by="g")
    assert err.value.line == line and err.value.field == column and message in err.value.message


def test_a_quoted_line_break_keeps_file_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "effects.csv"
    path.write_text('g,yi,vi,note\na,0.1,0.01,"two\nlines"\na,0.2,0.02,x\nb,0.3,bad,x\n')
    assert _read_fast(path, "yi", "vi", "g", squared=False) is None
    with pytest.raises(InputError) as err:
        read_effect_table(path, yi="yi", vi="vi", by="g")
    assert err.value.line == 5 and err.value.field == "vi"


def test_plain_file_with_rows_ragged_both_ways_falls_back(tmp_path: Path) -> None:
    path = tmp_path / "effects.csv"
    path.write_text("g,yi,vi\na,0.1,0.01,extra\na,0.2\nb,0.3,0.02\n")  # as many commas in all as 3 rows
    assert _read_fast(path, "yi", "vi", "g", squared=False) is None
    with pytest.raises(InputError) as err:
        read_effect_table(path, yi="yi", vi="vi", by="g")
    assert err.value.line == 3 and err.value.field == "vi"


def test_plain_file_with_a_blank_line_falls_back(tmp_path: Path) -> None:
    path = tmp_path / "effects.csv"
    path.write_text("g,yi,vi\na,0.1,0.01\n\na,0.2,0.02\nb,0.3,x\n")
    assert _read_fast(path, "yi", "vi", "g", squared=False) is None
    with pytest.raises(InputError) as err:
        read_effect_table(path, yi="yi", vi="vi", by="g")
    assert err.value.line == 5 and err.value.field == "vi"


def test_json_cells_of_repeated_values_are_json_dumps_text() -> None:
    from metareview.tables import _json_cells

    rng = np.random.default_rng(5)
    repeated = np.concatenate([np.zeros(500), np.full(300, 1.0), rng.normal(size=200), [np.nan, np.inf]])
    rng.shuffle(repeated)
    expected = [json.dumps(None if not np.isfinite(v) else float(v)) for v in repeated]
    assert _json_cells(repeated) == expected
    signed = np.array([0.0, -0.0, 0.0, 0.0, -0.0, 2.5, 2.5, 2.5])  # np.unique merges -0.0 with 0.0
    assert _json_cells(signed) == ["0.0", "-0.0", "0.0", "0.0", "-0.0", "2.5", "2.5", "2.5"]


def test_meta_json_imports_no_scipy_stats(tmp_path: Path) -> None:
    import os
    import subprocess

    path = _write(tmp_path / "effects.csv", 20, quoted=False)
    code = (
        "import sys\n"
        f"sys.argv = ['metareview', 'meta', {str(path)!r}, '--yi', 'yi', '--vi', 'vi', '--by', 'g', "
        "'--json']\n"
        "from metareview.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('LOADED=' + ','.join(sorted(m for m in sys.modules if m.startswith(('scipy.stats', "
        "'pandas', 'sklearn', 'matplotlib')))))\n"
    )
    src = Path(__file__).resolve().parents[2] / "src"
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(src)},
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["group"] == "g0"
    assert out.stderr.rsplit("LOADED=", 1)[1] == ""
