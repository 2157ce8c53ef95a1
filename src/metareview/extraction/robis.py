"""ROBIS: risk of bias in systematic reviews (Whiting P, Savović J, Higgins JPT, et al. ROBIS: a new tool
to assess risk of bias in systematic reviews was developed. J Clin Epidemiol 2016;69:225-234,
doi:10.1016/j.jclinepi.2015.06.005).

Phase 2: four domains with their signalling questions (1.1–1.5, 2.1–2.5, 3.1–3.5, 4.1–4.6), answered
``Y``/``PY``/``PN``/``N``/``NI``; each domain gets a level of concern ``low``, ``high`` or ``unclear``.
Phase 3: the risk of bias in the review (``low``/``high``/``unclear``) with the three questions A–C.

ROBIS makes the concern a reviewer's judgement, helped by the answers: "yes" answers indicate low concern,
and any "no"/"probably no" flags a potential concern. The **suggestion** here (not ROBIS's rule, kept beside
the judgement a reviewer records) is: *low* if every answer is Y/PY, *high* if any is N/PN, otherwise
(some NI) *unclear*. For phase 3 the suggestion is *low* if A–C are all Y/PY, *high* if any is N/PN,
otherwise *unclear* (question A asks whether the interpretation addressed every concern of phase 2)::

    >>> a = assess({q: "Y" for q in QUESTIONS} | {"2.2": "PN"})
    >>> [(d.domain, d.suggested) for d in a.domains][:2], a.overall
    ([('1', 'low'), ('2', 'high')], 'low')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from metareview.errors import InputError

ANSWERS: tuple[str, ...] = ("Y", "PY", "PN", "N", "NI")
CONCERNS: tuple[str, ...] = ("low", "high", "unclear")

#: signalling questions (shortened wording of Whiting et al. 2016, Table / ROBIS tool)
QUESTIONS: dict[str, str] = {
    "1.1": "Did the review adhere to pre-defined objectives and eligibility criteria?",
    "1.2": "Were the eligibility criteria appropriate for the review question?",
    "1.3": "Were eligibility criteria unambiguous?",
    "1.4": "Were all restrictions in eligibility criteria based on study characteristics appropriate?",
    "1.5": "Were any restrictions in eligibility criteria based on sources of information appropriate?",
    "2.1": "Did the search include an appropriate range of databases/electronic sources for published and "
           "unpublished reports?",
    "2.2": "Were methods additional to database searching used to identify relevant reports?",
    "2.3": "Were the terms and structure of the search strategy likely to retrieve as many eligible studies "
           "as possible?",
    "2.4": "Were restrictions based on date, publication format, or language appropriate?",
    "2.5": "Were efforts made to minimise error in selection of studies?",
    "3.1": "Were efforts made to minimise error in data collection?",
    "3.2": "Were sufficient study characteristics available for both review authors and readers to be able "
           "to interpret the results?",
    "3.3": "Were all relevant study results collected for use in the synthesis?",
    "3.4": "Was risk of bias (or methodological quality) formally assessed using appropriate criteria?",
    "3.5": "Were efforts made to minimise error in risk of bias assessment?",
    "4.1": "Did the synthesis include all studies that it should?",
    "4.2": "Were all pre-defined analyses reported or departures explained?",
    "4.3": "Was the synthesis appropriate given the nature and similarity in the research questions, study "
           "designs and outcomes across included studies?",
    "4.4": "Was between-study variation (heterogeneity) minimal or addressed in the synthesis?",
    "4.5": "Were the findings robust, e.g. as demonstrated through funnel plot or sensitivity analyses?",
    "4.6": "Were biases in primary studies minimal or addressed in the synthesis?",
    "A": "Did the interpretation of findings address all of the concerns identified in domains 1 to 4?",
    "B": "Was the relevance of identified studies to the review's research question appropriately "
         "considered?",
    "C": "Did the reviewers avoid emphasising results on the basis of their statistical significance?",
}
DOMAINS: dict[str, tuple[str, tuple[str, ...]]] = {
    "1": ("Study eligibility criteria", ("1.1", "1.2", "1.3", "1.4", "1.5")),
    "2": ("Identification and selection of studies", ("2.1", "2.2", "2.3", "2.4", "2.5")),
    "3": ("Data collection and study appraisal", ("3.1", "3.2", "3.3", "3.4", "3.5")),
    "4": ("Synthesis and findings", ("4.1", "4.2", "4.3", "4.4", "4.5", "4.6")),
}
PHASE3: tuple[str, ...] = ("A", "B", "C")


@dataclass(frozen=True)
class RobisDomain:
    domain: str
    name: str
    suggested: str
    concern: str
    rationale: str = ""


@dataclass(frozen=True)
class RobisAssessment:
    """A review's ROBIS phase 2 domains and phase 3 risk of bias."""

    review: str
    answers: dict[str, str]
    domains: tuple[RobisDomain, ...]
    overall_suggested: str
    overall: str
    overall_rationale: str = ""

    def judgements(self) -> dict[str, str]:
        return {f"D{d.domain}": d.concern for d in self.domains} | {"overall": self.overall}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalise_answer(value: Any, question: str) -> str:
    if question not in QUESTIONS:
        raise InputError(f"unknown ROBIS signalling question {question!r}", field=question)
    text = "" if value is None else str(value).strip().upper()
    if text not in ANSWERS:
        raise InputError(f"ROBIS answer {value!r} not allowed; allowed: {', '.join(ANSWERS)}", field=question)
    return text


def check_concern(value: Any, field: str) -> str:
    text = "" if value is None else str(value).strip().lower()
    if text not in CONCERNS:
        raise InputError(f"ROBIS judgement {value!r} not allowed; allowed: {', '.join(CONCERNS)}",
                         field=field)
    return text


def suggest(answers: Any) -> str:
    """The suggested concern from answers: low if all Y/PY, high if any N/PN, else unclear."""
    a = list(answers)
    if any(x in ("N", "PN") for x in a):
        return "high"
    return "low" if all(x in ("Y", "PY") for x in a) else "unclear"


def assess(answers: Mapping[str, Any], *, review: str = "", concerns: Mapping[str, Any] | None = None,
           rationale: Mapping[str, str] | None = None) -> RobisAssessment:
    """Check all answers (every question is required) and record the concerns.

    ``concerns`` maps ``"1"``–``"4"`` and ``"overall"`` to the reviewer's judgement (default: the
    suggestion); ``rationale`` the same keys to the reviewer's reason."""
    unknown = sorted(set(answers) - set(QUESTIONS))
    if unknown:
        raise InputError(f"unknown ROBIS signalling question(s): {', '.join(unknown)}", field=unknown[0])
    missing = [q for q in QUESTIONS if answers.get(q) in (None, "")]
    if missing:
        raise InputError(f"ROBIS question {missing[0]} not answered; allowed: {', '.join(ANSWERS)}",
                         field=missing[0])
    a = {q: normalise_answer(answers[q], q) for q in QUESTIONS}
    concerns, rationale = dict(concerns or {}), dict(rationale or {})
    bad = sorted((set(concerns) | set(rationale)) - {*DOMAINS, "overall"})
    if bad:
        raise InputError(f"unknown ROBIS domain {bad[0]!r}; use 1, 2, 3, 4 or overall", field=bad[0])
    domains = []
    for key, (name, qs) in DOMAINS.items():
        s = suggest(a[q] for q in qs)
        c = check_concern(concerns[key], f"domain {key}") if concerns.get(key) not in (None, "") else s
        domains.append(RobisDomain(key, name, s, c, str(rationale.get(key, ""))))
    s = suggest(a[q] for q in PHASE3)
    o = check_concern(concerns["overall"], "overall") if concerns.get("overall") not in (None, "") else s
    return RobisAssessment(review, a, tuple(domains), s, o, str(rationale.get("overall", "")))
