"""Structure-aware fuzzing (issue 8): truncations inside the last record and removed record
separators must be reported, never imported as a cut or merged record. Bounded for CI."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from samples import MEDLINE, RIS

from metareview.errors import InputError
from metareview.records.importer import read_records

BUDGET = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _outcome(path: Path, text: str) -> list[str] | InputError:
    path.write_text(text, encoding="utf-8")
    try:
        return [r.title for r in read_records(path)]
    except InputError as err:
        return err


@BUDGET
@given(data=st.data())
def test_ris_cut_inside_the_last_record_is_refused(tmp_path: Path, data: st.DataObject) -> None:
    start = RIS.rindex("TY  -") + 1
    end = RIS.rindex("ER  -")
    cut = data.draw(st.integers(start, end))
    assert isinstance(_outcome(tmp_path / "cut.ris", RIS[:cut]), InputError)


@BUDGET
@given(data=st.data())
def test_medline_cut_inside_a_line_is_refused(tmp_path: Path, data: st.DataObject) -> None:
    ends = {i for i, c in enumerate(MEDLINE) if c == "\n"}
    cut = data.draw(st.integers(1, len(MEDLINE) - 2).filter(lambda i: i not in ends and i - 1 not in ends))
    outcome = _outcome(tmp_path / "cut.nbib", MEDLINE[:cut])
    assert isinstance(outcome, InputError), (cut, outcome)


@pytest.mark.parametrize("separator", ["\n\n", "\n"])
def test_medline_records_run_together_are_refused(tmp_path: Path, separator: str) -> None:
    text = MEDLINE.replace("\n\nPMID- 31000002", separator.replace("\n\n", "\n") + "PMID- 31000002")
    assert isinstance(_outcome(tmp_path / "merged.nbib", text), InputError)


@BUDGET
@given(rows=st.lists(st.integers(0, 2), min_size=1, max_size=6))
def test_csv_short_rows_are_refused(tmp_path: Path, rows: list[int]) -> None:
    header = "Title,Year,DOI"
    body = [",".join(["T", "2001", "10.1/x"][: 3 - missing]) for missing in rows]
    outcome = _outcome(tmp_path / "short.csv", "\n".join([header, *body]) + "\n")
    if any(rows):
        assert isinstance(outcome, InputError)
    else:
        assert outcome == ["T"] * len(rows)
