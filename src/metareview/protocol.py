"""The review protocol: question, databases, eligibility criteria, exclusion reasons, outcome domains,
moderators, extraction fields and screening settings, read from ``protocol.toml`` in the review folder.

The protocol is the schema of the review's extraction forms: each moderator and each custom field is
declared with a type (``categorical`` with its levels, ``numeric``, ``text`` or ``yes/no``) and whether it
is required; templates, validation, the store and the vote counts follow the declaration::

    [[moderators]]                      # fields of each effect size that results can be grouped by
    name = "sample"
    type = "categorical"
    levels = ["clinical_subclinical", "unrestricted"]
    required = true

    [[extraction.effect_fields]]        # other fields of each effect size
    name = "follow_up_weeks"
    type = "numeric"

    [[extraction.report_fields]]        # fields of each included report
    name = "country"
    type = "text"

Example::

    from metareview.protocol import Protocol
    proto = Protocol.load("my-review/protocol.toml")
    [c.id for c in proto.eligibility_criteria]    # ['E1', 'E2', 'E3', 'E4']
    proto.moderator("sample").levels             # ['clinical_subclinical', 'unrestricted']
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from metareview.errors import InputError
from metareview.screening.stopping_rules import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RULE,
    DEFAULT_TARGET_RECALL,
    RULES,
    check_rule,
)

PROTOCOL_FILE = "protocol.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(_Strict):
    """One eligibility criterion, e.g. ``Criterion(id="E1", text="Quantitative meta-analysis")``."""

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)


class ExclusionReasons(_Strict):
    """Reasons a screener may give for excluding a record, per stage."""

    title_abstract: list[str] = Field(default_factory=list)
    full_text: list[str] = Field(default_factory=list)


class Keywords(_Strict):
    """Words highlighted on screen while screening (include in green, exclude in red)."""

    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)


Stage = Literal["title_abstract", "full_text"]


def _all_stages() -> list[Stage]:
    return ["title_abstract", "full_text"]


FieldType = Literal["categorical", "numeric", "text", "yes/no"]
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TYPE_ALIASES = {"yesno": "yes/no", "yes_no": "yes/no", "boolean": "yes/no", "bool": "yes/no",
                 "number": "numeric", "categories": "categorical"}
#: names the built-in forms use; a declared field may not take one of them
RESERVED_NAMES = frozenset({
    "id", "report_id", "citation", "year", "doi", "search_date", "databases", "n_studies", "n_participants",
    "outcome_domain", "comparison", "measure", "estimate", "ci_lower", "ci_upper", "p", "k", "n",
    "higher_favours", "effect_id", "direction", "significant", "label", "publication_date", "fields"})
_YES = {"yes", "y", "true", "1", "1.0"}
_NO = {"no", "n", "false", "0", "0.0"}


class FieldSpec(_Strict):
    """One declared extraction field: a moderator or a custom field of a report or an effect size.

    >>> FieldSpec(name="sample", type="categorical", levels=["clinical", "unrestricted"]).coerce("clinical")
    'clinical'
    """

    name: str = Field(min_length=1, description="column name in templates: lower case, digits, '_'")
    label: str = Field(default="", description="shown in reports; defaults to the name")
    type: FieldType = "text"
    levels: list[str] = Field(default_factory=list, description="allowed values of a categorical field")
    required: bool = False
    help: str = ""

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("type"), str):
            data = dict(data)
            data["type"] = _TYPE_ALIASES.get(data["type"].strip().lower(), data["type"].strip().lower())
        return data

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if not _NAME.match(self.name):
            raise ValueError(f"field name {self.name!r} must be lower case letters, digits and '_', starting "
                             "with a letter")
        if self.name in RESERVED_NAMES:
            raise ValueError(f"field name {self.name!r} is a built-in column of the forms; choose another")
        if self.type == "categorical":
            if not self.levels:
                raise ValueError(f"categorical field {self.name!r} needs its levels")
            if any(not lv.strip() for lv in self.levels) or len(set(self.levels)) != len(self.levels):
                raise ValueError(f"levels of {self.name!r} must be distinct and not blank")
        elif self.levels:
            raise ValueError(f"only a categorical field has levels ({self.name!r} is {self.type})")
        return self

    @property
    def title(self) -> str:
        """The label, or the name with spaces."""
        return self.label or self.name.replace("_", " ").capitalize()

    def allowed(self) -> str:
        """The allowed values, as written in templates and error messages."""
        return {"categorical": " | ".join(self.levels), "numeric": "a number", "text": "text",
                "yes/no": "yes | no"}[self.type]

    def coerce(self, value: object) -> str | float | bool:
        """The value as stored (str, float or bool); ``ValueError`` naming the allowed values otherwise."""
        if self.type == "numeric":
            if isinstance(value, bool):
                raise ValueError(f"{self.name} must be a number, not {value!r}")
            try:
                number = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise ValueError(f"{self.name} must be a number, not {value!r}") from None
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError(f"{self.name} must be a finite number, not {value!r}")
            return number
        if self.type == "yes/no":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _YES:
                return True
            if text in _NO:
                return False
            raise ValueError(f"{self.name} must be yes or no, not {value!r}")
        text = str(value).strip()
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        if self.type == "categorical" and text not in self.levels:
            raise ValueError(f"{self.name} must be one of {', '.join(self.levels)}; got {text!r}")
        return text


def _as_fields(values: object) -> object:
    """Moderators may still be given as bare names (free-text fields, not required)."""
    if isinstance(values, list):
        return [{"name": v} if isinstance(v, str) else v for v in values]
    return values


def _unique_names(specs: list[FieldSpec], where: str) -> None:
    names = [f.name for f in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{where}: field names must be unique; repeated: {', '.join(dupes)}")


class ExtractionSettings(_Strict):
    """The custom fields of reports and effect sizes (besides the moderators), and who extracts: one or
    two extractors per report (two: each extracts independently, blind, then a consensus is recorded;
    :mod:`metareview.extraction.dual`), and the extractors' roster (empty: the screening roster)."""

    report_fields: list[FieldSpec] = Field(default_factory=list)
    effect_fields: list[FieldSpec] = Field(default_factory=list)
    extractors_per_report: Literal[1, 2] = 1
    blind: bool = True
    extractors: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> ExtractionSettings:
        _unique_names(self.report_fields, "extraction.report_fields")
        _unique_names(self.effect_fields, "extraction.effect_fields")
        return self


class StoppingSettings(_Strict):
    """The stopping rule of title/abstract screening (``[screening.stopping]``): the rule's name (one of
    :data:`metareview.screening.stopping_rules.RULES`), its target recall and confidence, and its parameters
    (``[screening.stopping.params]``). ``consecutive`` is the heuristic shown beside it (n irrelevant in a
    row; 0 hides it)."""

    rule: str = DEFAULT_RULE
    target_recall: float = Field(default=DEFAULT_TARGET_RECALL, gt=0, lt=1)
    confidence: float = Field(default=DEFAULT_CONFIDENCE, gt=0, lt=1)
    params: dict[str, float] = Field(default_factory=dict)
    consecutive: int = Field(default=100, ge=0)

    @model_validator(mode="after")
    def _known_rule(self) -> StoppingSettings:
        check_rule(self.rule, self.params)
        return self

    @property
    def parameters(self) -> dict[str, float | int]:
        """The rule's parameters, defaults filled in."""
        return {**RULES[self.rule], **self.params}


class ScreeningSettings(_Strict):
    """How screening is run: reviewers per record, blind mode, highlighting keywords, stages and the
    stopping rule."""

    reviewers_per_record: Literal[1, 2] = 2
    blind: bool = True
    keywords: Keywords = Field(default_factory=Keywords)
    stages: list[Stage] = Field(default_factory=_all_stages)
    reviewers: list[str] = Field(default_factory=list)  # the roster (empty: any name is accepted)
    stopping: StoppingSettings = Field(default_factory=StoppingSettings)
    # the ranker that orders the records for every reviewer, CLI and web app alike (a registered name, see
    # metareview.screening.models; checked when the queue first ranks, so loading a protocol stays light);
    # empty: the default ranker
    ranker: str = ""


class Protocol(_Strict):
    """A review protocol. Load it with :meth:`Protocol.load`; errors name the file, line and key."""

    title: str = Field(min_length=1)
    question: str = ""
    databases: list[str] = Field(default_factory=list)
    eligibility_criteria: list[Criterion] = Field(default_factory=list)
    exclusion_reasons: ExclusionReasons = Field(default_factory=ExclusionReasons)
    outcome_domains: list[str] = Field(default_factory=list)
    moderators: list[FieldSpec] = Field(default_factory=list)
    extraction: ExtractionSettings = Field(default_factory=ExtractionSettings)
    screening: ScreeningSettings = Field(default_factory=ScreeningSettings)

    @field_validator("moderators", mode="before")
    @classmethod
    def _bare_moderators(cls, values: object) -> object:
        return _as_fields(values)

    @field_validator("databases", "outcome_domains")
    @classmethod
    def _no_blank(cls, values: list[str]) -> list[str]:
        if any(not v.strip() for v in values):
            raise ValueError("entries must not be blank")
        return values

    @model_validator(mode="after")
    def _unique_fields(self) -> Protocol:
        _unique_names(self.moderators, "moderators")
        clash = {m.name for m in self.moderators} & {f.name for f in self.extraction.effect_fields}
        if clash:
            raise ValueError(f"{', '.join(sorted(clash))}: declared both as a moderator and an effect field")
        return self

    @property
    def effect_fields(self) -> list[FieldSpec]:
        """Every declared field of an effect size: the moderators, then the other effect fields."""
        return [*self.moderators, *self.extraction.effect_fields]

    @property
    def report_fields(self) -> list[FieldSpec]:
        """The declared custom fields of a report."""
        return list(self.extraction.report_fields)

    def moderator(self, name: str) -> FieldSpec:
        """The declared moderator ``name``; :class:`InputError` listing the declared ones otherwise."""
        for m in self.moderators:
            if m.name == name:
                return m
        declared = ", ".join(["outcome_domain", *(m.name for m in self.moderators)])
        raise InputError(f"{name!r} is not a declared moderator (declared: {declared})", file=PROTOCOL_FILE,
                         field="moderators")

    @model_validator(mode="after")
    def _unique_criteria(self) -> Protocol:
        ids = [c.id for c in self.eligibility_criteria]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"eligibility criterion ids must be unique; repeated: {', '.join(dupes)}")
        return self

    @classmethod
    def load(cls, path: str | Path) -> Protocol:
        """Read and validate a ``protocol.toml``; raises :class:`InputError` naming file, line and key."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InputError("protocol file not found", file=path) from None
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text ({exc.reason})", file=path) from None
        return cls.from_toml(text, source=path)

    @classmethod
    def load_optional(
        cls, path: str | Path | None = None, review: str | Path | None = None
    ) -> Protocol | None:
        """The protocol at ``path``, else the one in the ``review`` folder, else None (callers then use
        the forms' defaults): what the CLI's ``--protocol``/``--review`` options mean."""
        if path is not None:
            return cls.load(path)
        if review is not None:
            return cls.load(Path(review) / PROTOCOL_FILE)
        return None

    @classmethod
    def from_toml(cls, text: str, *, source: str | Path = PROTOCOL_FILE) -> Protocol:
        """Validate TOML text (``source`` is only used in error messages)."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"line (\d+)", str(exc))
            line = int(m.group(1)) if m else None
            raise InputError(f"invalid TOML: {exc}", file=source, line=line) from None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"]) or None
            names = [p for p in err["loc"] if isinstance(p, str)]
            raise InputError(
                err["msg"], file=source, line=_line_of(text, names[-1] if names else None), field=key
            ) from None


def _line_of(text: str, key: str | None) -> int | None:
    """First line (1-based) where ``key`` is assigned or opens a table; None when not found."""
    if not key:
        return None
    pattern = re.compile(rf"^\s*(\[\[?\s*([\w.]+\.)?{re.escape(key)}\s*\]\]?|{re.escape(key)}\s*=)")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


TEMPLATE = '''\
# metareview protocol. Edit this file; `metareview status` re-reads it.
# The example is the reference meta-review: Werntz et al. 2023, "Providing Human Support for the Use of
# Digital Mental Health Interventions: Systematic Meta-review", J Med Internet Res 25:e42864,
# doi:10.2196/42864. Replace it with your own review.

title = "Human support for digital mental health interventions: a meta-review"
question = """Do digital mental health interventions work better with human support than without it?"""

# Databases searched (names used by `metareview import --database NAME` and in the PRISMA diagram).
databases = ["MEDLINE", "PubMed", "PsycINFO"]

# Outcome domains: the allowed values of each effect size's outcome_domain (empty: any).
outcome_domains = ["depression", "anxiety", "stress", "PTSD", "multiple"]

# Eligibility criteria: a record must meet all of them. `id` is what screeners cite.
[[eligibility_criteria]]
id = "E1"
text = "A quantitative meta-analysis."

[[eligibility_criteria]]
id = "E2"
text = """The intervention targets mental-health symptoms and is delivered through a technology platform
(not person-delivered telehealth, text messages or social media)."""

[[eligibility_criteria]]
id = "E3"
text = "Outcomes are symptoms of anxiety, depression, stress, PTSD, or several of these."

[[eligibility_criteria]]
id = "E4"
text = "Compares outcomes with human support against no or minimal human support."

# Reasons a screener may choose when excluding, per stage (full-text exclusions must give one).
[exclusion_reasons]
title_abstract = ["not a meta-analysis", "not a digital intervention", "not mental-health symptoms"]
full_text = [
  "not a quantitative meta-analysis",
  "intervention not delivered through a technology platform",
  "outcomes not anxiety, depression, stress or PTSD",
  "no comparison of human support with no or minimal support",
  "full text not available",
]

# Moderators: fields of each effect size that votes, evidence maps and credibility tables can be grouped
# by (`metareview votes --by sample`). type = categorical (with levels) | numeric | text | yes/no.
[[moderators]]
name = "sample"
type = "categorical"
levels = ["clinical_subclinical", "unrestricted"]
required = true

[[moderators]]
name = "support_provider"
type = "categorical"
levels = ["clinically_trained", "mixed", "lay", "unclear"]
required = true

[[moderators]]
name = "rct_quality"
label = "Quality of the RCTs"
type = "categorical"
levels = ["high", "medium", "low"]

# Custom fields of each report or effect size, declared like moderators:
# [[extraction.report_fields]]
# name = "country"
# type = "text"

[extraction]
extractors_per_report = 1    # 2: two people extract each report independently (blind), then consensus
# extractors = ["Ana Silva", "Ben Okafor"]   # who may extract (default: the screening roster)

[screening]
reviewers_per_record = 2     # 1 or 2
blind = true                 # reviewers do not see each other's decisions until both have decided
stages = ["title_abstract", "full_text"]
# reviewers = ["Ana Silva", "Ben Okafor", "Cleo Park"]   # the roster: votes only by these names
#                                                        # (matched ignoring case and spaces)
# ranker = "fields-turns-svm"   # what orders the records for everyone (default: tfidf-fused-svm;
#                               # the names: README, "Prioritisation")

[screening.keywords]         # highlighted while screening
include = ["meta-analysis", "internet", "digital", "guided", "support", "coach"]
exclude = ["protocol", "telephone", "text message"]

# When title/abstract screening in prioritised order may stop (`metareview screen status` says which rule,
# its target recall and confidence, and what the verdict rests on). Measured on 14 reviews:
# bench/results/stopping.md. Rules: poisson, hypergeometric, knee, budget, safe, consecutive.
# [screening.stopping]
# rule = "hypergeometric"    # Callaghan & Muller-Hansen 2020 test (the default: the most reliable)
# target_recall = 0.95
# confidence = 0.95
# consecutive = 100          # the heuristic shown beside it: n irrelevant in a row (0: not shown)
# [screening.stopping.params] # poisson: n_windows, min_relevant, condition_on_found; knee: min_screened;
# min_screened = 150         # safe: min_share, consecutive, extra_run; consecutive: n
'''
