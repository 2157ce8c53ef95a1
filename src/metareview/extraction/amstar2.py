"""AMSTAR 2: the 16 items, the 7 critical domains and the overall confidence rating.

Shea BJ et al. AMSTAR 2: a critical appraisal tool for systematic reviews that include randomised or
non-randomised studies of healthcare interventions, or both. BMJ 2017;358:j4008 (doi:10.1136/bmj.j4008).
Critical domains (their Box 1): items 2, 4, 7, 9, 11, 13 and 15. Overall confidence (their Box 2):

- **high**: no or one non-critical weakness;
- **moderate**: more than one non-critical weakness (and no critical flaw);
- **low**: one critical flaw, with or without non-critical weaknesses;
- **critically low**: more than one critical flaw, with or without non-critical weaknesses.

A flaw or weakness is an item answered "no". "Partial yes" (allowed on items 2, 4, 7, 8 and 9) and
"not applicable" (items 11, 12 and 15 when no meta-analysis was done) are not weaknesses::

    >>> answers = dict.fromkeys(range(1, 17), "yes") | {7: "no", 10: "no", 16: "no"}
    >>> appraise(answers).confidence
    'low'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from metareview.errors import InputError

Answer = Literal["yes", "partial_yes", "no", "not_applicable"]
Confidence = Literal["high", "moderate", "low", "critically low"]

#: short wording of the 16 items (Shea et al. 2017, Table / online appendix 1)
ITEMS: dict[int, str] = {
    1: "Research questions and inclusion criteria include the components of PICO",
    2: "Review methods established before the review (protocol); deviations justified",
    3: "Selection of study designs for inclusion explained",
    4: "Comprehensive literature search strategy",
    5: "Study selection performed in duplicate",
    6: "Data extraction performed in duplicate",
    7: "List of excluded studies provided, exclusions justified",
    8: "Included studies described in adequate detail",
    9: "Satisfactory technique for assessing risk of bias in individual studies",
    10: "Sources of funding for the included studies reported",
    11: "Appropriate methods for statistical combination of results",
    12: "Potential impact of risk of bias in individual studies on meta-analysis results assessed",
    13: "Risk of bias in individual studies accounted for when interpreting the results",
    14: "Satisfactory explanation and discussion of heterogeneity",
    15: "Publication bias (small-study bias) investigated and its likely impact discussed",
    16: "Potential sources of conflict of interest reported, including funding of the review",
}
CRITICAL_ITEMS: frozenset[int] = frozenset({2, 4, 7, 9, 11, 13, 15})
PARTIAL_YES_ITEMS: frozenset[int] = frozenset({2, 4, 7, 8, 9})
NOT_APPLICABLE_ITEMS: frozenset[int] = frozenset({11, 12, 15})  # "no meta-analysis conducted"
_ALIASES = {"y": "yes", "yes": "yes", "py": "partial_yes", "partial yes": "partial_yes",
            "partial_yes": "partial_yes", "n": "no", "no": "no", "na": "not_applicable",
            "not applicable": "not_applicable", "not_applicable": "not_applicable",
            "no meta-analysis": "not_applicable", "no ma": "not_applicable"}


def allowed_answers(item: int) -> tuple[str, ...]:
    """The answers item ``item`` accepts.

    >>> allowed_answers(4)
    ('yes', 'partial_yes', 'no')
    """
    if item not in ITEMS:
        raise InputError(f"AMSTAR 2 has items 1 to 16, not {item}", field="amstar2")
    out = ["yes"]
    if item in PARTIAL_YES_ITEMS:
        out.append("partial_yes")
    out.append("no")
    if item in NOT_APPLICABLE_ITEMS:
        out.append("not_applicable")
    return tuple(out)


def normalise_answer(item: int, value: str) -> Answer:
    """Map a typed answer ("Y", "Partial yes", "NA", …) to its canonical form, checking the item allows it."""
    canon = _ALIASES.get(str(value).strip().lower())
    if canon is None or canon not in allowed_answers(item):
        raise InputError(f"item {item} accepts {list(allowed_answers(item))}, got {value!r}",
                         field=f"amstar2_item{item}")
    return canon  # type: ignore[return-value]


@dataclass(frozen=True)
class Amstar2Appraisal:
    """Answers to the 16 items with the derived critical flaws, weaknesses and overall confidence."""

    answers: Mapping[int, Answer]

    @property
    def critical_flaws(self) -> tuple[int, ...]:
        """Critical items answered "no"."""
        return tuple(i for i in sorted(self.answers) if i in CRITICAL_ITEMS and self.answers[i] == "no")

    @property
    def non_critical_weaknesses(self) -> tuple[int, ...]:
        """Non-critical items answered "no"."""
        return tuple(i for i in sorted(self.answers) if i not in CRITICAL_ITEMS and self.answers[i] == "no")

    @property
    def confidence(self) -> Confidence:
        """Overall confidence by Shea et al. 2017, Box 2."""
        flaws = len(self.critical_flaws)
        if flaws > 1:
            return "critically low"
        if flaws == 1:
            return "low"
        return "moderate" if len(self.non_critical_weaknesses) > 1 else "high"

    def to_dict(self) -> dict[str, Any]:
        return {"answers": {f"item{i}": a for i, a in sorted(self.answers.items())},
                "critical_flaws": list(self.critical_flaws),
                "non_critical_weaknesses": list(self.non_critical_weaknesses),
                "confidence": self.confidence}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"item": list(ITEMS), "text": list(ITEMS.values()),
                             "critical": [i in CRITICAL_ITEMS for i in ITEMS],
                             "answer": [self.answers[i] for i in ITEMS]})

    def __str__(self) -> str:
        lines = ["AMSTAR 2 (Shea et al. 2017)"]
        for i, text in ITEMS.items():
            mark = "*" if i in CRITICAL_ITEMS else " "
            lines.append(f"{i:>3}{mark} {self.answers[i]:<15} {text}")
        lines.append(f"critical flaws: {list(self.critical_flaws) or 'none'}; non-critical weaknesses: "
                     f"{list(self.non_critical_weaknesses) or 'none'}")
        lines.append(f"overall confidence: {self.confidence}  (* critical domain)")
        return "\n".join(lines)


def appraise(answers: Mapping[int, str] | Mapping[str, str]) -> Amstar2Appraisal:
    """Validate answers to all 16 items (keys 1..16 or "item1".."item16") and rate the review."""
    norm: dict[int, Answer] = {}
    for key, value in answers.items():
        item = _item_number(key)
        norm[item] = normalise_answer(item, value)
    missing = sorted(set(ITEMS) - set(norm))
    if missing:
        raise InputError(f"AMSTAR 2 needs all 16 items; missing {missing}", field=f"amstar2_item{missing[0]}")
    return Amstar2Appraisal(norm)


def _item_number(key: int | str) -> int:
    text = str(key).strip().lower().removeprefix("amstar2_").removeprefix("item").removeprefix("_")
    try:
        item = int(text)
    except ValueError:
        raise InputError(f"not an AMSTAR 2 item: {key!r}", field=str(key)) from None
    if item not in ITEMS:
        raise InputError(f"AMSTAR 2 has items 1 to 16, not {item}", field=str(key))
    return item
