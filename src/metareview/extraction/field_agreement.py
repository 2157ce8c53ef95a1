"""Agreement between the two extractors of each report, per field.

Computed from the submitted extractions of the reports whose extractors have both submitted (the values
as typed, before any consensus). A *field* is a path without its report or effect-size key
(:attr:`metareview.extraction.snapshot.FieldPath.group`): ``report.citation``, ``report.amstar2.7``,
``effect.estimate``, ``effect.sample``, ``study.year``; and ``effect`` / ``study`` for whether an
effect size or primary study was extracted by both (matched by key or label). For each field:

* **items**: report-level fields, one per report where either extractor gave a value; fields of an
  effect size or study, one per effect size or study both extracted (where either gave a value);
  ``effect`` / ``study``: one per effect size or study either extracted;
* **percent agreement**: the share of items with the same value (a blank on both sides never counts);
* **Cohen's kappa** with its 95% CI (Cohen 1960; standard error of Fleiss, Cohen & Everitt 1969), for
  categorical fields — AMSTAR 2 items, outcome domain, measure, ``higher_favours``, declared categorical
  and yes/no fields — computed by :func:`metareview.screening.agreement.cohen_kappa` with a blank as a
  category of its own; ``None`` where kappa is undefined (both extractors used one category throughout)
  or not meaningful (numbers, text, presence — no item is absent on both sides, so chance agreement has
  no meaning there). Rater 1 and 2 are a report's extractors in name order; kappa does not depend on
  which is which.

Example::

    from metareview.extraction.field_agreement import extraction_agreement
    print(extraction_agreement(review))       # one row per field: n, agreed, %, kappa [95% CI]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from metareview.errors import InputError
from metareview.extraction.snapshot import ReportExtraction, parse_path

_CATEGORICAL_BUILTINS = {"effect.outcome_domain", "effect.measure", "effect.higher_favours"}
_BLANK = "(blank)"


@dataclass(frozen=True)
class FieldAgreement:
    """Agreement on one field over ``n`` items."""

    field: str
    n: int
    agreed: int
    kappa: float | None = None
    kappa_ci: tuple[float, float] | None = None
    note: str = ""

    @property
    def percent(self) -> float:
        """Percent agreement (0-100)."""
        return 100.0 * self.agreed / self.n if self.n else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "n": self.n, "agreed": self.agreed, "percent": self.percent,
                "kappa": self.kappa, "kappa_ci_lower": self.kappa_ci[0] if self.kappa_ci else None,
                "kappa_ci_upper": self.kappa_ci[1] if self.kappa_ci else None, "note": self.note}


@dataclass(frozen=True)
class ExtractionAgreement:
    """Agreement per field over ``reports`` reports extracted twice."""

    reports: int
    fields: tuple[FieldAgreement, ...]

    @property
    def overall(self) -> FieldAgreement:
        """Every item of every field pooled (percent agreement only)."""
        n = sum(f.n for f in self.fields)
        return FieldAgreement("all fields", n, sum(f.agreed for f in self.fields))

    def to_dict(self) -> dict[str, Any]:
        return {"reports": self.reports, "fields": [f.to_dict() for f in self.fields],
                "overall": self.overall.to_dict()}

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame([f.to_dict() for f in self.fields])

    def __str__(self) -> str:
        if not self.reports:
            return "Extraction agreement: no report has both extractions submitted yet"
        width = max(len(f.field) for f in self.fields) if self.fields else 10
        lines = [f"Extraction agreement ({self.reports} report(s) extracted twice)",
                 f"  {'field':<{width}}  {'n':>5}  {'agreed':>6}  {'%':>6}  kappa [95% CI]"]
        for f in (*self.fields, self.overall):
            kappa = (f"{f.kappa:.3f} [{f.kappa_ci[0]:.3f}, {f.kappa_ci[1]:.3f}]"
                     if f.kappa is not None and f.kappa_ci else f.note)
            lines.append(f"  {f.field:<{width}}  {f.n:>5}  {f.agreed:>6}  {f.percent:>6.1f}  {kappa}")
        return "\n".join(lines)


def _categorical(group: str, protocol: Any) -> bool:
    if group.startswith("report.amstar2.") or group in _CATEGORICAL_BUILTINS:
        return True
    if protocol is None:
        return False
    part, _, name = group.partition(".")
    specs = (protocol.report_fields if part == "report" else protocol.effect_fields if part == "effect"
             else [])
    return any(s.name == name and s.type in ("categorical", "yes/no") for s in specs)


def field_agreement(pairs: Mapping[str, Mapping[str, ReportExtraction]],
                    protocol: Any = None) -> ExtractionAgreement:
    """Agreement per field from ``report_id -> {extractor: extraction}`` (two extractions each)."""
    from metareview.screening.agreement import cohen_kappa

    items: dict[str, list[tuple[Any, Any]]] = {}
    for key, by_name in pairs.items():
        if len(by_name) != 2:
            raise InputError(f"report {key!r}: agreement needs two extractions, got {len(by_name)}",
                             field="report_id")
        a, b = (by_name[n].fields() for n in sorted(by_name))
        for path in dict.fromkeys([*a, *b]):
            p = parse_path(path)
            if p.parent is not None and not (a.get(p.parent) and b.get(p.parent)):
                continue  # a field of an effect size or study only one extracted
            items.setdefault(p.group, []).append((a.get(path), b.get(path)))
    out = []
    for group, values in items.items():
        agreed = sum(1 for x, y in values if x == y)
        kappa, ci, note = None, None, ""
        if group in ("effect", "study"):
            note = "presence: kappa not meaningful"
        elif not _categorical(group, protocol):
            note = "not categorical"
        elif len(values) < 2:
            note = "kappa needs 2 or more items"
        else:
            first = [_BLANK if x is None else str(x) for x, _ in values]
            second = [_BLANK if y is None else str(y) for _, y in values]
            try:
                res = cohen_kappa(first, second)
                kappa, ci = res.estimate, (res.ci_lower, res.ci_upper)
            except InputError:
                note = "kappa undefined (one category throughout)"
        out.append(FieldAgreement(group, len(values), agreed, kappa, ci, note))
    return ExtractionAgreement(len(pairs), tuple(out))


def extraction_agreement(review: Any) -> ExtractionAgreement:
    """:func:`field_agreement` over the review's reports whose two extractors have both submitted."""
    from metareview.extraction.dual import submitted_extractions

    return field_agreement(submitted_extractions(review), review.protocol)
