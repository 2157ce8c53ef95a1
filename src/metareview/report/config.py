"""The report's settings, read from ``report.toml`` in the review folder (optional: every key has a default).

Everything a report says that belongs to one review, not to the software, is here or in ``protocol.toml``:
its title and introduction, how extracted effect sizes make up findings, the conventions of the credibility
classes and the assumed control risks of the Summary-of-findings table::

    title = "Risk factors for a disorder: an umbrella review"
    intro = ["Each risk factor was pooled from the primary studies of the included meta-analyses."]
    sources = ["Author A, Author B. The umbrella review this one updates. Journal 2020;1:1-10."]

    [findings]
    name = ["comparison"]        # the fields whose values name a finding (default: outcome_domain,
    comparison)
    study = "study"              # the effect field naming the primary study: each effect size is one study's
    subgroups = "report_id"      # forest plots grouped by this field (a moderator, an effect field,
    report_id)
    heading = "factor_type"      # credibility forest: findings grouped under this field's value
    equivalent = "OR"            # credibility forest: SMD findings drawn as equivalent odds ratios

    [credibility]
    continuous_cases = "cases"   # for SMD/MD: "cases" (the n_cases group, metaumbrella's) or "participants"
    method = "REML"
    pi = "t"

    [votes]
    labels = ["Significantly higher risk", "No significant association", "Significantly lower risk"]

    [summary_of_findings]
    control_risk = 0.10          # assumed risk without the exposure, for the absolute effect of OR/RR/HR
    control_risk_source = "an illustrative assumption"
    per = 1000

GRADE needs no key here: its risk-of-bias domain comes from the stored RoB 2 / RoB 1 forms of a finding's
studies (else an effect field ``rob``), and its indirectness domain from a declared categorical effect field
named ``indirectness`` (levels ``no``, ``serious``, ``very_serious``; one judgement per finding, given on each
of its effect sizes). A domain without either is reported as not assessed and the rating as provisional::

    # protocol.toml
    [[extraction.effect_fields]]
    name = "indirectness"
    type = "categorical"
    levels = ["no", "serious", "very_serious"]

A typo is an :class:`~metareview.errors.InputError` naming the file, line and key, as for the protocol.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from metareview.errors import InputError

REPORT_CONFIG_FILE = "report.toml"

__all__ = ["REPORT_CONFIG_FILE", "CredibilitySettings", "FindingSettings", "ReportConfig", "SofSettings",
           "VoteSettings"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FindingSettings(_Strict):
    """How the extracted effect sizes make up the findings that are pooled, graded and plotted."""

    name: list[str] = Field(default_factory=lambda: ["outcome_domain", "comparison"],
                            description="fields whose values, joined, name a finding")
    study: str = Field(default="", description="effect field with the primary study's label; empty: the "
                                               "effect "
                                               "sizes are meta-analysis results (no re-pooling)")
    study_year: str = Field(default="", description="effect field with the study's year (optional)")
    subgroups: str = Field(default="", description="forest plots grouped by this field; empty: not grouped")
    heading: str = Field(default="", description="credibility forest grouped by this field")
    equivalent: Literal["", "OR"] = ""
    min_studies: int = Field(default=2, ge=2, description="findings with fewer studies are listed, not "
                                                          "pooled")

    @field_validator("name")
    @classmethod
    def _some(cls, value: list[str]) -> list[str]:
        if not value or any(not v.strip() for v in value):
            raise ValueError("name needs at least one field, none blank")
        return value


class CredibilitySettings(_Strict):
    """The stated conventions of the credibility classes (Fusar-Poli & Radua 2018)."""

    continuous_cases: Literal["cases", "participants"] = Field(
        default="cases", description="for SMD/MD, what the class I-III 'more than 1000 cases' counts: the "
                                     "case "
                                     "(exposed, experimental) group as metaumbrella does, or all "
                                     "participants")
    method: str = "REML"
    pi: Literal["t", "z", "riley"] = "t"
    i2: Literal["q", "tau2"] = "q"
    min_cases: float = 1000


class SofSettings(_Strict):
    """The Summary-of-findings table (GRADE): assumed control risks for the absolute effects."""

    control_risk: float | None = Field(default=None, gt=0, lt=1)
    control_risks: dict[str, float] = Field(default_factory=dict, description="per finding")
    control_risk_source: str = ""
    per: int = Field(default=1000, gt=0)

    @field_validator("control_risks")
    @classmethod
    def _risks(cls, value: dict[str, float]) -> dict[str, float]:
        for k, v in value.items():
            if not 0 < v < 1:
                raise ValueError(f"control risk of {k!r} must be between 0 and 1, not {v}")
        return value

    def risk_for(self, finding: str) -> float | None:
        """The assumed control risk of ``finding`` (its own, else the common one)."""
        return self.control_risks.get(finding, self.control_risk)


class VoteSettings(_Strict):
    """The words of the three directions in the vote count (default: significantly better / no significant
    difference / significantly worse, for an intervention compared with its control)."""

    labels: list[str] = Field(default_factory=list, description="three labels, or none for the defaults")

    @field_validator("labels")
    @classmethod
    def _three(cls, value: list[str]) -> list[str]:
        if value and (len(value) != 3 or any(not v.strip() for v in value)):
            raise ValueError("labels needs exactly three words: above the null, no difference, below the "
                             "null")
        return value


class ReportConfig(_Strict):
    """``report.toml``: the report's title, introduction, sources and the conventions of its analyses."""

    title: str = ""
    subtitle: str = ""
    intro: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    findings: FindingSettings = Field(default_factory=FindingSettings)
    credibility: CredibilitySettings = Field(default_factory=CredibilitySettings)
    summary_of_findings: SofSettings = Field(default_factory=SofSettings)
    votes: VoteSettings = Field(default_factory=VoteSettings)

    @classmethod
    def load(cls, path: str | Path) -> ReportConfig:
        """Read ``report.toml``; a missing file gives the defaults."""
        path = Path(path)
        if not path.is_file():
            return cls()
        text = path.read_text(encoding="utf-8-sig")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"line (\d+)", str(exc))
            raise InputError(f"invalid TOML: {exc}", file=path, line=int(m.group(1)) if m else None) from None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"]) or None
            names = [str(p) for p in err["loc"] if isinstance(p, str)]
            line = None
            if names:
                esc = re.escape(names[-1])
                pat = re.compile(rf"^\s*(\[+\s*([\w.]+\.)?{esc}\s*\]+|\"?{esc}\"?\s*=)")
                line = next((i for i, t in enumerate(text.splitlines(), 1) if pat.match(t)), None)
            raise InputError(err["msg"], file=path, line=line, field=key) from None

    @classmethod
    def for_review(cls, review_dir: str | Path) -> ReportConfig:
        """The review folder's ``report.toml`` (defaults when it has none)."""
        return cls.load(Path(review_dir) / REPORT_CONFIG_FILE)
