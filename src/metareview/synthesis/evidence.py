"""Stratify an umbrella review's evidence as metaumbrella 1.1.0's ``add.evidence()`` does, and the tables
its ``summary()`` and ``forest()`` show.

- :func:`add_evidence`: ``criteria="Ioannidis"`` (the classes I-IV/ns of :mod:`.credibility`),
  ``"GRADE"`` (:mod:`.grade`, metaumbrella's rules) or ``"Personalised"`` with per-class thresholds
  (:class:`PersonalisedCriteria`); returns an :class:`EvidenceTable`.
- :func:`umbrella_summary`: one row per factor with metaumbrella's ``summary(umbrella(...))`` columns,
  unrounded (equivalent g and OR, CIs, PIs, I², Egger, excess significance, jackknife, largest study,
  risk of bias, AMSTAR).
- :func:`umbrella_forest_data`: the data of an umbrella forest plot, one row per factor with its pooled
  estimate, CI, PI and class.

The "Personalised" classification (metaumbrella's manual, ``?add.evidence``): a factor reaches class I
if it meets every class-I threshold, else class II if it meets every class-II threshold, and so on; else
class V. Thresholds (each optional, per class): ``n_studies``, ``total_n``, ``n_cases`` (strictly more
than), ``p_value`` (strictly less), ``I2`` (strictly less, %), ``imprecision`` (an SMD: power > 80% to
detect it), ``rob`` (% low risk, strictly more), ``amstar`` (strictly more), ``egger_p`` and ``esb_p``
(strictly more), ``JK_p`` (the largest jackknife p, strictly less), ``pi`` and ``largest_CI``
(``"notnull"``: the PI / the largest study's CI excludes the null). Missing numbers count against the
factor as metaumbrella assumes (no Egger/ESB/rob/AMSTAR/PI → the criterion fails; no I² → 100%)::

    >>> crit = PersonalisedCriteria(class_I={"n_cases": 800, "esb_p": .10, "rob": 80},
    ...                             class_II={"n_cases": 500, "esb_p": .05, "rob": 65},
    ...                             class_III={"n_cases": 200, "esb_p": .01, "rob": 50},
    ...                             class_IV={"n_cases": 100, "rob": 35})
    >>> add_evidence(table, "Personalised", personalised=crit).classes()   # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from metareview.errors import InputError
from metareview.synthesis.credibility import (
    RATIO_MEASURES,
    CredibilityAssessment,
    CredibilityTable,
)
from metareview.synthesis.grade import (
    DOMAINS,
    EQ_RANGE_G,
    EQ_RANGE_OR,
    GradeRating,
    grade_assessment,
    power_smd,
)

PERSONALISED_CLASSES = ("I", "II", "III", "IV", "V")
NUMERIC_CRITERIA = ("n_studies", "total_n", "n_cases", "p_value", "I2", "imprecision", "rob", "amstar",
                    "egger_p", "esb_p", "JK_p")
CRITERIA = (*NUMERIC_CRITERIA, "pi", "largest_CI")
_RANGES = {"p_value": (0, 1), "I2": (0, 100), "rob": (0, 100), "egger_p": (0, 1), "esb_p": (0, 1),
           "JK_p": (0, 1)}
_SQRT3_PI = math.sqrt(3) / math.pi


@dataclass(frozen=True)
class PersonalisedCriteria:
    """Per-class thresholds of metaumbrella's "Personalised" classification (see the module docstring)."""

    class_I: Mapping[str, float | str] = field(default_factory=dict)  # noqa: N815 - metaumbrella's names
    class_II: Mapping[str, float | str] = field(default_factory=dict)  # noqa: N815
    class_III: Mapping[str, float | str] = field(default_factory=dict)  # noqa: N815
    class_IV: Mapping[str, float | str] = field(default_factory=dict)  # noqa: N815

    def __post_init__(self) -> None:
        used = False
        for label, spec in zip(("class_I", "class_II", "class_III", "class_IV"), self.classes(), strict=True):
            for key, value in spec.items():
                if key not in CRITERIA:
                    raise InputError(f"{label}: criterion {key!r} is not one of {list(CRITERIA)}",
                                     field=label)
                used = True
                if key in ("pi", "largest_CI"):
                    if value != "notnull":
                        raise InputError(f"{label}: {key} must be 'notnull'", field=label)
                    continue
                if isinstance(value, str) or not math.isfinite(float(value)):
                    raise InputError(f"{label}: {key} must be a number", field=label)
                lo, hi = _RANGES.get(key, (0, math.inf))
                if key != "imprecision" and not lo <= float(value) <= hi:
                    raise InputError(f"{label}: {key} must be within [{lo}, {hi}]", field=label)
        if not used:
            raise InputError("the Personalised classification needs at least one criterion")

    def classes(self) -> tuple[Mapping[str, float | str], ...]:
        return (self.class_I, self.class_II, self.class_III, self.class_IV)

    def to_dict(self) -> dict[str, Any]:
        return {f"class_{c}": dict(s) for c, s in zip(("I", "II", "III", "IV"), self.classes(), strict=True)}


def parse_thresholds(text: str | None) -> dict[str, float | str] | None:
    """``"n_cases=800,esb_p=0.1,pi=notnull"`` as a threshold mapping (None stays None)."""
    if text is None or not text.strip():
        return None
    out: dict[str, float | str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            raise InputError(f"threshold {part!r} is not NAME=VALUE", field="class")
        key, value = key.strip(), value.strip()
        try:
            out[key] = float(value)
        except ValueError:
            out[key] = value
    return out


def personalised_class(a: CredibilityAssessment, criteria: PersonalisedCriteria) -> str:
    """The Personalised class (I-V) of one assessed factor."""
    values = _personalised_values(a)
    for label, spec in zip(PERSONALISED_CLASSES, criteria.classes(), strict=False):
        if _meets(values, spec, a):
            return label
    return "V"


def _personalised_values(a: CredibilityAssessment) -> dict[str, Any]:
    def num(x: float, missing: float) -> float:
        return missing if x is None or math.isnan(x) else x

    pi = "null"
    if math.isfinite(a.pi_lower) and math.isfinite(a.pi_upper) and np.sign(a.pi_lower) == np.sign(a.pi_upper):
        pi = "notnull"
    return {
        "n_studies": a.k, "total_n": num(a.total_n, 0), "n_cases": num(a.n_cases, 0), "p_value": a.pvalue,
        "I2": num(a.i2, 100), "rob": num(a.rob_low_pct, -1), "amstar": num(a.amstar, -1),
        "egger_p": num(a.egger_p, -1), "esb_p": num(a.esb_p, -1), "JK_p": num(a.jk_max_p, 2), "pi": pi,
        "largest_CI": a.largest_direction,
    }


def _imprecision_power(a: CredibilityAssessment, smd: float) -> float:
    m = a.measure.upper()
    if m == "IRR":
        return power_smd(a.n_cases / 2, a.n_cases / 2, smd)
    if m in {"R", "Z"}:
        return power_smd(a.total_n / 2, a.total_n / 2, smd)
    return power_smd(a.n_cases, a.n_controls, smd)


def _meets(values: dict[str, Any], spec: Mapping[str, float | str], a: CredibilityAssessment) -> bool:
    more = ("n_studies", "total_n", "n_cases", "rob", "amstar", "egger_p", "esb_p")
    less = ("p_value", "I2", "JK_p")
    for key, thr in spec.items():
        if key in more and not values[key] > float(thr):
            return False
        if key in less and not values[key] < float(thr):
            return False
        if key == "imprecision" and not _imprecision_power(a, float(thr)) > 0.80:
            return False
        if key in ("pi", "largest_CI") and values[key] != thr:
            return False
    return True


@dataclass(frozen=True)
class EvidenceTable:
    """The classes of every factor under one of metaumbrella's criteria, with the numbers behind them."""

    table: CredibilityTable
    criteria: str  # "Ioannidis", "GRADE" or "Personalised"
    classes_: tuple[str, ...]
    grades: tuple[GradeRating, ...] = ()
    personalised: PersonalisedCriteria | None = None

    def classes(self) -> dict[str, str]:
        return dict(zip(self.table.names, self.classes_, strict=True))

    def __getitem__(self, name: str) -> str:
        return self.classes()[name]

    def to_frame(self) -> pd.DataFrame:
        """metaumbrella's ``summary(add.evidence(...))``: one row per factor (numbers unrounded), in
        the order of the input; ``class`` and ``criteria`` first."""
        frame = umbrella_summary(self.table)
        frame.insert(1, "criteria", self.criteria)
        frame.insert(2, "class", list(self.classes_))
        if self.grades:
            for col in DOMAINS:
                frame[f"down_{col}"] = [getattr(g, col) for g in self.grades]
            frame["grade"] = [g.level for g in self.grades]
        return frame

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"criteria": self.criteria, "classes": self.classes()}
        if self.grades:
            out["grade"] = [g.to_dict() for g in self.grades]
        if self.personalised is not None:
            out["thresholds"] = self.personalised.to_dict()
        return out

    def counts(self) -> dict[str, int]:
        order = {"Ioannidis": ("I", "II", "III", "IV", "ns"),
                 "GRADE": ("High", "Moderate", "Weak", "Very weak"),
                 "Personalised": PERSONALISED_CLASSES}[self.criteria]
        return {c: sum(k == c for k in self.classes_) for c in order}

    def __str__(self) -> str:
        lines = [f"Evidence classes ({self.criteria} criteria, as metaumbrella's add.evidence)"]
        if self.grades:
            lines += [str(g) for g in self.grades]
        else:
            lines += [f"  {n}: class {c}" for n, c in self.classes().items()]
        return "\n".join(lines)


def add_evidence(table: CredibilityTable, criteria: str = "Ioannidis", *,
                 personalised: PersonalisedCriteria | None = None,
                 class_I: Mapping[str, float | str] | None = None,  # noqa: N803 - metaumbrella's names
                 class_II: Mapping[str, float | str] | None = None,  # noqa: N803
                 class_III: Mapping[str, float | str] | None = None,  # noqa: N803
                 class_IV: Mapping[str, float | str] | None = None,  # noqa: N803
                 eq_range_or: tuple[float, float] = EQ_RANGE_OR,
                 eq_range_g: tuple[float, float] = EQ_RANGE_G) -> EvidenceTable:
    """Classify every factor of ``table`` (metaumbrella's ``add.evidence(umb, criteria = ...)``)."""
    name = {"ioannidis": "Ioannidis", "grade": "GRADE", "personalised": "Personalised",
            "personalized": "Personalised"}.get(criteria.lower())
    if name is None:
        raise InputError("criteria must be 'Ioannidis', 'GRADE' or 'Personalised'", field="criteria")
    if name == "Ioannidis":
        return EvidenceTable(table, name, tuple(a.klass for a in table.assessments))
    if name == "GRADE":
        grades = tuple(grade_assessment(a, eq_range_or=eq_range_or, eq_range_g=eq_range_g)
                       for a in table.assessments)
        return EvidenceTable(table, name, tuple(g.label for g in grades), grades)
    crit = personalised or PersonalisedCriteria(class_I or {}, class_II or {}, class_III or {},
                                                class_IV or {})
    return EvidenceTable(table, name, tuple(personalised_class(a, crit) for a in table.assessments),
                         personalised=crit)


# --- summary and forest data ---------------------------------------------------------------------


def _to_eg(a: CredibilityAssessment, x: float) -> float:
    """metaumbrella's equivalent g: g itself, or d = log OR × √3/π for ratios."""
    return x * _SQRT3_PI if a.measure.upper() in RATIO_MEASURES else x


def _to_eor(a: CredibilityAssessment, x: float) -> float:
    return math.exp(x) if a.measure.upper() in RATIO_MEASURES else math.exp(x / _SQRT3_PI)


def _measure(a: CredibilityAssessment) -> str:
    return "G" if a.measure.upper() in {"SMD", "MD", "G"} else a.measure


def _natural(a: CredibilityAssessment, x: float) -> float:
    return math.exp(x) if a.measure.upper() in RATIO_MEASURES else x


def umbrella_summary(table: CredibilityTable) -> pd.DataFrame:
    """One row per factor with the columns of metaumbrella's ``summary(umbrella(...))`` (unrounded; each
    interval as ``_lower``/``_upper`` columns; ``value`` on the natural scale, OR not log OR)."""
    rows = []
    for a in table.assessments:
        one = a.k < 2
        rows.append({
            "factor": a.name, "n_studies": a.k, "total_n": a.total_n, "n_cases": a.n_cases,
            "n_controls": a.n_controls, "measure": _measure(a),
            "value": _natural(a, a.estimate), "value_ci_lower": _natural(a, a.ci_lower),
            "value_ci_upper": _natural(a, a.ci_upper),
            "eG": _to_eg(a, a.estimate), "eG_ci_lower": _to_eg(a, a.ci_lower),
            "eG_ci_upper": _to_eg(a, a.ci_upper),
            "eOR": _to_eor(a, a.estimate), "eOR_ci_lower": _to_eor(a, a.ci_lower),
            "eOR_ci_upper": _to_eor(a, a.ci_upper), "p_value": a.pvalue, "I2": math.nan if one else a.i2,
            "PI_eG_lower": math.nan if one else _to_eg(a, a.pi_lower),
            "PI_eG_upper": math.nan if one else _to_eg(a, a.pi_upper),
            "PI_eOR_lower": math.nan if one else _to_eor(a, a.pi_lower),
            "PI_eOR_upper": math.nan if one else _to_eor(a, a.pi_upper),
            "egger_p": a.egger_p, "ESB_p": a.esb_p,
            "power_med": 100 * _imprecision_power(a, 0.5), "JK_p": a.jk_max_p,
            "largest_CI_eG_lower": _to_eg(a, a.largest_ci_lower),
            "largest_CI_eG_upper": _to_eg(a, a.largest_ci_upper),
            "largest_CI_eOR_lower": _to_eor(a, a.largest_ci_lower),
            "largest_CI_eOR_upper": _to_eor(a, a.largest_ci_upper),
            "rob": a.rob_low_pct, "report_rob": a.report_rob_pct, "amstar": a.amstar,
            "perc_contradict": a.perc_contradict,
            "md": a.md_estimate, "md_ci_lower": a.md_ci_lower, "md_ci_upper": a.md_ci_upper,
        })
    return pd.DataFrame(rows)


def umbrella_forest_data(source: CredibilityTable | EvidenceTable) -> pd.DataFrame:
    """The data of an umbrella forest plot (metaumbrella's ``forest()``): one row per factor.

    Columns: ``factor``, ``measure`` (the scale of ``estimate``: OR/RR/HR/IRR on the ratio scale, or g),
    ``k``, ``n_cases``, ``n_controls``, ``estimate``, ``ci_lower``, ``ci_upper``, ``pi_lower``,
    ``pi_upper`` (NaN with one study), the same as equivalent OR (``eOR*``) and g (``eG*``) so that factors
    on different scales share an axis, ``pvalue``, ``i2``, ``class`` and ``criteria`` (Ioannidis for a
    :class:`CredibilityTable`).
    """
    evidence = source if isinstance(source, EvidenceTable) else add_evidence(source)
    rows = []
    for a, klass in zip(evidence.table.assessments, evidence.classes_, strict=True):
        one = a.k < 2
        nan = math.nan
        rows.append({
            "factor": a.name, "measure": _measure(a),
            "k": a.k, "n_cases": a.n_cases, "n_controls": a.n_controls,
            "estimate": _natural(a, a.estimate), "ci_lower": _natural(a, a.ci_lower),
            "ci_upper": _natural(a, a.ci_upper),
            "pi_lower": nan if one else _natural(a, a.pi_lower),
            "pi_upper": nan if one else _natural(a, a.pi_upper),
            "eOR": _to_eor(a, a.estimate), "eOR_ci_lower": _to_eor(a, a.ci_lower),
            "eOR_ci_upper": _to_eor(a, a.ci_upper),
            "eOR_pi_lower": nan if one else _to_eor(a, a.pi_lower),
            "eOR_pi_upper": nan if one else _to_eor(a, a.pi_upper),
            "eG": _to_eg(a, a.estimate), "eG_ci_lower": _to_eg(a, a.ci_lower),
            "eG_ci_upper": _to_eg(a, a.ci_upper),
            "eG_pi_lower": nan if one else _to_eg(a, a.pi_lower),
            "eG_pi_upper": nan if one else _to_eg(a, a.pi_upper),
            "pvalue": a.pvalue, "i2": a.i2, "class": klass, "criteria": evidence.criteria,
        })
    return pd.DataFrame(rows)
