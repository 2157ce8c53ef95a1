"""The review protocol: question, databases, eligibility criteria, exclusion reasons, outcome domains,
moderators and screening settings, read from ``protocol.toml`` in the review folder.

Example::

    from metareview.protocol import Protocol
    proto = Protocol.load("my-review/protocol.toml")
    [c.id for c in proto.eligibility_criteria]    # ['E1', 'E2', 'E3', 'E4']
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from metareview.errors import InputError

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


class ScreeningSettings(_Strict):
    """How screening is run: reviewers per record, blind mode, highlighting keywords and stages."""

    reviewers_per_record: Literal[1, 2] = 2
    blind: bool = True
    keywords: Keywords = Field(default_factory=Keywords)
    stages: list[Stage] = Field(default_factory=_all_stages)
    reviewers: list[str] = Field(default_factory=list)  # the roster (empty: any name is accepted)


class Protocol(_Strict):
    """A review protocol. Load it with :meth:`Protocol.load`; errors name the file, line and key."""

    title: str = Field(min_length=1)
    question: str = ""
    databases: list[str] = Field(default_factory=list)
    eligibility_criteria: list[Criterion] = Field(default_factory=list)
    exclusion_reasons: ExclusionReasons = Field(default_factory=ExclusionReasons)
    outcome_domains: list[str] = Field(default_factory=list)
    moderators: list[str] = Field(default_factory=list)
    screening: ScreeningSettings = Field(default_factory=ScreeningSettings)

    @field_validator("databases", "outcome_domains", "moderators")
    @classmethod
    def _no_blank(cls, values: list[str]) -> list[str]:
        if any(not v.strip() for v in values):
            raise ValueError("entries must not be blank")
        return values

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

# Outcome domains and moderators used in extraction and synthesis.
outcome_domains = ["depression", "anxiety", "stress", "PTSD", "multiple"]
moderators = ["sample", "rct_quality", "support_provider"]

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

[screening]
reviewers_per_record = 2     # 1 or 2
blind = true                 # reviewers do not see each other's decisions until both have decided
stages = ["title_abstract", "full_text"]
# reviewers = ["Ana Silva", "Ben Okafor", "Cleo Park"]   # the roster: votes only by these names
#                                                        # (matched ignoring case and spaces)

[screening.keywords]         # highlighted while screening
include = ["meta-analysis", "internet", "digital", "guided", "support", "coach"]
exclude = ["protocol", "telephone", "text message"]
'''
