"""The extraction forms as the protocol declares them: checks, a JSON description, and orphan detection.

``protocol.toml`` declares the outcome domains, the moderators and the custom fields of reports and effect
sizes (:class:`metareview.protocol.FieldSpec`). This module checks extracted forms against that
declaration, describes the forms as JSON (what a web form or a template is built from), turns dicts into
validated forms (the JSON API a web route calls), and lists the extracted values a protocol change would
orphan::

    from metareview.protocol import Protocol
    from metareview.extraction.schema import effect_size_from_dict, form_schema
    proto = Protocol.load("my-review/protocol.toml")
    form_schema(proto)["effect_sizes"][12]    # {'name': 'sample', 'type': 'categorical', 'levels': …}
    es = effect_size_from_dict({"report_id": "a", "outcome_domain": "depression", ..., "sample": "clinical"},
                               proto)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from metareview.errors import InputError
from metareview.extraction.forms import EffectSizeRecord, FieldValue, MetaAnalysisReport
from metareview.protocol import FieldSpec, Protocol

__all__ = ["Orphan", "bundle_from_dict", "check_bundle", "check_effect_size", "check_fields", "check_report",
           "effect_size_from_dict", "ensure_no_orphans", "field_errors", "form_schema", "orphans",
           "report_from_dict"]

#: built-in columns of each form, with what they hold (the template's help sheet)
REPORT_BUILTINS: dict[str, str] = {
    "id": "short key, e.g. 'heber2017' (required)", "citation": "full citation (required)",
    "year": "publication year", "doi": "DOI", "search_date": "YYYY-MM-DD, date of the last search",
    "databases": "databases searched, separated by ';'", "n_studies": "number of primary studies",
    "n_participants": "number of participants",
}
EFFECT_BUILTINS: dict[str, str] = {
    "report_id": "id of the report (required)", "outcome_domain": "outcome domain (required)",
    "comparison": "what was compared (required)",
    "measure": "SMD, MD, OR, RR, HR, ... (ratios on their natural scale; required)",
    "estimate": "point estimate (required)", "ci_lower": "lower 95% CI bound",
    "ci_upper": "upper 95% CI bound",
    "p": "p value", "k": "number of studies pooled", "n": "number of participants",
    "higher_favours": "true if values above the null favour the experimental condition (default true)",
    "effect_id": "optional key of the effect size within its report, e.g. 'dep-post' (matches the rows of "
                 "two extractors; default: outcome_domain | comparison | measure)",
}


def check_fields(values: Mapping[str, Any], specs: Sequence[FieldSpec], *,
                 form: str) -> dict[str, FieldValue]:
    """The declared fields' values, coerced (categorical level, number, text, yes/no).

    Raises :class:`InputError` with ``field`` set: an undeclared field, a required one missing, a value not
    allowed (the message names the allowed levels).
    """
    by_name = {s.name: s for s in specs}
    out: dict[str, FieldValue] = {}
    for name, raw in values.items():
        spec = by_name.get(name)
        if spec is None:
            declared = ", ".join(by_name) or "none"
            raise InputError(f"{name!r} is not a field of {form} declared in protocol.toml (declared: "
                             f"{declared})", field=name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        try:
            out[name] = spec.coerce(raw)
        except ValueError as exc:
            raise InputError(str(exc), field=name) from None
    for spec in specs:
        if spec.required and spec.name not in out:
            hint = f" ({spec.allowed()})" if spec.type == "categorical" else ""
            raise InputError(f"{spec.name} is required by protocol.toml{hint}", field=spec.name)
    return out


def field_errors(values: Mapping[str, Any], specs: Sequence[FieldSpec]) -> tuple[dict[str, FieldValue],
                                                                                  dict[str, str]]:
    """Like :func:`check_fields`, but every problem at once (what a web form shows beside each field):
    the coerced values, and ``name -> message`` for each declared field that is missing or not allowed
    (and each undeclared one)."""
    by_name = {s.name: s for s in specs}
    out: dict[str, FieldValue] = {}
    errors: dict[str, str] = {}
    for name in values:
        if name not in by_name:
            errors[name] = f"{name!r} is not declared in protocol.toml"
    for spec in specs:
        raw = values.get(spec.name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if spec.required:
                hint = f" ({spec.allowed()})" if spec.type == "categorical" else ""
                errors[spec.name] = f"{spec.name} is required by protocol.toml{hint}"
            continue
        try:
            out[spec.name] = spec.coerce(raw)
        except ValueError as exc:
            errors[spec.name] = str(exc)
    return out, errors


def check_report(report: MetaAnalysisReport, protocol: Protocol) -> MetaAnalysisReport:
    """The report with its declared fields coerced; :class:`InputError` when they do not fit."""
    fields = check_fields(report.fields, protocol.report_fields, form="a report")
    return report.model_copy(update={"fields": fields})


def check_effect_size(effect: EffectSizeRecord, protocol: Protocol) -> EffectSizeRecord:
    """The effect size with its declared fields coerced; the outcome domain must be a declared one (when
    the protocol lists any)."""
    domains = protocol.outcome_domains
    if domains and effect.outcome_domain not in domains:
        raise InputError(f"outcome_domain must be one of {', '.join(domains)}; got {effect.outcome_domain!r}",
                         field="outcome_domain")
    fields = check_fields(effect.fields, protocol.effect_fields, form="an effect size")
    return effect.model_copy(update={"fields": fields})


def check_bundle(bundle: Any, protocol: Protocol) -> Any:
    """An :class:`~metareview.extraction.templates.ExtractionBundle` checked against the protocol (a new
    bundle with coerced values); the error names the report (and effect size) at fault."""
    from metareview.extraction.templates import ExtractionBundle

    reports = []
    for r in bundle.reports:
        try:
            reports.append(check_report(r, protocol))
        except InputError as exc:
            raise InputError(f"report {r.id!r}: {exc.message}", field=exc.field) from None
    effects = []
    for i, e in enumerate(bundle.effect_sizes, start=1):
        try:
            effects.append(check_effect_size(e, protocol))
        except InputError as exc:
            raise InputError(f"effect size {i} (report {e.report_id!r}): {exc.message}",
                             field=exc.field) from None
    return ExtractionBundle(tuple(reports), tuple(effects), bundle.primary_studies)


def _describe(spec: FieldSpec, role: str) -> dict[str, Any]:
    return {"name": spec.name, "label": spec.title, "type": spec.type, "levels": list(spec.levels),
            "required": spec.required, "help": spec.help or spec.allowed(), "role": role}


def _builtin(name: str, help_text: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "label": name.replace("_", " ").capitalize(), "type": "builtin",
            "levels": [], "required": "(required)" in help_text, "help": help_text, "role": "builtin"} | extra


def form_schema(protocol: Protocol | None = None) -> dict[str, list[dict[str, Any]]]:
    """The fields of each form (``reports``, ``effect_sizes``) as JSON-able dicts, built-ins first, then the
    declared fields: ``name, label, type, levels, required, help, role`` (role: builtin, moderator, field)."""
    reports = [_builtin(n, h) for n, h in REPORT_BUILTINS.items()]
    effects = [_builtin(n, h) for n, h in EFFECT_BUILTINS.items()]
    if protocol is not None:
        if protocol.outcome_domains:
            effects[1] = _builtin("outcome_domain", "one of: " + " | ".join(protocol.outcome_domains) +
                                  " (required)", levels=list(protocol.outcome_domains))
        reports += [_describe(s, "field") for s in protocol.report_fields]
        effects += [_describe(s, "moderator") for s in protocol.moderators]
        effects += [_describe(s, "field") for s in protocol.extraction.effect_fields]
    return {"reports": reports, "effect_sizes": effects}


def _validated(model: type[Any], data: Mapping[str, Any]) -> Any:
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(x) for x in err["loc"]]
        raise InputError(str(err["msg"]).removeprefix("Value error, "),
                         field=loc[0] if loc else None) from None


def report_from_dict(data: Mapping[str, Any], protocol: Protocol | None = None) -> MetaAnalysisReport:
    """A validated report from a JSON-able dict (declared fields as top-level keys or under ``fields``)."""
    report: MetaAnalysisReport = _validated(MetaAnalysisReport, data)
    return check_report(report, protocol) if protocol is not None else report


def effect_size_from_dict(data: Mapping[str, Any], protocol: Protocol | None = None) -> EffectSizeRecord:
    """A validated effect size from a JSON-able dict (declared fields top-level or under ``fields``)."""
    effect: EffectSizeRecord = _validated(EffectSizeRecord, data)
    return check_effect_size(effect, protocol) if protocol is not None else effect


def bundle_from_dict(data: Mapping[str, Any], protocol: Protocol | None = None) -> Any:
    """An :class:`~metareview.extraction.templates.ExtractionBundle` from the dict its ``to_dict`` gives
    (``reports``, ``effect_sizes``, ``primary_studies``); the inverse of ``to_dict``. Derived keys
    (``direction``, ``confidence``) are ignored."""
    from metareview.extraction.forms import PrimaryStudyList
    from metareview.extraction.templates import ExtractionBundle

    reports = []
    for i, r in enumerate(data.get("reports", []), start=1):
        try:
            reports.append(report_from_dict({k: v for k, v in r.items() if k != "confidence"}, protocol))
        except InputError as exc:
            raise InputError(f"reports[{i}]: {exc.message}", field=exc.field) from None
    effects = []
    for i, e in enumerate(data.get("effect_sizes", []), start=1):
        try:
            effects.append(effect_size_from_dict({k: v for k, v in e.items() if k != "direction"}, protocol))
        except InputError as exc:
            raise InputError(f"effect_sizes[{i}]: {exc.message}", field=exc.field) from None
    lists = tuple(_validated(PrimaryStudyList, p) for p in data.get("primary_studies", []))
    return ExtractionBundle(tuple(reports), tuple(effects), lists)


@dataclass(frozen=True)
class Orphan:
    """An extracted value the protocol no longer allows."""

    form: str          # "report" or "effect size"
    report_id: str
    field: str
    value: Any
    reason: str

    def __str__(self) -> str:
        return f"{self.form} of {self.report_id!r}: {self.field} = {self.value!r} ({self.reason})"

    def to_dict(self) -> dict[str, Any]:
        return {"form": self.form, "report_id": self.report_id, "field": self.field, "value": self.value,
                "reason": self.reason}


def _orphans_of(form: str, report_id: str, values: Mapping[str, Any],
                specs: Sequence[FieldSpec]) -> list[Orphan]:
    by_name = {s.name: s for s in specs}
    out = []
    for name, value in values.items():
        spec = by_name.get(name)
        if spec is None:
            out.append(Orphan(form, report_id, name, value, "field no longer declared"))
            continue
        try:
            spec.coerce(value)
        except ValueError:
            why = (f"level not among {', '.join(spec.levels)}" if spec.type == "categorical"
                   else f"not {spec.allowed()}")
            out.append(Orphan(form, report_id, name, value, why))
    return out


def orphans(bundle: Any, protocol: Protocol) -> list[Orphan]:
    """Every extracted value in ``bundle`` that ``protocol`` does not declare or allow (a renamed or
    removed field, a removed level, an outcome domain no longer listed, a changed type)."""
    out: list[Orphan] = []
    for r in bundle.reports:
        out += _orphans_of("report", r.id, r.fields, protocol.report_fields)
    for e in bundle.effect_sizes:
        if protocol.outcome_domains and e.outcome_domain not in protocol.outcome_domains:
            out.append(Orphan("effect size", e.report_id, "outcome_domain", e.outcome_domain,
                              "outcome domain no longer declared"))
        out += _orphans_of("effect size", e.report_id, e.fields, protocol.effect_fields)
    return out


def ensure_no_orphans(bundle: Any, protocol: Protocol, *, source: str = "protocol.toml") -> None:
    """Refuse (:class:`InputError`) a protocol that would orphan extracted data, saying what and how to
    migrate it explicitly."""
    found = orphans(bundle, protocol)
    if not found:
        return
    fields = sorted({o.field for o in found})
    shown = "; ".join(str(o) for o in found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else "")
    raise InputError(
        f"the protocol would orphan {len(found)} extracted value(s) in {', '.join(fields)}: {shown}. Restore "
        "the field or level in protocol.toml, or migrate the stored data explicitly: metareview protocol "
        "migrate --rename-field OLD=NEW --rename-level FIELD:OLD=NEW --drop-field NAME", file=source,
        field=fields[0])
