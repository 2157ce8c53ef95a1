"""The ``extract`` and ``studies`` commands: thin over the engine (import as one's own extraction,
compare blind, consensus by argument or file, agreement, status; link reports to a study)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from dualfixtures import ESTIMATE, make_review
from typer.testing import CliRunner

from metareview.cli import app
from metareview.errors import InputError

runner = CliRunner()


def _forms(folder: Path, estimate: float, study: str) -> Path:
    folder.mkdir()
    pd.DataFrame([{"id": "brewin2000", "citation": "Brewin CR et al. 2000", "country": "UK"}]).to_csv(
        folder / "reports.csv", index=False)
    pd.DataFrame([{"report_id": "brewin2000", "outcome_domain": "ptsd", "comparison": "exposed vs not",
                   "measure": "OR", "estimate": estimate, "ci_lower": 0.1, "ci_upper": 20,
                   "design": "prospective", "adjusted": "yes"}]).to_csv(folder / "effect_sizes.csv",
                                                                        index=False)
    pd.DataFrame([{"report_id": "brewin2000", "label": study}]).to_csv(folder / "primary_studies.csv",
                                                                      index=False)
    return folder


def _ok(args: list[str]) -> str:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, (res.output, res.exception)
    return res.output


def _fails(args: list[str]) -> str:
    res = runner.invoke(app, args)
    assert res.exit_code != 0 and isinstance(res.exception, InputError), res.output
    return str(res.exception)


def test_dual_extraction_from_the_command_line(tmp_path: Path) -> None:
    rv = tmp_path / "rv"
    make_review(rv).close()
    out = _ok(["extract", "template", str(tmp_path / "t.xlsx"), "--review", str(rv)])
    assert "wrote" in out
    ana, ben = _forms(tmp_path / "ana", 2.0, "Smith 1995"), _forms(tmp_path / "ben", 2.4, "Smith 1995")
    msg = _fails(["extract", "import", str(ana), "--review", str(rv)])
    assert "give the extractor's name" in msg
    out = _ok(["extract", "import", str(ana), "--review", str(rv), "--extractor", "ana"])
    assert "stored 1 reports, 1 effect sizes, 1 primary studies as ana's extraction" in out
    assert "once its 2 extractors have submitted (1 of 2" in _fails(
        ["extract", "compare", "brewin2000", "--reviewer", "ben", "--review", str(rv)])
    assert "no report to compare yet" in _ok(["extract", "compare", "--reviewer", "ben", "--review", str(rv)])
    _ok(["extract", "import", str(ben), "--review", str(rv), "--extractor", "ben", "--draft"])
    status = json.loads(_ok(["extract", "status", "--reviewer", "ben", "--review", str(rv), "--json"]))
    assert (status[0]["mine"], status[0]["submitted"], status[0]["extractors"]) == ("draft", 1, [])
    _ok(["extract", "submit", "brewin2000", "--extractor", "ben", "--review", str(rv)])
    out = _ok(["extract", "compare", "--reviewer", "olga", "--review", str(rv)])
    assert f"{ESTIMATE}  ana: 2.0  |  ben: 2.4  -> OPEN" in out
    data = json.loads(_ok(["extract", "compare", "brewin2000", "--reviewer", "olga", "--all", "--json",
                           "--review", str(rv)]))
    assert data[0]["open_fields"] == 1 and len(data[0]["rows"]) > 5
    agreement = json.loads(_ok(["extract", "agreement", "--review", str(rv), "--json"]))
    by = {f["field"]: f for f in agreement["fields"]}
    assert agreement["reports"] == 1 and by["effect.estimate"]["agreed"] == 0
    assert by["effect.design"]["agreed"] == 1
    out = _ok(["extract", "consensus", "brewin2000", ESTIMATE, "--take", "ana", "--reviewer", "olga",
               "--review", str(rv)])
    assert "agreed" in out and "consensus by olga" in out
    assert "record a correction" in _fails(["extract", "consensus", "brewin2000", ESTIMATE, "2.4",
                                            "--reviewer", "olga", "--review", str(rv)])
    fix = tmp_path / "fix.csv"
    fix.write_text(f'report_id,field,value,correct,note\nbrewin2000,"{ESTIMATE}",2.2,yes,table 3\n',
                   encoding="utf-8")
    assert "recorded 1 consensus value(s)" in _ok(["extract", "consensus", "--file", str(fix), "--reviewer",
                                                   "olga", "--review", str(rv)])
    out = _ok(["votes", "--review", str(rv), "--by", "design", "--json"])
    assert json.loads(out)["tables"][0]["rows"][0]["level"] == "prospective"


def test_one_extractor_import_is_unchanged(tmp_path: Path) -> None:
    rv = tmp_path / "rv"
    make_review(rv, n=1).close()
    forms = _forms(tmp_path / "f", 2.0, "Smith 1995")
    assert "stored 1 reports" in _ok(["extract", "import", str(forms), "--review", str(rv)])
    assert "already stored" in _fails(["extract", "import", str(forms), "--review", str(rv)])
    _ok(["extract", "import", str(forms), "--review", str(rv), "--replace", "--extractor", "ana"])
    assert "nothing to compare" in _fails(["extract", "compare", "--reviewer", "ana", "--review", str(rv)])


def test_studies_link_unlink_list(tmp_path: Path) -> None:
    from metareview.records.model import Record
    from metareview.store import records_repo

    rv = tmp_path / "rv"
    review = make_review(rv)
    with review.session() as s:
        search = records_repo.add_search(s, database="MEDLINE", file_name="r.ris", file_hash="h",
                                         file_format="ris")
        records_repo.insert_records(s, search.id, 0, [Record(title=f"Paper {i}") for i in range(3)])
        records_repo.finish_search(s, search, 3)
    review.close()
    assert "linked 2 record(s) to 'brewin2000'" in _ok(
        ["studies", "link", "1", "2", "--study", "brewin2000", "--reviewer", "ana", "--review", str(rv)])
    listed = json.loads(_ok(["studies", "list", "--review", str(rv), "--json"]))
    assert listed == [{"name": "brewin2000", "record_ids": [1, 2], "linked": True}]
    assert "no record 9" in _fails(["studies", "link", "9", "--study", "x", "--reviewer", "ana",
                                    "--review", str(rv)])
    assert "unlinked 1 record(s)" in _ok(["studies", "unlink", "2", "--reviewer", "ana", "--review", str(rv)])
    assert "is not linked" in _fails(["studies", "unlink", "3", "--reviewer", "ana", "--review", str(rv)])
    assert "brewin2000: record(s) 1" in _ok(["studies", "list", "--review", str(rv)])


@pytest.mark.parametrize("args", [["extract", "--help"], ["studies", "--help"]])
def test_help_lists_the_commands(args: list[str]) -> None:
    out = _ok(args)
    assert ("consensus" in out and "agreement" in out) or ("link" in out and "unlink" in out)
