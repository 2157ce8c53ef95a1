"""Report versions keep every GRADE domain (metaumbrella's six) and the rating the report shows: the review's
own appraisals, with the domains not assessed; a diff names the domains that moved."""

from __future__ import annotations

from types import SimpleNamespace as NS


def _findings() -> object:
    from metareview.report.config import ReportConfig
    from metareview.report.findings import build_findings

    def record(i: int) -> NS:
        est, half = (0.3, 0.1, 0.5, 0.2, 0.45, 0.35)[i], 0.25 + 0.03 * i
        return NS(report_id="r", measure="SMD", estimate=est, ci_lower=est - half, ci_upper=est + half, n=100,
                  value=lambda name, i=i: {"comparison": "x", "study": f"S{i}", "n_cases": 50,
                                           "n_controls": 50}.get(name))

    config = ReportConfig.model_validate({"findings": {"name": ["comparison"], "study": "study"}})
    return build_findings([record(i) for i in range(6)], config)


def test_snapshot_keeps_every_domain_and_the_reports_rating() -> None:
    from metareview.report.versions import diff_snapshots, snapshot
    from metareview.synthesis.grade import DOMAINS

    fs = _findings()
    f = fs.findings[0]  # type: ignore[attr-defined]
    own = snapshot(assessments=fs.assessments, grades={f.name: f.grade})  # type: ignore[attr-defined]
    entry = own["findings"]["x"]
    assert list(entry["downgrades"]) == list(DOMAINS) == ["risk_of_bias", "inconsistency", "indirectness",
                                                          "imprecision", "publication_bias", "small_k"]
    assert entry["grade"] == f.grade.level
    # no RoB forms and no indirectness field: not assessed, not downgraded for
    assert entry["not_assessed"] == ["risk_of_bias", "indirectness"]
    assert entry["downgrades"]["risk_of_bias"] == entry["downgrades"]["indirectness"] == 0
    # without the report's rating a finding is rated by metaumbrella's rules, which assume the worst (-2 each)
    mu = snapshot(assessments=fs.assessments)  # type: ignore[attr-defined]
    down = mu["findings"]["x"]["downgrades"]
    assert down["risk_of_bias"] == down["indirectness"] == 2
    moved = [c for c in diff_snapshots(mu, own, 1).levels if c.kind == "GRADE"]
    assert len(moved) == 1 and "indirectness downgrade -2 -> -0" in moved[0].why
    assert "risk of bias not assessed now (not downgraded for)" in moved[0].why
    # a version written before every domain was kept (four domains) says what it did not record
    old = {**mu, "findings": {"x": {**mu["findings"]["x"], "grade": "low", "downgrades": {
        k: mu["findings"]["x"]["downgrades"][k] for k in ("risk_of_bias", "inconsistency", "imprecision",
                                                          "publication_bias")}}}}
    del old["findings"]["x"]["not_assessed"]
    why = next(c for c in diff_snapshots(old, own, 1).levels if c.kind == "GRADE").why
    assert "indirectness downgrade not recorded -> -0" in why
