"""Forms defined by the protocol: declarations, the JSON API, orphaned values refused or migrated, and
migration 0007 moving the old hard-coded columns into the generic field-value table."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from metareview.cli import app
from metareview.errors import InputError
from metareview.extraction.forms import EffectSizeRecord, MetaAnalysisReport
from metareview.extraction.schema import bundle_from_dict, effect_size_from_dict, form_schema, orphans
from metareview.extraction.templates import ExtractionBundle
from metareview.protocol import Protocol
from metareview.review import Review
from metareview.store.extraction_repo import load_bundle, save_bundle

TOML = """title = "PTSD risk factors"
outcome_domains = ["PTSD"]
[[moderators]]
name = "design"
type = "categorical"
levels = ["prospective", "cross_sectional"]
required = true
[[moderators]]
name = "adjusted"
type = "yes/no"
[[extraction.effect_fields]]
name = "mean_age"
type = "numeric"
"""
EFFECT = dict(report_id="a", outcome_domain="PTSD", comparison="female vs male", measure="OR", estimate=1.8,
              ci_lower=1.2, ci_upper=2.7)


def test_declaration_errors_name_line_and_key() -> None:
    bad = TOML.replace('levels = ["prospective", "cross_sectional"]\n', "")
    with pytest.raises(InputError, match="needs its levels") as info:
        Protocol.from_toml(bad)
    assert info.value.field == "moderators.0"
    with pytest.raises(InputError, match="built-in column"):
        Protocol.from_toml(TOML.replace('name = "mean_age"', 'name = "estimate"'))
    with pytest.raises(InputError, match="type"):
        Protocol.from_toml(TOML.replace('type = "numeric"', 'type = "date"'))
    # bare names are still read (free-text, optional)
    assert Protocol.from_toml('title = "t"\nmoderators = ["setting"]').moderators[0].type == "text"


def test_json_api_checks_the_declared_fields() -> None:
    proto = Protocol.from_toml(TOML)
    schema = form_schema(proto)
    design = next(f for f in schema["effect_sizes"] if f["name"] == "design")
    assert design == {"name": "design", "label": "Design", "type": "categorical",
                      "levels": ["prospective", "cross_sectional"], "required": True,
                      "help": "prospective | cross_sectional", "role": "moderator"}
    es = effect_size_from_dict(EFFECT | {"design": "prospective", "adjusted": "no", "mean_age": "34.5"},
                               proto)
    assert es.fields == {"design": "prospective", "adjusted": False, "mean_age": 34.5}
    with pytest.raises(InputError, match="design is required") as info:
        effect_size_from_dict(EFFECT, proto)
    assert info.value.field == "design"
    with pytest.raises(InputError, match="not a field of an effect size declared") as info:
        effect_size_from_dict(EFFECT | {"design": "prospective", "sample": "x"}, proto)
    assert info.value.field == "sample"
    bundle = ExtractionBundle((MetaAnalysisReport(id="a", citation="A 2019"),), (es,), ())
    again = bundle_from_dict(bundle.to_dict(), proto)
    assert again.effect_sizes == bundle.effect_sizes and again.reports == bundle.reports


def test_orphans_of_a_changed_protocol() -> None:
    es = EffectSizeRecord(**EFFECT, fields={"design": "prospective", "adjusted": True})
    bundle = ExtractionBundle((), (es,), ())
    assert orphans(bundle, Protocol.from_toml(TOML)) == []
    changed = Protocol.from_toml(TOML.replace('"prospective", ', '"cohort", ').replace('"adjusted"', '"adj"'))
    found = {(o.field, o.reason.split(" ")[0]) for o in orphans(bundle, changed)}
    assert found == {("design", "level"), ("adjusted", "field")}


def _review(tmp: Path, toml: str) -> Path:
    folder = tmp / "rev"
    folder.mkdir()
    (folder / "protocol.toml").write_text(toml, encoding="utf-8")
    rv = Review.open(folder)
    with rv.session() as s:
        save_bundle(s, ExtractionBundle(
            (MetaAnalysisReport(id="a", citation="A 2019"),),
            (EffectSizeRecord(**EFFECT, fields={"design": "prospective", "adjusted": True}),), ()))
    rv.close()
    return folder


def test_a_change_that_orphans_data_is_refused_until_migrated(tmp_path: Path) -> None:
    folder = _review(tmp_path, TOML)
    runner = CliRunner()
    assert runner.invoke(app, ["protocol", "check", "--review", str(folder)]).exit_code == 0
    # the level 'prospective' is renamed 'cohort' and the field 'adjusted' renamed 'adjusted_estimate'
    (folder / "protocol.toml").write_text(
        TOML.replace('"prospective", ', '"cohort", ').replace('"adjusted"', '"adjusted_estimate"'),
        encoding="utf-8")
    res = runner.invoke(app, ["protocol", "check", "--review", str(folder)])
    assert res.exit_code == 1
    assert "design = 'prospective' (level not among cohort, cross_sectional)" in res.output
    res = runner.invoke(app, ["report", "--review", str(folder)])
    assert res.exit_code != 0 and "would orphan 2 extracted value(s)" in str(res.exception)
    assert "metareview protocol migrate" in str(res.exception)
    # a partial migration still leaves an orphan: refused, nothing changed
    res = runner.invoke(app, ["protocol", "migrate", "--review", str(folder),
                              "--rename-level", "design:prospective=cohort"])
    assert res.exit_code != 0 and "adjusted" in str(res.exception)
    rv = Review.open(folder)
    with rv.session() as s:
        assert load_bundle(s).effect_sizes[0].fields["design"] == "prospective"
    rv.close()
    res = runner.invoke(app, ["protocol", "migrate", "--review", str(folder), "--rename-field",
                              "adjusted=adjusted_estimate", "--rename-level", "design:prospective=cohort"])
    assert res.exit_code == 0, res.output
    assert "renamed fields: 1, renamed levels: 1" in res.output
    rv = Review.open(folder)
    with rv.session() as s:
        assert load_bundle(s).effect_sizes[0].fields == {"design": "cohort", "adjusted_estimate": True}
    rv.close()
    res = runner.invoke(app, ["report", "--review", str(folder), "--by", "design"])
    assert res.exit_code == 0, res.output
    html = (folder / "report" / "report.html").read_text(encoding="utf-8")
    assert "outcome domain by design" in html
    # Methods say what ran (the vote count by the declared moderators), nothing of a re-pooling that did not
    assert "by outcome domain, design, adjusted" in html and "three-level" not in html
    assert "<th>Design</th>" in html or ">Design<" in html  # the evidence map's rows are the moderator


def test_votes_from_a_review_by_a_declared_moderator(tmp_path: Path) -> None:
    folder = _review(tmp_path, TOML)
    res = CliRunner().invoke(app, ["votes", "--review", str(folder), "--by", "adjusted", "--json"])
    assert res.exit_code == 0, res.output
    assert '"level": "yes"' in res.output
    res = CliRunner().invoke(app, ["votes", "--review", str(folder), "--by", "sample"])
    assert res.exit_code != 0 and "not a declared moderator" in str(res.exception)


def test_migration_0007_moves_the_old_columns(tmp_path: Path) -> None:
    from metareview.store.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    upgrade(engine, "0003_extraction")
    with engine.begin() as con:
        con.execute(sa.text("INSERT INTO ma_reports (id, key, citation, databases, created_at) "
                            "VALUES (1, 'a', 'A 2019', '[]', '2024-01-01')"))
        con.execute(sa.text(
            "INSERT INTO effect_sizes (id, report_id, outcome_domain, comparison, sample, support_provider, "
            "rct_quality, measure, estimate, p, higher_favours) VALUES "
            "(1, 1, 'stress', 'g vs u', 'unrestricted', 'lay', NULL, 'SMD', 0.3, 0.01, 1)"))
    upgrade(engine)
    with engine.connect() as con:
        rows = con.execute(sa.text(
            "SELECT effect_size_id, field, value FROM extraction_values ORDER BY id")).all()
        cols = {c["name"] for c in sa.inspect(con).get_columns("effect_sizes")}
    assert [(r[0], r[1]) for r in rows] == [(1, "sample"), (1, "support_provider")]
    assert "sample" not in cols and "estimate" in cols
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        assert load_bundle(s).effect_sizes[0].fields == {"sample": "unrestricted", "support_provider": "lay"}
    engine.dispose()


def test_migration_0007_downgrade_restores_the_columns(tmp_path: Path) -> None:
    from alembic import command

    from metareview.store.db import alembic_config, make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'new.sqlite'}")
    upgrade(engine)
    from sqlalchemy.orm import Session

    with Session(engine) as s, s.begin():
        save_bundle(s, ExtractionBundle((MetaAnalysisReport(id="a", citation="A"),), (EffectSizeRecord(
            report_id="a", outcome_domain="stress", comparison="c", measure="SMD", estimate=0.3, p=0.01,
            fields={"sample": "unrestricted", "support_provider": "lay"}),), ()))
    cfg = alembic_config()
    with engine.begin() as con:
        cfg.attributes["connection"] = con
        command.downgrade(cfg, "0003_extraction")
    with engine.connect() as con:
        row = con.execute(sa.text("SELECT sample, support_provider, rct_quality FROM effect_sizes")).one()
        assert "extraction_values" not in sa.inspect(con).get_table_names()
    assert tuple(row) == ("unrestricted", "lay", None)
    engine.dispose()
