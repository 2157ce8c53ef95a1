"""One person's extraction of one report as a unit, and its fields as *paths* that two extractions are
compared on and a consensus is recorded for.

A :class:`ReportExtraction` is the report form (with its AMSTAR 2 answers and declared fields), its effect
sizes (each with a stable key) and its primary studies. :meth:`ReportExtraction.fields` flattens it to
``path -> value`` (JSON values):

==================================  =====================================================================
``report.citation``                 a built-in report field (``citation, year, doi, search_date,
                                    databases, n_studies, n_participants``) or a declared one
``report.amstar2.7``                AMSTAR 2 item 7
``effect[KEY]``                     the effect size ``KEY`` is extracted (``"present"``)
``effect[KEY].estimate``            a built-in or declared field of that effect size
``study[LABEL]``                    the primary study ``LABEL`` is listed (``"present"``)
``study[LABEL].year``               its ``year``, ``doi`` or ``publication_date``
==================================  =====================================================================

An effect size's key is its ``effect_id`` when the extractor gave one, else
``outcome domain | comparison | measure`` (lower case, spaces collapsed), with `` #2``, `` #3`` … on
repeats; a key is fixed when the effect size is first saved, so a later protocol migration (an outcome
domain renamed) does not change it. Example::

    ex = ReportExtraction(report, effects)
    ex.fields()["effect[depression | guided vs unguided | smd].estimate"]     # 0.31
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError

from metareview.errors import InputError
from metareview.extraction.amstar2 import ITEMS, normalise_answer
from metareview.extraction.forms import EffectSizeRecord, MetaAnalysisReport, PrimaryStudy, PrimaryStudyList

PRESENT = "present"
REPORT_SCALARS = ("citation", "year", "doi", "search_date", "databases", "n_studies", "n_participants")
EFFECT_SCALARS = ("outcome_domain", "comparison", "measure", "estimate", "ci_lower", "ci_upper", "p", "k",
                  "n", "higher_favours", "effect_id")
STUDY_SCALARS = ("year", "doi", "publication_date")
KEEP, DROP = "keep", "drop"
_PRESENCE = {"keep": PRESENT, "present": PRESENT, "yes": PRESENT, "drop": None, "absent": None, "no": None}
_SPACES = re.compile(r"\s+")
_ITEM = re.compile(r"^report\.amstar2\.(\d+)$")


def _norm(text: str) -> str:
    return _SPACES.sub(" ", str(text).strip()).casefold()


def default_key(effect: EffectSizeRecord) -> str:
    """``outcome domain | comparison | measure`` in lower case with spaces collapsed."""
    return " | ".join(_norm(x) for x in (effect.outcome_domain, effect.comparison, effect.measure))


def new_key(effect: EffectSizeRecord, taken: Iterable[str]) -> str:
    """The key an effect size gets when saved beside effect sizes holding the keys ``taken``."""
    used = set(taken)
    base = _norm(effect.effect_id) if effect.effect_id else default_key(effect)
    if effect.effect_id and base in used:
        raise InputError(f"effect_id {effect.effect_id!r} is used twice in report {effect.report_id!r}",
                         field="effect_id")
    key, n = base, 1
    while key in used:
        n += 1
        key = f"{base} #{n}"
    return key


@dataclass(frozen=True)
class ReportExtraction:
    """An extraction of one report: the report form, its effect sizes (``keys`` parallel to them) and its
    primary studies."""

    report: MetaAnalysisReport
    effect_sizes: tuple[EffectSizeRecord, ...] = ()
    studies: tuple[PrimaryStudy, ...] = ()
    keys: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.keys) != len(self.effect_sizes):
            keys: list[str] = list(self.keys)
            for es in self.effect_sizes[len(keys):]:
                keys.append(new_key(es, keys))
            object.__setattr__(self, "keys", tuple(keys))
        if len(set(self.keys)) != len(self.keys):
            raise InputError(f"report {self.key!r}: two effect sizes have one key", field="effect_id")
        for es in self.effect_sizes:
            if es.report_id != self.key:
                raise InputError(f"an effect size of report {es.report_id!r} in report {self.key!r}",
                                 field="report_id")
        labels = [s.label for s in self.studies]
        if len(set(labels)) != len(labels):
            raise InputError(f"report {self.key!r}: a primary study is listed twice", field="label")

    @property
    def key(self) -> str:
        """The report's key (its ``id``)."""
        return self.report.id

    # --- changes (each gives a new extraction) ----------------------------------------------------

    def with_report(self, report: MetaAnalysisReport) -> ReportExtraction:
        """The report form replaced (same key); effect sizes and studies kept."""
        if report.id != self.key:
            raise InputError(f"report id {report.id!r} is not {self.key!r}", field="id")
        return ReportExtraction(report, self.effect_sizes, self.studies, self.keys)

    def with_effect(self, effect: EffectSizeRecord) -> ReportExtraction:
        """An effect size added (or, with the key of one already there, replacing it)."""
        key = _norm(effect.effect_id) if effect.effect_id else None
        if key is not None and key in self.keys:
            i = self.keys.index(key)
            effects = (*self.effect_sizes[:i], effect, *self.effect_sizes[i + 1:])
            return ReportExtraction(self.report, effects, self.studies, self.keys)
        return ReportExtraction(self.report, (*self.effect_sizes, effect), self.studies,
                                (*self.keys, new_key(effect, self.keys)))

    def without_effect(self, key: str) -> ReportExtraction:
        """The effect size ``key`` removed."""
        if key not in self.keys:
            raise InputError(f"report {self.key!r} has no effect size {key!r}", field="effect")
        i = self.keys.index(key)
        return ReportExtraction(self.report, self.effect_sizes[:i] + self.effect_sizes[i + 1:], self.studies,
                                self.keys[:i] + self.keys[i + 1:])

    def with_studies(self, studies: Sequence[PrimaryStudy], *, replace: bool = False) -> ReportExtraction:
        """Primary studies added (a label already listed is an error), or the list replaced."""
        if not replace:
            have = {s.label for s in self.studies}
            for s in studies:
                if s.label in have:
                    raise InputError(f"primary study {s.label!r} already listed for {self.key!r}",
                                     field="label")
        new = tuple(studies) if replace else (*self.studies, *studies)
        return ReportExtraction(self.report, self.effect_sizes, new, self.keys)

    # --- as forms, JSON and paths -------------------------------------------------------------------

    def bundle(self) -> Any:
        """The extraction as an :class:`~metareview.extraction.templates.ExtractionBundle`."""
        from metareview.extraction.templates import ExtractionBundle

        lists = (PrimaryStudyList(report_id=self.key, studies=list(self.studies)),) if self.studies else ()
        return ExtractionBundle((self.report,), self.effect_sizes, lists)

    def to_json(self) -> dict[str, Any]:
        """JSON values (what an event stores)."""
        return {"report": self.report.model_dump(mode="json"),
                "effect_sizes": [{"key": k, **e.model_dump(mode="json")}
                                 for k, e in zip(self.keys, self.effect_sizes, strict=True)],
                "studies": [s.model_dump(mode="json") for s in self.studies]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReportExtraction:
        """The inverse of :meth:`to_json`."""
        effects = [dict(e) for e in data.get("effect_sizes", [])]
        keys = tuple(str(e.pop("key")) for e in effects)
        return cls(MetaAnalysisReport.model_validate(data["report"]),
                   tuple(EffectSizeRecord.model_validate(e) for e in effects),
                   tuple(PrimaryStudy.model_validate(s) for s in data.get("studies", [])), keys)

    def fields(self) -> dict[str, Any]:
        """``path -> value`` of every field given (blank fields left out), in form order."""
        out: dict[str, Any] = {}
        rep = self.report.model_dump(mode="json")
        for name in REPORT_SCALARS:
            _put(out, f"report.{name}", rep.get(name))
        for item, answer in sorted((self.report.amstar2 or {}).items()):
            out[f"report.amstar2.{item}"] = answer
        for name, value in self.report.fields.items():
            _put(out, f"report.{name}", value)
        for key, es in zip(self.keys, self.effect_sizes, strict=True):
            out[f"effect[{key}]"] = PRESENT
            dumped = es.model_dump(mode="json")
            for name in EFFECT_SCALARS:
                _put(out, f"effect[{key}].{name}", dumped.get(name))
            for name, value in es.fields.items():
                _put(out, f"effect[{key}].{name}", value)
        for st in self.studies:
            out[f"study[{st.label}]"] = PRESENT
            dumped = st.model_dump(mode="json")
            for name in STUDY_SCALARS:
                _put(out, f"study[{st.label}].{name}", dumped.get(name))
        return out


def _put(out: dict[str, Any], path: str, value: Any) -> None:
    if value is None or value == [] or (isinstance(value, str) and not value.strip()):
        return
    out[path] = value


# --- paths -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldPath:
    """A parsed field path: ``part`` is ``report``, ``effect`` or ``study``; ``key`` the effect key or
    study label; ``name`` the field (``None`` for the presence of an effect size or study)."""

    part: str
    key: str | None
    name: str | None

    @property
    def group(self) -> str:
        """The path without its key: the field agreement is counted over (``effect.estimate``)."""
        if self.part == "report":
            return f"report.{self.name}"
        return self.part if self.name is None else f"{self.part}.{self.name}"

    @property
    def parent(self) -> str | None:
        """The presence path of an effect size's or study's field."""
        return f"{self.part}[{self.key}]" if self.part != "report" and self.name is not None else None


def parse_path(path: str) -> FieldPath:
    """Split a field path; :class:`InputError` for one that names no field."""
    text = str(path).strip()
    if text.startswith("report."):
        name = text[len("report."):]
        if name and name != "id":
            return FieldPath("report", None, name)
    for part in ("effect", "study"):
        if text.startswith(part + "[") and "]" in text:
            close = text.rindex("]")
            key, rest = text[len(part) + 1:close], text[close + 1:]
            if key and (rest == "" or (rest.startswith(".") and len(rest) > 1 and "]" not in rest)):
                return FieldPath(part, key, rest[1:] or None)
    raise InputError(f"not a field path: {path!r} (e.g. report.citation, report.amstar2.7, "
                     "effect[KEY].estimate, study[LABEL])", field="field")


def label(path: str) -> str:
    """A readable name of a field path."""
    p = parse_path(path)
    m = _ITEM.match(path)
    if m:
        return f"AMSTAR 2 item {m.group(1)}"
    if p.part == "report":
        return str(p.name).replace("_", " ")
    what = "effect size" if p.part == "effect" else "primary study"
    return f"{what} {p.key!r}" + (f": {str(p.name).replace('_', ' ')}" if p.name else "")


def _adapter(model: Any, name: str) -> TypeAdapter[Any]:
    """The field's type with its constraints (``ge``, ``max_length`` …)."""
    info = model.model_fields[name]
    kind: Any = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    return TypeAdapter(kind)


def coerce(path: str, value: Any, protocol: Any = None) -> Any:
    """``value`` as a JSON value of the field at ``path`` (None for a blank); :class:`InputError` naming
    the path and what it accepts. Cross-field rules (both CI bounds, all 16 AMSTAR 2 items) are checked
    when the whole extraction is built (:func:`build`)."""
    p = parse_path(path)
    if p.name is None:  # presence of an effect size or a study
        text = str(value).strip().lower() if value is not None else "drop"
        if text not in _PRESENCE:
            raise InputError(f"{path}: give keep or drop, not {value!r}", field=path)
        return _PRESENCE[text]
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    m = _ITEM.match(path)
    if m:
        item = int(m.group(1))
        if item not in ITEMS:
            raise InputError(f"AMSTAR 2 has items 1 to 16, not {item}", field=path)
        try:
            return normalise_answer(item, value)
        except InputError as exc:
            raise InputError(f"{path}: {exc.message}", field=path) from None
    declared = _declared(p, protocol)
    if declared is not None:
        try:
            return declared.coerce(value)
        except ValueError as exc:
            raise InputError(f"{path}: {exc}", field=path) from None
    model, scalars = {"report": (MetaAnalysisReport, REPORT_SCALARS),
                      "effect": (EffectSizeRecord, EFFECT_SCALARS),
                      "study": (PrimaryStudy, STUDY_SCALARS)}[p.part]
    if p.name not in scalars:
        if protocol is None and p.part != "study":  # a declared field, not checked without a protocol
            return value.strip() if isinstance(value, str) else value
        what = "an effect size" if p.part == "effect" else "a " + p.part
        raise InputError(f"{path}: {p.name!r} is not a field of {what}", field=path)
    if p.name == "databases" and isinstance(value, str):
        value = [d.strip() for d in re.split(r"[;,]", value) if d.strip()]
    try:
        adapter = _adapter(model, str(p.name))
        out = adapter.dump_python(adapter.validate_python(value), mode="json")
    except ValidationError as exc:
        raise InputError(f"{path}: {exc.errors()[0]['msg']}", field=path) from None
    if p.name == "measure":
        from metareview.extraction.direction import null_value

        out = str(out).strip().upper()
        try:
            null_value(out)
        except InputError as exc:
            raise InputError(f"{path}: {exc.message}", field=path) from None
    return out


def _declared(p: FieldPath, protocol: Any) -> Any:
    if protocol is None:
        return None
    specs = (protocol.report_fields if p.part == "report" else
             protocol.effect_fields if p.part == "effect" else [])
    return next((s for s in specs if s.name == p.name), None)


def build(key: str, values: Mapping[str, Any], order: Sequence[str] = (),
          protocol: Any = None) -> ReportExtraction:
    """The extraction whose fields are ``values`` (``path -> value``, as :meth:`ReportExtraction.fields`
    gives); effect sizes and studies in the order of ``order`` (their presence paths), then the rest.
    :class:`InputError` when the result is not a valid form (the message names the field)."""
    report: dict[str, Any] = {"id": key, "fields": {}}
    amstar: dict[int, Any] = {}
    effects: dict[str, dict[str, Any]] = {}
    studies: dict[str, dict[str, Any]] = {}
    present = [p for p in (*order, *values) if values.get(p) == PRESENT]
    for path in dict.fromkeys(present):
        p = parse_path(path)
        (effects if p.part == "effect" else studies)[str(p.key)] = {}
    for path, value in values.items():
        if value is None:
            continue
        p = parse_path(path)
        if p.part == "report":
            m = _ITEM.match(path)
            if m:
                amstar[int(m.group(1))] = value
            elif p.name in REPORT_SCALARS:
                report[str(p.name)] = value
            else:
                report["fields"][str(p.name)] = value
        elif p.name is not None:
            target = effects if p.part == "effect" else studies
            if str(p.key) in target:
                if p.part == "effect" and p.name not in EFFECT_SCALARS:
                    target[str(p.key)].setdefault("fields", {})[str(p.name)] = value
                else:
                    target[str(p.key)][str(p.name)] = value
    if amstar:
        report["amstar2"] = amstar
    try:
        rep = MetaAnalysisReport.model_validate(report)
    except ValidationError as exc:
        raise InputError(f"report {key!r}: {_message(exc, 'report')}", field="report") from None
    out_effects, keys = [], []
    for ek, data in effects.items():
        try:
            out_effects.append(EffectSizeRecord.model_validate({"report_id": key, **data}))
        except ValidationError as exc:
            raise InputError(f"report {key!r}, effect size {ek!r}: {_message(exc, f'effect[{ek}]')}",
                             field=f"effect[{ek}]") from None
        keys.append(ek)
    out_studies = []
    for lbl, data in studies.items():
        try:
            out_studies.append(PrimaryStudy.model_validate({"label": lbl, **data}))
        except ValidationError as exc:
            raise InputError(f"report {key!r}, primary study {lbl!r}: {_message(exc, f'study[{lbl}]')}",
                             field=f"study[{lbl}]") from None
    result = ReportExtraction(rep, tuple(out_effects), tuple(out_studies), tuple(keys))
    return check(result, protocol) if protocol is not None else result


def check(extraction: ReportExtraction, protocol: Any) -> ReportExtraction:
    """The extraction with its declared fields checked and coerced against ``protocol``."""
    from metareview.extraction.schema import check_effect_size, check_report

    try:
        rep = check_report(extraction.report, protocol)
    except InputError as exc:
        raise InputError(f"report {extraction.key!r}: {exc.message}", field=exc.field) from None
    effects = []
    for k, es in zip(extraction.keys, extraction.effect_sizes, strict=True):
        try:
            effects.append(check_effect_size(es, protocol))
        except InputError as exc:
            raise InputError(f"report {extraction.key!r}, effect size {k!r}: {exc.message}",
                             field=exc.field) from None
    return ReportExtraction(rep, tuple(effects), extraction.studies, extraction.keys)


def _message(exc: ValidationError, prefix: str) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(x) for x in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{prefix}.{loc}: {msg}" if loc else msg
