"""The GRADE Summary-of-findings table, laid out as GRADEpro lays it out: per finding the relative effect,
the anticipated absolute effects (an assumed risk without the exposure and the corresponding risk with it,
for ratio measures, when ``report.toml`` states the assumed control risk; the standardised or raw difference
for continuous measures), the participants and studies, and the certainty of the evidence with the reason for
each downgrade as a lettered footnote. A GRADE domain that had no input (no risk-of-bias forms for the
finding's studies, no indirectness judgement) is footnoted as not assessed and not downgraded for, and the
certainty is marked "(provisional)".

Absolute risks from a ratio and an assumed control risk p0 (Cochrane Handbook 14.1.5 / GRADEpro):
OR: p1 = OR·p0 / (1 − p0 + OR·p0); RR, IRR: p1 = RR·p0; HR: p1 = 1 − (1 − p0)^HR (the same for the
bounds of the CI)::

    >>> risk_with("OR", 2.0, 0.10)       # 2 x odds of 0.1/0.9
    0.18181818181818182
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["CERTAINTY_SYMBOLS", "SummaryOfFindings", "downgrade_reasons", "risk_with", "summary_of_findings"]

CERTAINTY_SYMBOLS = {"high": "\u2295\u2295\u2295\u2295", "moderate": "\u2295\u2295\u2295\u25ef",
                     "low": "\u2295\u2295\u25ef\u25ef", "very low": "\u2295\u25ef\u25ef\u25ef"}
_RATIOS = {"OR", "RR", "HR", "IRR"}
_KNOWN_DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias",
                  "small_k")
_LEVEL_WORDS = {1: "one level", 2: "two levels", 3: "three levels"}


def risk_with(measure: str, ratio: float, p0: float) -> float:
    """The risk with the exposure from the ratio and the assumed control risk ``p0``."""
    m = measure.upper()
    if m == "OR":
        return float(ratio * p0 / (1 - p0 + ratio * p0))
    if m in ("RR", "IRR"):
        return float(min(1.0, ratio * p0))
    if m == "HR":
        return float(1 - (1 - p0) ** ratio)
    raise ValueError(f"no absolute risk for measure {measure!r}")


def _p(p: float) -> str:
    return "< .001" if p < 0.001 else f"= {p:.3f}".replace("0.", ".", 1)


def _levels(n: int) -> str:
    return _LEVEL_WORDS.get(n, f"{n} levels")


def _interval(lo: float, hi: float, ratio: bool) -> str:
    f = math.exp if ratio else (lambda v: v)
    return f"{_fmt(f(lo))} to {_fmt(f(hi))}"


def downgrade_reasons(finding: Any) -> list[str]:
    """Why the finding's certainty was downgraded, one sentence per domain, and each domain that had no input
    (not assessed, not downgraded for). Read from its GRADE rating (metaumbrella's rules,
    :func:`metareview.synthesis.grade.grade_rating`) and its pooled numbers; domains unknown to this function
    are named as the rating names them."""
    a, g = finding.assessment, finding.grade
    d = g.to_dict() if hasattr(g, "to_dict") else dict(vars(g))
    ratio = str(getattr(finding, "measure", getattr(a, "measure", ""))).upper() in _RATIOS
    four = d.get("rules") == "four-domain"
    out = []
    rob = int(d.get("risk_of_bias", 0) or 0)
    if d.get("risk_of_bias_assessed") is False:
        out.append("Risk of bias not reported: assumed high, as metaumbrella does; downgraded "
                   f"{_levels(rob)}." if rob else
                   "Risk of bias of the primary studies not assessed; not downgraded for it.")
    elif rob:
        pct = getattr(finding, "rob_low_pct", None)
        src = getattr(finding, "rob_source", "")
        share = f"{pct:.0f}% of the weight" if pct is not None and math.isfinite(pct) else "the weight"
        out.append(f"Risk of bias: {share} in studies at low risk of bias"
                   f"{f' ({src})' if src else ''}, below {'50' if rob >= 2 else '75'}%; "
                   f"downgraded {_levels(rob)}.")
    inc = int(d.get("inconsistency", 0) or 0)
    if inc:
        if four or d.get("inconsistency_basis") != "CI vs PI":
            i2 = f"I\u00b2 = {a.i2:.0f}%" if math.isfinite(a.i2) else "I\u00b2 unknown"
            contra = getattr(a, "perc_contradict", math.nan)
            extra = ("" if four or not math.isfinite(contra) else
                     f" and {100 * contra:.0f}% of the studies significant in the opposite direction")
            out.append(f"Inconsistency: {i2}{extra}; downgraded {_levels(inc)}.")
        else:
            eq = "0.80 to 1.25" if ratio else "\u22120.10 to 0.10"
            out.append(f"Inconsistency: the 95% CI ({_interval(a.ci_lower, a.ci_upper, ratio)}) and the 95% "
                       f"prediction interval ({_interval(a.pi_lower, a.pi_upper, ratio)}) disagree about the "
                       f"null and the equivalence range ({eq}) (CINeMA's rules); downgraded {_levels(inc)}.")
    ind = int(d.get("indirectness", 0) or 0)
    if not four and d.get("indirectness_assessed") is False:
        out.append("Indirectness not judged: assumed very serious, as metaumbrella does; downgraded "
                   f"{_levels(ind)}." if ind else "Indirectness not assessed; not downgraded for it.")
    elif ind:
        out.append(f"Indirectness judged {'very serious' if ind >= 2 else 'serious'}; downgraded "
                   f"{_levels(ind)}.")
    imp = int(d.get("imprecision", 0) or 0)
    if imp and four:
        p02, p05 = d.get("power_smd_02", math.nan), d.get("power_smd_05", math.nan)
        why = f"power to detect SMD = 0.2 is {100 * p02:.0f}%" if math.isfinite(p02) else "power unknown"
        if imp >= 2 and math.isfinite(p05):
            why += f" and to detect SMD = 0.5 {100 * p05:.0f}%"
        out.append(f"Imprecision: {why} (below 80%); downgraded {_levels(imp)}.")
    elif imp:
        n1, n2 = a.n_cases, a.n_controls
        large = "OR 5 (or 0.2)" if ratio else "g 0.8"
        lo, hi = (math.exp(a.ci_lower), math.exp(a.ci_upper)) if ratio else (a.ci_lower, a.ci_upper)
        cross = ((lo <= 1 and hi >= 5) or (lo <= 0.2 and hi >= 1)) if ratio else \
            ((lo <= 0 and hi >= 0.8) or (lo <= -0.8 and hi >= 0))
        reasons: list[str] = []
        if cross:
            reasons.append(f"the 95% CI includes both no effect and a large effect ({large})")
        if not (n1 >= 64 and n2 >= 64):
            reasons.append(f"fewer than 64 cases or controls ({n1:,.0f} and {n2:,.0f}; under 80% power for "
                           "g = 0.5)")
        elif not (n1 >= 394 and n2 >= 394):
            reasons.append(f"fewer than 394 cases or controls ({n1:,.0f} and {n2:,.0f}; under 80% power for "
                           "g = 0.2)")
        out.append(f"Imprecision: {' and '.join(reasons) or 'see the rules'}; downgraded {_levels(imp)}.")
    if int(d.get("publication_bias", 0) or 0):
        ep, sp = getattr(a, "egger_p", math.nan), getattr(a, "esb_p", math.nan)
        rp = getattr(a, "report_rob_pct", math.nan)
        if four:
            eg = f"Egger's test p {_p(ep)}" if math.isfinite(ep) else "Egger's test not possible"
            out.append(f"Publication bias: {eg} (below .10); downgraded one level.")
        else:
            found: list[str] = []
            if math.isfinite(ep) and ep <= 0.10:
                found.append(f"Egger's test p {_p(ep)} (at most .10)")
            if math.isfinite(sp) and sp <= 0.10:
                found.append(f"excess significance p {_p(sp)} (at most .10)")
            if math.isfinite(rp) and rp < 50:
                found.append(f"{rp:.0f}% of the weight at low risk of selective reporting (under 50%)")
            text = (" and ".join(found) if found else
                    "no Egger test (fewer than 3 studies), excess-significance test or selective-reporting "
                    "assessment available, counted against the finding as metaumbrella does")
            out.append(f"Publication bias: {text}; downgraded one level.")
    small = int(d.get("small_k", 0) or 0)
    if small:
        out.append(f"Fewer than 5 studies (k = {finding.k}); downgraded one level.")
    for key, value in d.items():
        if key in _KNOWN_DOMAINS or isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            continue
        out.append(f"{key.replace('_', ' ').capitalize()}: downgraded {_levels(value)}.")
    return out


@dataclass(frozen=True)
class SummaryOfFindings:
    """The table (display strings), its lettered footnotes, and the numbers behind it."""

    frame: pd.DataFrame
    footnotes: list[str]
    data: pd.DataFrame
    assumed_risks: dict[str, float]


def _fmt(x: float, d: int = 2) -> str:
    return f"{x:.{d}f}".replace("-", "\u2212")


def _diff_text(est: float, lo: float, hi: float, measure: str) -> str:
    def side(v: float) -> str:
        return f"{_fmt(abs(v))} {'higher' if v >= 0 else 'lower'}"

    return f"{measure} {side(est)} ({side(lo)} to {side(hi)})"


def summary_of_findings(findings: Sequence[Any], *, settings: Any = None) -> SummaryOfFindings:
    """The Summary-of-findings table of ``findings`` (:class:`~metareview.report.findings.Finding`);
    ``settings`` is ``report.toml``'s ``[summary_of_findings]`` (assumed control risks, ``per``)."""
    per = getattr(settings, "per", 1000)
    rows, data, notes, assumed = [], [], [], {}
    for f in findings:
        a, g = f.assessment, f.grade
        m = f.measure.upper()
        ratio = m in _RATIOS
        est, lo, hi = a.estimate, a.ci_lower, a.ci_upper
        rel = (f"{m} {_fmt(math.exp(est))} ({_fmt(math.exp(lo))} to {_fmt(math.exp(hi))})" if ratio
               else "\u2013")
        p0 = settings.risk_for(f.name) if settings is not None and ratio else None
        without = with_ = diff = "\u2013"
        rec: dict[str, Any] = {"finding": f.name, "measure": m, "k": f.k, "participants": f.participants,
                               "estimate": est, "ci_lower": lo, "ci_upper": hi, "certainty": g.level}
        if ratio and p0 is not None:
            assumed[f.name] = p0
            r1 = [risk_with(m, math.exp(v), p0) for v in (est, lo, hi)]
            without = f"{per * p0:.0f} per {per:,}"
            with_ = f"{per * r1[0]:.0f} per {per:,} ({per * r1[1]:.0f} to {per * r1[2]:.0f})"
            dd = [per * (r - p0) for r in r1]
            diff = (f"{abs(dd[0]):.0f} {'more' if dd[0] >= 0 else 'fewer'} per {per:,} "
                    f"({abs(dd[1]):.0f} {'more' if dd[1] >= 0 else 'fewer'} to "
                    f"{abs(dd[2]):.0f} {'more' if dd[2] >= 0 else 'fewer'})")
            rec.update(assumed_risk=p0, risk_with=r1[0], risk_with_lower=r1[1], risk_with_upper=r1[2])
        elif ratio:
            diff = "no assumed control risk stated"
        else:
            diff = _diff_text(est, lo, hi, m)
        letters = []
        for reason in downgrade_reasons(f):
            if reason not in notes:
                notes.append(reason)
            letters.append(chr(ord("a") + notes.index(reason)) if notes.index(reason) < 26 else
                           str(notes.index(reason) + 1))
        level = str(g.level)
        certainty = f"{CERTAINTY_SYMBOLS.get(level, '')} {level.upper()}".strip()
        provisional = bool(getattr(g, "provisional", False))
        if provisional:
            certainty += " (provisional)"
        rec["provisional"] = provisional
        rec["not_assessed"] = ", ".join(getattr(g, "not_assessed", ()))
        if letters:
            certainty += " " + ",".join(sorted(letters, key=lambda x: (len(x), x)))
        rows.append({"Finding": f.name, "Relative effect (95% CI)": rel, "Risk without": without,
                     "Risk with (95% CI)": with_, "Difference (95% CI)": diff,
                     "Participants (studies)": f"{f.participants:,.0f} ({f.k})",
                     "Certainty (GRADE)": certainty})
        rec["downgrades"] = " ".join(downgrade_reasons(f))
        data.append(rec)
    footnotes = [f"{chr(ord('a') + i) if i < 26 else i + 1}. {n}" for i, n in enumerate(notes)]
    return SummaryOfFindings(pd.DataFrame(rows), footnotes, pd.DataFrame(data), assumed)
