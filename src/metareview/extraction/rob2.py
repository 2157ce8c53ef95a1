"""RoB 2: the revised Cochrane risk-of-bias tool for randomised trials, with its suggested algorithms.

Sterne JAC, Savović J, Page MJ, et al. RoB 2: a revised tool for assessing risk of bias in randomised
trials. BMJ 2019;366:l4898 (doi:10.1136/bmj.l4898), and its full guidance document (Higgins JPT, Savović
J, Page MJ, Sterne JAC, on behalf of the RoB 2 Development Group: *Revised Cochrane risk-of-bias tool for
randomized trials (RoB 2)*, 22 August 2019, riskofbias.info), variant for individually randomised,
parallel-group trials assessing the effect of **assignment** to the intervention.

Answers: ``Y`` (yes), ``PY`` (probably yes), ``PN`` (probably no), ``N`` (no), ``NI`` (no information),
``NA`` (not applicable: a conditional question that the route through the domain skips; a blank cell
reads as ``NA``). A question the route needs may not be ``NA``.

Domain algorithms (the guidance's "suggested algorithm" figure for each domain):

- **D1 randomisation process**: 1.2 N/PN → high; 1.2 NI → high if 1.3 Y/PY, else some concerns;
  1.2 Y/PY → low if 1.1 Y/PY/NI and 1.3 N/PN/NI; some concerns if 1.1 N/PN (whatever 1.3) or if 1.3 Y/PY.
- **D2 deviations from intended interventions** (two parts, then the worse of the two, "low" only when
  both are low): part 1 — 2.1 and 2.2 both N/PN → low; otherwise 2.3 N/PN → low, 2.3 NI → some concerns,
  2.3 Y/PY → (2.4 N/PN → some concerns; 2.4 Y/PY/NI → (2.5 Y/PY → some concerns; 2.5 N/PN/NI → high));
  part 2 — 2.6 Y/PY → low; 2.6 N/PN/NI → (2.7 N/PN → some concerns; 2.7 Y/PY/NI → high).
- **D3 missing outcome data**: 3.1 Y/PY → low; else 3.2 Y/PY → low; else (3.2 N/PN) 3.3 N/PN → low;
  else (3.3 Y/PY/NI) 3.4 N/PN → some concerns; 3.4 Y/PY/NI → high.
- **D4 measurement of the outcome**: 4.1 Y/PY → high; 4.2 Y/PY → high; with 4.2 N/PN: 4.3 N/PN → low,
  4.4 N/PN → low, 4.5 N/PN → some concerns, 4.5 Y/PY/NI → high; with 4.2 NI the same route gives
  some concerns where it gave low (4.3 N/PN, 4.4 N/PN, 4.5 N/PN) and high at 4.5 Y/PY/NI.
- **D5 selection of the reported result**: 5.2 or 5.3 Y/PY → high; 5.2 and 5.3 both N/PN → low if
  5.1 Y/PY, else some concerns; otherwise (an NI, none Y/PY) → some concerns.

Overall (the guidance's Table of overall judgements): **low** if every domain is low; **high** if any
domain is high; otherwise **some concerns**. The guidance also allows judging *high* when several
domains have some concerns "in a way that substantially lowers confidence in the result"; that is a
reviewer's judgement, not automatic here: record it as an override of the overall judgement with its
reason (:func:`assess` ``overrides={"overall": ("high", "why")}``). Every override keeps the algorithm's
suggestion beside it::

    >>> a = assess({"1.1": "Y", "1.2": "Y", "1.3": "N", "2.1": "N", "2.2": "N", "2.6": "Y",
    ...             "3.1": "Y", "4.1": "N", "4.2": "N", "4.3": "N", "5.1": "Y", "5.2": "N", "5.3": "N"})
    >>> a.overall, [d.judgement for d in a.domains]
    ('low', ['low', 'low', 'low', 'low', 'low'])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from metareview.errors import InputError

Judgement = Literal["low", "some concerns", "high"]
JUDGEMENTS: tuple[str, ...] = ("low", "some concerns", "high")
ANSWERS: tuple[str, ...] = ("Y", "PY", "PN", "N", "NI", "NA")
YES = frozenset({"Y", "PY"})
NO = frozenset({"N", "PN"})

#: the signalling questions (shortened wording of the guidance's questions)
QUESTIONS: dict[str, str] = {
    "1.1": "Was the allocation sequence random?",
    "1.2": "Was the allocation sequence concealed until participants were enrolled and assigned?",
    "1.3": "Did baseline differences between groups suggest a problem with the randomisation process?",
    "2.1": "Were participants aware of their assigned intervention during the trial?",
    "2.2": "Were carers and people delivering the interventions aware of participants' assigned "
           "intervention?",
    "2.3": "If Y/PY/NI to 2.1 or 2.2: were there deviations from the intended intervention that arose "
           "because of the trial context?",
    "2.4": "If Y/PY to 2.3: were these deviations likely to have affected the outcome?",
    "2.5": "If Y/PY/NI to 2.4: were these deviations balanced between groups?",
    "2.6": "Was an appropriate analysis used to estimate the effect of assignment to intervention?",
    "2.7": "If N/PN/NI to 2.6: was there potential for a substantial impact (on the result) of the failure "
           "to analyse participants in the group to which they were randomised?",
    "3.1": "Were data for this outcome available for all, or nearly all, participants randomised?",
    "3.2": "If N/PN/NI to 3.1: is there evidence that the result was not biased by missing outcome data?",
    "3.3": "If N/PN to 3.2: could missingness in the outcome depend on its true value?",
    "3.4": "If Y/PY/NI to 3.3: is it likely that missingness in the outcome depended on its true value?",
    "4.1": "Was the method of measuring the outcome inappropriate?",
    "4.2": "Could measurement or ascertainment of the outcome have differed between groups?",
    "4.3": "If N/PN/NI to 4.1 and 4.2: were outcome assessors aware of the intervention received?",
    "4.4": "If Y/PY/NI to 4.3: could assessment of the outcome have been influenced by knowledge of the "
           "intervention received?",
    "4.5": "If Y/PY/NI to 4.4: is it likely that assessment of the outcome was influenced by knowledge of "
           "the intervention received?",
    "5.1": "Were the data analysed in accordance with a pre-specified analysis plan finalised before "
           "unblinded outcome data were available?",
    "5.2": "Is the result likely to have been selected from multiple eligible outcome measurements?",
    "5.3": "Is the result likely to have been selected from multiple eligible analyses of the data?",
}
#: the five domains: key → (name, its questions)
DOMAINS: dict[str, tuple[str, tuple[str, ...]]] = {
    "D1": ("Randomisation process", ("1.1", "1.2", "1.3")),
    "D2": ("Deviations from intended interventions", ("2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7")),
    "D3": ("Missing outcome data", ("3.1", "3.2", "3.3", "3.4")),
    "D4": ("Measurement of the outcome", ("4.1", "4.2", "4.3", "4.4", "4.5")),
    "D5": ("Selection of the reported result", ("5.1", "5.2", "5.3")),
}


@dataclass(frozen=True)
class DomainJudgement:
    """One domain: the algorithm's suggestion, the judgement kept, and the reason when they differ."""

    domain: str
    name: str
    suggested: str
    judgement: str
    override_reason: str = ""

    @property
    def overridden(self) -> bool:
        return self.judgement != self.suggested


@dataclass(frozen=True)
class Rob2Assessment:
    """A result's RoB 2 assessment: answers, the five domains and the overall judgement."""

    study: str
    answers: dict[str, str]
    domains: tuple[DomainJudgement, ...]
    overall_suggested: str
    overall: str
    overall_override_reason: str = ""
    weight: float | None = None

    def judgements(self) -> dict[str, str]:
        """Domain key → judgement kept, plus ``"overall"``."""
        return {d.domain: d.judgement for d in self.domains} | {"overall": self.overall}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalise_answer(value: Any, question: str) -> str:
    """``value`` as one of :data:`ANSWERS` (case and spaces ignored; blank → ``NA``)."""
    if question not in QUESTIONS:
        raise InputError(f"unknown RoB 2 signalling question {question!r}", field=question)
    text = "" if value is None else str(value).strip().upper()
    if text in ("", "NAN", "NONE"):
        return "NA"
    if text not in ANSWERS:
        raise InputError(f"RoB 2 answer {value!r} not allowed; allowed: {', '.join(ANSWERS)}", field=question)
    return text


class _Answers:
    def __init__(self, answers: Mapping[str, Any]) -> None:
        unknown = sorted(set(answers) - set(QUESTIONS))
        if unknown:
            raise InputError(f"unknown RoB 2 signalling question(s): {', '.join(unknown)}", field=unknown[0])
        self.values = {q: normalise_answer(answers.get(q), q) for q in QUESTIONS}

    def __call__(self, q: str, *, because: str = "") -> str:
        v = self.values[q]
        if v == "NA":
            why = f" (because {because})" if because else ""
            raise InputError(f"RoB 2 question {q} must be answered{why}; allowed: Y, PY, PN, N, NI", field=q)
        return v


def _d1(a: _Answers) -> str:
    q12 = a("1.2")
    if q12 in NO:
        return "high"
    q13 = a("1.3")
    if q12 == "NI":
        return "high" if q13 in YES else "some concerns"
    if a("1.1") in NO:
        return "some concerns"
    return "some concerns" if q13 in YES else "low"


def _d2(a: _Answers) -> str:
    q21, q22 = a("2.1"), a("2.2")
    if q21 in NO and q22 in NO:
        part1 = "low"
    else:
        q23 = a("2.3", because="2.1 or 2.2 is Y/PY/NI")
        if q23 in NO:
            part1 = "low"
        elif q23 == "NI":
            part1 = "some concerns"
        elif a("2.4", because="2.3 is Y/PY") in NO:
            part1 = "some concerns"
        else:
            part1 = "some concerns" if a("2.5", because="2.4 is Y/PY/NI") in YES else "high"
    if a("2.6") in YES:
        part2 = "low"
    else:
        part2 = "some concerns" if a("2.7", because="2.6 is N/PN/NI") in NO else "high"
    return _worst((part1, part2))


def _d3(a: _Answers) -> str:
    if a("3.1") in YES:
        return "low"
    if a("3.2", because="3.1 is N/PN/NI") in YES:
        return "low"
    if a("3.2") == "NI":
        raise InputError("RoB 2 question 3.2 takes Y, PY, PN or N (the guidance has no NI route)",
                         field="3.2")
    if a("3.3", because="3.2 is N/PN") in NO:
        return "low"
    return "some concerns" if a("3.4", because="3.3 is Y/PY/NI") in NO else "high"


def _d4(a: _Answers) -> str:
    if a("4.1") in YES:
        return "high"
    q42 = a("4.2")
    if q42 in YES:
        return "high"
    benign = "low" if q42 in NO else "some concerns"   # 4.2 NI turns each "low" into "some concerns"
    if a("4.3", because="4.1 and 4.2 are N/PN/NI") in NO:
        return benign
    if a("4.4", because="4.3 is Y/PY/NI") in NO:
        return benign
    return "some concerns" if a("4.5", because="4.4 is Y/PY/NI") in NO else "high"


def _d5(a: _Answers) -> str:
    q52, q53 = a("5.2"), a("5.3")
    if q52 in YES or q53 in YES:
        return "high"
    if q52 in NO and q53 in NO:
        return "low" if a("5.1") in YES else "some concerns"
    a("5.1")
    return "some concerns"


_ALGORITHMS = {"D1": _d1, "D2": _d2, "D3": _d3, "D4": _d4, "D5": _d5}


def _worst(judgements: Any) -> str:
    js = list(judgements)
    if "high" in js:
        return "high"
    return "some concerns" if "some concerns" in js else "low"


def domain_judgement(domain: str, answers: Mapping[str, Any]) -> str:
    """The algorithm's suggested judgement of one domain (``"D1"`` … ``"D5"``) from the answers."""
    if domain not in _ALGORITHMS:
        raise InputError(f"unknown RoB 2 domain {domain!r}; domains: {', '.join(DOMAINS)}", field=domain)
    return _ALGORITHMS[domain](_Answers(answers))


def overall_judgement(domain_judgements: Any) -> str:
    """Overall RoB 2 judgement: low if all low, high if any high, else some concerns."""
    js = list(domain_judgements)
    for j in js:
        check_judgement(j)
    return _worst(js)


def check_judgement(value: Any, *, field: str | None = None) -> str:
    text = str(value).strip().lower().replace("_", " ")
    if text not in JUDGEMENTS:
        raise InputError(f"RoB 2 judgement {value!r} not allowed; allowed: {', '.join(JUDGEMENTS)}",
                         field=field)
    return text


def assess(answers: Mapping[str, Any], *, study: str = "",
           overrides: Mapping[str, tuple[str, str]] | None = None,
           weight: float | None = None) -> Rob2Assessment:
    """Apply the algorithms to ``answers`` (question id → answer).

    ``overrides`` maps a domain key (``"D1"`` … ``"D5"``) or ``"overall"`` to ``(judgement, reason)``: the
    reviewer's judgement replaces the suggestion, which stays recorded; a reason is required. The overall
    suggestion is computed from the domain judgements kept (after domain overrides)."""
    a = _Answers(answers)
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - {*DOMAINS, "overall"})
    if unknown:
        raise InputError(f"cannot override {unknown[0]!r}; use D1…D5 or overall", field=unknown[0])
    domains = []
    for key, (name, _) in DOMAINS.items():
        suggested = _ALGORITHMS[key](a)
        judgement, reason = _override(overrides.get(key), suggested, key)
        domains.append(DomainJudgement(key, name, suggested, judgement, reason))
    overall_s = _worst(d.judgement for d in domains)
    overall, reason = _override(overrides.get("overall"), overall_s, "overall")
    return Rob2Assessment(study, dict(a.values), tuple(domains), overall_s, overall, reason, weight)


def _override(value: tuple[str, str] | None, suggested: str, key: str) -> tuple[str, str]:
    if value is None:
        return suggested, ""
    judgement, reason = value
    judgement = check_judgement(judgement, field=key)
    if judgement != suggested and not str(reason or "").strip():
        raise InputError(f"overriding the suggested {key} judgement {suggested!r} with {judgement!r} needs a "
                         "reason", field=key)
    return judgement, str(reason or "").strip() if judgement != suggested else ""
