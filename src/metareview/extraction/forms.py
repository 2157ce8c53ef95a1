"""Extraction forms as typed schemas: a meta-analysis report, its effect sizes, its primary studies.

The built-in fields are those every umbrella review needs (citation, size, AMSTAR 2; outcome domain,
comparison, measure, estimate, CI, p). Everything review-specific (moderators such as the sample or the
support provider, custom fields) is declared in ``protocol.toml`` and held in ``fields``; any other
keyword is taken as such a field, and :mod:`metareview.extraction.schema` checks them against the
protocol. Direction and significance are not fields: :attr:`EffectSizeRecord.direction` derives them
from the estimate and its CI (or p)::

    >>> es = EffectSizeRecord(report_id="heber2017", outcome_domain="stress", comparison="guided vs unguided",
    ...                       measure="SMD", estimate=0.31, ci_lower=0.11, ci_upper=0.51,
    ...                       fields={"sample": "unrestricted"})
    >>> es.direction.value, es.value("sample")
    ('better', 'unrestricted')

A typed-in "direction" or "significant" is an error (they are derived).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from metareview.errors import InputError
from metareview.extraction.amstar2 import Amstar2Appraisal, Answer, appraise
from metareview.extraction.direction import Direction, derive_direction, null_value

FieldValue = str | float | bool
_DERIVED = ("direction", "significant")


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class _WithFields(_Form):
    """A form with protocol-declared ``fields``; unknown keywords are moved into ``fields``."""

    fields: dict[str, FieldValue] = Field(
        default_factory=dict, description="values of the fields declared in protocol.toml")

    @model_validator(mode="before")
    @classmethod
    def _collect_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known = set(cls.model_fields)
        extra = {k: v for k, v in data.items() if k not in known}
        for k in _DERIVED:
            if k in extra:
                raise ValueError(f"{k!r} is derived from the estimate and its CI or p; do not give it")
        if not extra:
            return data
        out = {k: v for k, v in data.items() if k in known}
        out["fields"] = {**extra, **dict(out.get("fields") or {})}
        return out

    @field_validator("fields")
    @classmethod
    def _no_blank_values(cls, value: dict[str, FieldValue]) -> dict[str, FieldValue]:
        return {k: (v.strip() if isinstance(v, str) else v) for k, v in value.items()
                if v is not None and not (isinstance(v, str) and not v.strip())}

    def value(self, name: str) -> Any:
        """A built-in field or a declared one (``None`` when not given)."""
        if name in type(self).model_fields and name != "fields":
            return getattr(self, name)
        return self.fields.get(name)


class MetaAnalysisReport(_WithFields):
    """One included meta-analysis: citation, search, size and its AMSTAR 2 appraisal."""

    id: str = Field(min_length=1, max_length=200, description="short key, e.g. 'heber2017'")
    citation: str = Field(min_length=1)
    year: int | None = Field(default=None, ge=1900, le=2100)
    doi: str | None = None
    search_date: date | None = Field(default=None, description="date of the last search")
    databases: list[str] = Field(default_factory=list)
    n_studies: int | None = Field(default=None, ge=0)
    n_participants: int | None = Field(default=None, ge=0)
    amstar2: dict[int, Answer] | None = Field(
        default=None, description="answers to the 16 AMSTAR 2 items (1..16)")

    @field_validator("amstar2", mode="before")
    @classmethod
    def _check_amstar(cls, value: Any) -> Any:
        if value is None:
            return None
        try:
            return dict(appraise(value).answers)
        except InputError as exc:
            raise ValueError(exc.message) from None

    @property
    def appraisal(self) -> Amstar2Appraisal | None:
        """The AMSTAR 2 appraisal (critical flaws, weaknesses, overall confidence), if answered."""
        return Amstar2Appraisal(self.amstar2) if self.amstar2 is not None else None

    @property
    def confidence(self) -> str | None:
        """AMSTAR 2 overall confidence: high / moderate / low / critically low (Shea et al. 2017)."""
        a = self.appraisal
        return a.confidence if a is not None else None


class EffectSizeRecord(_WithFields):
    """One effect size a meta-analysis reports (e.g. supported vs unsupported on depression); moderators
    and custom fields declared in the protocol are in ``fields``."""

    report_id: str = Field(min_length=1, max_length=200)
    outcome_domain: str = Field(min_length=1)
    comparison: str = Field(min_length=1)
    measure: str
    estimate: float
    ci_lower: float | None = None
    ci_upper: float | None = None
    p: float | None = Field(default=None, ge=0.0, le=1.0)
    k: int | None = Field(default=None, ge=1)
    n: int | None = Field(default=None, ge=1)
    higher_favours: bool = Field(
        default=True, description="True when values above the null favour the experimental condition")
    effect_id: str | None = Field(
        default=None, max_length=200,
        description="optional key of the effect size within its report (e.g. 'dep-post'): matches the two "
                    "extractors' rows in dual extraction (default: outcome domain | comparison | measure)")

    @field_validator("measure")
    @classmethod
    def _known_measure(cls, value: str) -> str:
        code = value.strip().upper()
        try:
            null_value(code)
        except InputError as exc:
            raise ValueError(exc.message) from None
        return code

    @model_validator(mode="after")
    def _derivable(self) -> EffectSizeRecord:
        if (self.ci_lower is None) != (self.ci_upper is None):
            raise ValueError("give both ci_lower and ci_upper, or neither")
        try:
            self.direction  # noqa: B018 - raises if estimate/CI/p cannot give a direction
        except InputError as exc:
            raise ValueError(exc.message) from None
        return self

    @property
    def direction(self) -> Direction:
        """Derived from estimate, CI (or p), the measure's null and ``higher_favours``."""
        return derive_direction(self.measure, self.estimate, ci_lower=self.ci_lower, ci_upper=self.ci_upper,
                                p=self.p, higher_favours=self.higher_favours)

    @property
    def significant(self) -> bool:
        return self.direction is not Direction.NO_DIFFERENCE


class PrimaryStudy(_Form):
    """A primary study a meta-analysis pooled."""

    label: str = Field(min_length=1, description="e.g. 'Andersson 2005'; the overlap matrix's row key")
    year: int | None = Field(default=None, ge=1900, le=2100)
    doi: str | None = None
    publication_date: date | None = None


class PrimaryStudyList(_Form):
    """The primary studies of one meta-analysis report (rows of the overlap citation matrix)."""

    report_id: str = Field(min_length=1)
    studies: list[PrimaryStudy]

    @model_validator(mode="after")
    def _unique(self) -> PrimaryStudyList:
        seen: set[str] = set()
        for s in self.studies:
            if s.label in seen:
                raise ValueError(f"primary study {s.label!r} listed twice")
            seen.add(s.label)
        return self
