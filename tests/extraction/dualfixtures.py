"""Shared helpers of the dual-extraction tests: a protocol with declared fields and two extractors per
report, and extractions built from a few numbers."""

from __future__ import annotations

from pathlib import Path

from metareview.extraction.forms import EffectSizeRecord, MetaAnalysisReport, PrimaryStudy
from metareview.extraction.snapshot import ReportExtraction
from metareview.review import Review

PROTOCOL = """
title = "Risk factors for PTSD: an umbrella review"
outcome_domains = ["ptsd", "depression"]

[[moderators]]
name = "design"
type = "categorical"
levels = ["prospective", "cross_sectional"]
required = true

[[extraction.effect_fields]]
name = "adjusted"
type = "yes/no"

[[extraction.report_fields]]
name = "country"
type = "text"

[extraction]
extractors_per_report = {n}
{roster}

[screening]
stages = ["title_abstract", "full_text"]
"""

ALL_YES = {i: "yes" for i in range(1, 17)}


def make_review(directory: Path, url: str | None = None, n: int = 2,
                roster: list[str] | None = None) -> Review:
    directory.mkdir(parents=True)
    extra = f"extractors = {roster!r}".replace("'", '"') if roster else ""
    (directory / "protocol.toml").write_text(PROTOCOL.format(n=n, roster=extra), encoding="utf-8")
    return Review.open(directory, url)


def effect(key: str, estimate: float, design: str = "prospective", domain: str = "ptsd",
           effect_id: str | None = None) -> EffectSizeRecord:
    return EffectSizeRecord(report_id=key, outcome_domain=domain, comparison="exposed vs not", measure="OR",
                            estimate=estimate, ci_lower=0.1, ci_upper=20.0,
                            effect_id=effect_id, fields={"design": design})


def extraction(key: str = "brewin2000", *, estimate: float = 2.0, design: str = "prospective",
               citation: str = "Brewin CR et al. 2000", amstar: dict[int, str] | None = None,
               studies: tuple[str, ...] = ("Smith 1995",), extra_effects: tuple[EffectSizeRecord, ...] = (),
               country: str | None = None) -> ReportExtraction:
    fields = {"country": country} if country else {}
    report = MetaAnalysisReport(id=key, citation=citation, year=2000, amstar2=amstar, fields=fields)
    effects = (effect(key, estimate, design), *extra_effects)
    return ReportExtraction(report, effects, tuple(PrimaryStudy(label=s) for s in studies))


ESTIMATE = "effect[ptsd | exposed vs not | or].estimate"
