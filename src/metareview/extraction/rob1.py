"""RoB 1: the Cochrane risk-of-bias tool of Handbook 5.1 (Higgins JPT, Altman DG, Sterne JAC, chapter 8,
*Cochrane Handbook for Systematic Reviews of Interventions* 5.1.0, March 2011).

The seven domains of the Handbook's Table 8.5.a, each judged ``low``, ``unclear`` or ``high`` with support
text (the quote or comment justifying it). The summary per study (Handbook 8.7, Table 8.7.a) is over the
**key domains**: *low* if every key domain is low; *high* if any key domain is high; otherwise *unclear*.
The Handbook leaves the choice of key domains to the review team (8.7); the default here is the six
named domains, leaving out "other bias", and a review sets its own with ``key_domains=``::

    >>> a = assess({d: "low" for d in DOMAINS} | {"other": "high"}, study="Smith 2004")
    >>> a.summary
    'low'
    >>> assess({d: "low" for d in DOMAINS} | {"other": "high"}, key_domains=tuple(DOMAINS)).summary
    'high'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from metareview.errors import InputError

JUDGEMENTS: tuple[str, ...] = ("low", "unclear", "high")
#: domain key → name (Table 8.5.a)
DOMAINS: dict[str, str] = {
    "sequence_generation": "Random sequence generation (selection bias)",
    "allocation_concealment": "Allocation concealment (selection bias)",
    "blinding_participants": "Blinding of participants and personnel (performance bias)",
    "blinding_outcome": "Blinding of outcome assessment (detection bias)",
    "incomplete_outcome": "Incomplete outcome data (attrition bias)",
    "selective_reporting": "Selective reporting (reporting bias)",
    "other": "Other bias",
}
DEFAULT_KEY_DOMAINS: tuple[str, ...] = tuple(d for d in DOMAINS if d != "other")


@dataclass(frozen=True)
class Rob1Assessment:
    """A study's seven judgements, their support text and the summary over the key domains."""

    study: str
    judgements: dict[str, str]
    support: dict[str, str] = field(default_factory=dict)
    key_domains: tuple[str, ...] = DEFAULT_KEY_DOMAINS
    weight: float | None = None

    @property
    def summary(self) -> str:
        return summary_judgement(self.judgements, self.key_domains)

    @property
    def overall(self) -> str:
        """Same as :attr:`summary` (the name the plots and GRADE use for every tool)."""
        return self.summary

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"summary": self.summary}


def check_judgement(value: Any, domain: str) -> str:
    text = "" if value is None else str(value).strip().lower()
    text = {"low risk": "low", "high risk": "high", "unclear risk": "unclear"}.get(text, text)
    if text not in JUDGEMENTS:
        raise InputError(f"RoB 1 judgement {value!r} not allowed; allowed: {', '.join(JUDGEMENTS)}",
                         field=domain)
    return text


def _check_keys(keys: Iterable[str], what: str) -> None:
    unknown = sorted(set(keys) - set(DOMAINS))
    if unknown:
        raise InputError(f"unknown RoB 1 {what} {unknown[0]!r}; domains: {', '.join(DOMAINS)}",
                         field=unknown[0])


def summary_judgement(judgements: Mapping[str, str], key_domains: Iterable[str] = DEFAULT_KEY_DOMAINS) -> str:
    """Handbook 8.7: low if all key domains low; high if any key domain high; else unclear."""
    keys = tuple(key_domains)
    _check_keys(keys, "key domain")
    if not keys:
        raise InputError("at least one key domain is needed", field="key_domains")
    js = [check_judgement(judgements.get(k), k) for k in keys]
    if "high" in js:
        return "high"
    return "low" if all(j == "low" for j in js) else "unclear"


def assess(judgements: Mapping[str, Any], *, study: str = "", support: Mapping[str, str] | None = None,
           key_domains: Iterable[str] = DEFAULT_KEY_DOMAINS, weight: float | None = None) -> Rob1Assessment:
    """Check the seven judgements (all required) and keep them with their support text."""
    _check_keys(judgements, "domain")
    _check_keys(support or {}, "domain")
    missing = [d for d in DOMAINS if d not in judgements]
    if missing:
        raise InputError(f"RoB 1 judgement missing for {missing[0]!r}; allowed: {', '.join(JUDGEMENTS)}",
                         field=missing[0])
    clean = {d: check_judgement(judgements[d], d) for d in DOMAINS}
    keys = tuple(key_domains)
    summary_judgement(clean, keys)
    return Rob1Assessment(study, clean, {k: str(v) for k, v in (support or {}).items()}, keys, weight)
