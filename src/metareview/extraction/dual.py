"""Extraction by one or two people per report: drafts, submissions, blind comparison, consensus.

``[extraction] extractors_per_report`` in ``protocol.toml`` is 1 (the default) or 2.

* **One extractor per report**: a save writes the report's values straight to the final tables that
  every later stage reads (votes, credibility, the report), as before; each save also appends a ``final``
  event holding the report's whole extraction after it, so the history of typed values is kept.
* **Two extractors per report**: each extractor's extraction of a report is their own: every save appends
  a ``draft`` event (the whole extraction), :func:`submit` a ``submission``. When both have submitted,
  :func:`compare` lists the fields that differ side by side (report fields, AMSTAR 2 items, effect sizes
  matched by their key, primary-study lists: see :mod:`metareview.extraction.snapshot`), and
  :func:`record_consensus` appends a ``consensus`` event (who, when, the value; or ``take=`` an extractor's
  value) per differing field. When no field is left open, the agreed extraction is validated against the
  forms and the protocol and written to the final tables, in the transaction that closed it. A consensus
  value changes only through an explicit correction (``correct=True``, a ``correction`` event that keeps
  the previous value).

**Blind** (``[extraction] blind = true``, the default): no function here returns another extractor's
values of a report (nor a comparison, nor the citation they typed) before every required extractor of
that report has submitted; the asker then is either one of them (so has submitted) or an arbiter. What
anyone may see before: their own extraction, and counts (how many have started and submitted).

**Rules under concurrent callers**: at most ``extractors_per_report`` extractors per report, no change to
a submission once the consensus has begun (or the report is agreed), one consensus per field unless
corrected. Each is checked and written in one transaction that holds the report's lock
(:func:`metareview.store.extraction_repo.lock_reports`); the loser gets an
:class:`~metareview.errors.InputError` saying why.

Who extracts: ``[extraction] extractors`` (a roster, matched ignoring case and spaces), else the screening
roster, else any name. Example::

    from metareview.extraction import dual
    dual.save_extraction(review, ana_extraction, "ana", submit=True)
    dual.save_extraction(review, ben_extraction, "ben", submit=True)
    cmp = dual.compare(review, "heber2017", reviewer="olga")      # the differing fields, side by side
    dual.record_consensus(review, "heber2017", "effect[dep].estimate", "olga", take="ana")
    dual.final_bundle(review)                                      # what votes, credibility, report read
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from metareview.errors import InputError
from metareview.extraction.comparison import (
    Comparison,
    ConsensusValue,
    FieldRow,
    ReportStatus,
    field_rows,
    merge,
)
from metareview.extraction.forms import EffectSizeRecord, MetaAnalysisReport, PrimaryStudy
from metareview.extraction.snapshot import PRESENT, ReportExtraction, check, coerce, parse_path
from metareview.protocol import Protocol
from metareview.review import Review
from metareview.screening.roster import canonical_reviewer, check_text
from metareview.store import extraction_repo as repo

DRAFT, SUBMISSION, CONSENSUS, CORRECTION = "draft", "submission", "consensus", "correction"
FINAL, BASELINE, MIGRATION = "final", "baseline", "migration"
UNNAMED = "(unnamed)"  # the actor of a save with one extractor per report and no name given
_UNSET: Any = object()

__all__ = [
    "Comparison", "ConsensusValue", "FieldRow", "ReportStatus", "canonical_extractor", "compare",
    "comparisons", "final_bundle", "import_consensus", "my_extraction", "record_consensus", "save_extraction",
    "save_part", "status", "store_bundle", "submit", "submitted_extractions",
]


# --- names ------------------------------------------------------------------------------------------


def _required(protocol: Protocol) -> int:
    return int(protocol.extraction.extractors_per_report)


def canonical_extractor(protocol: Protocol, name: str | None, option: str = "extractor") -> str:
    """The roster's spelling of ``name``: ``[extraction] extractors`` when declared, else the screening
    roster, else ``name`` with its spaces normalised; :class:`InputError` otherwise."""
    roster = list(protocol.extraction.extractors)
    if roster:
        return canonical_reviewer(protocol, name, roster=roster, where="[extraction] extractors",
                                  option=option)
    return canonical_reviewer(protocol, name, option=option)


# --- replaying the history ----------------------------------------------------------------------------


@dataclass
class _Derived:
    drafts: dict[str, dict[str, Any]] = field(default_factory=dict)  # actor -> extraction (JSON)
    submitted: set[str] = field(default_factory=set)
    consensus: dict[str, ConsensusValue] = field(default_factory=dict)

    def extractions(self) -> dict[str, ReportExtraction]:
        return {name: ReportExtraction.from_json(snap) for name, snap in self.drafts.items()}

    def all_submitted(self, required: int) -> bool:
        return len(self.submitted) >= required


def _derive(events: Iterable[Any]) -> dict[str, _Derived]:
    out: dict[str, _Derived] = {}
    for e in events:
        if e.kind == MIGRATION:
            for d in out.values():
                _migrate(d, e.payload)
            continue
        d = out.setdefault(e.report_key, _Derived())
        if e.kind in (DRAFT, SUBMISSION):
            d.drafts[e.actor] = e.payload
            if e.kind == SUBMISSION:
                d.submitted.add(e.actor)
        elif e.kind in (CONSENSUS, CORRECTION):
            d.consensus[str(e.field)] = ConsensusValue(
                str(e.field), (e.payload or {}).get("value"), e.actor, e.created_at, e.note,
                e.kind == CORRECTION, e.previous)
    return out


def _migrate(d: _Derived, mig: Mapping[str, Any]) -> None:
    """Apply a ``protocol migrate`` (renamed/dropped fields, renamed levels and domains) to the drafts
    and consensus values replayed so far, as it was applied to the final tables."""
    renames: dict[str, str] = dict(mig.get("rename_fields") or {})
    drops = set(mig.get("drop_fields") or [])
    levels = {(f, old): new for f, old, new in mig.get("rename_levels") or []}
    domains: dict[str, str] = dict(mig.get("rename_domains") or {})

    def fields(values: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for name, value in values.items():
            if name in drops:
                continue
            name = renames.get(name, name)
            out[name] = levels.get((name, str(value)), value)
        return out

    for snap in d.drafts.values():
        snap["report"]["fields"] = fields(snap["report"].get("fields") or {})
        for es in snap.get("effect_sizes", []):
            es["fields"] = fields(es.get("fields") or {})
            es["outcome_domain"] = domains.get(es["outcome_domain"], es["outcome_domain"])
    moved: dict[str, ConsensusValue] = {}
    for path, cv in d.consensus.items():
        p = parse_path(path)
        name, value = p.name, cv.value
        if name in drops:
            continue
        if name is not None:
            name = renames.get(name, name)
            value = levels.get((name, str(value)), value)
            if name == "outcome_domain":
                value = domains.get(str(value), value)
        new_path = (f"report.{name}" if p.part == "report" else
                    f"{p.part}[{p.key}]" + (f".{name}" if name else ""))
        moved[new_path] = ConsensusValue(new_path, value, cv.reviewer, cv.at, cv.note, cv.corrected,
                                         cv.previous)
    d.consensus = moved


def _derived(session: Session, key: str) -> _Derived:
    return _derive(repo.extraction_events(session, key)).get(key, _Derived())


def _comparison(key: str, d: _Derived, protocol: Protocol, all_fields: bool) -> Comparison:
    extractions = d.extractions()
    rows, _ = field_rows(extractions, d.consensus)
    n_open = sum(r.open for r in rows)
    shown = rows if all_fields else [r for r in rows if not r.agreed or r.consensus is not None]
    return Comparison(key, tuple(sorted(extractions)), tuple(shown), n_open, n_open == 0)



# --- blind mode --------------------------------------------------------------------------------------


def _visible(protocol: Protocol, d: _Derived, asker: str | None) -> bool:
    """Whether ``asker`` may see the extractors' values of a report (and their names)."""
    if not protocol.extraction.blind:
        return True
    return asker is not None and d.all_submitted(_required(protocol))


def _hidden_error(key: str, d: _Derived, required: int) -> InputError:
    return InputError(
        f"report {key!r}: the extractions are compared once its {required} extractors have submitted "
        f"({len(d.submitted)} of {required} so far; blind extraction)", field="report_id")


# --- writing -----------------------------------------------------------------------------------------


def _write_final(session: Session, extraction: ReportExtraction) -> None:
    """Replace the report's final values (the ones every later stage reads). A report stored before its
    history began is kept as a ``baseline`` event first, so nothing typed is lost."""
    key = extraction.key
    if key in set(repo.final_keys(session)) and not repo.has_history(session, key):
        old = repo.load_bundle(session, [key])
        repo.add_event(session, key, BASELINE, UNNAMED, payload=_single(old, key).to_json())
    repo.save_bundle(session, extraction.bundle(), replace=True)


def _single(bundle: Any, key: str) -> ReportExtraction:
    """One report of a bundle as an extraction."""
    report = next(r for r in bundle.reports if r.id == key)
    effects = tuple(e for e in bundle.effect_sizes if e.report_id == key)
    studies = tuple(s for lst in bundle.primary_studies if lst.report_id == key for s in lst.studies)
    return ReportExtraction(report, effects, studies)


def _final_extraction(session: Session, key: str) -> ReportExtraction | None:
    bundle = repo.load_bundle(session, [key])
    return _single(bundle, key) if bundle.reports else None


def _save_dual(session: Session, protocol: Protocol, extraction: ReportExtraction, actor: str, submit: bool,
               note: str | None) -> None:
    """The rules of a dual extraction's save, under the report's lock (taken by the caller)."""
    key, required = extraction.key, _required(protocol)
    d = _derived(session, key)
    if d.consensus:
        first = min(d.consensus.values(), key=lambda c: c.at)
        raise InputError(
            f"report {key!r}: the consensus has begun ({first.reviewer} recorded one); the extractions can "
            "no longer change: change a value through a consensus (or a correction of one)",
            field="report_id")
    if actor not in d.drafts and len(d.drafts) >= required:
        raise InputError(
            f"report {key!r} already has its {len(d.drafts)} of {required} extractor(s); {actor} cannot "
            "extract it", field="extractor")
    if d.all_submitted(required) and actor in d.submitted:
        rows, _ = field_rows(d.extractions(), d.consensus)
        if not any(r.open for r in rows):
            raise InputError(f"report {key!r} is agreed: its values change through a consensus value",
                             field="report_id")
    kind = SUBMISSION if submit or actor in d.submitted else DRAFT
    repo.add_event(session, key, kind, actor, payload=extraction.to_json(), note=note)
    if kind == SUBMISSION:
        _close_if_agreed(session, protocol, key)


def _close_if_agreed(session: Session, protocol: Protocol, key: str) -> None:
    """Write the agreed values when every extractor has submitted and no field is open."""
    d = _derived(session, key)
    if not d.all_submitted(_required(protocol)):
        return
    _, merged = merge(key, d.extractions(), d.consensus, protocol)
    if merged is not None:
        _write_final(session, merged)


def _save_single(session: Session, extraction: ReportExtraction, actor: str, note: str | None) -> None:
    _write_final(session, extraction)
    repo.add_event(session, extraction.key, FINAL, actor, payload=extraction.to_json(), note=note)


def save_extraction(review: Review, extraction: ReportExtraction, extractor: str | None, *,
                    submit: bool = False, note: str | None = None) -> ReportStatus:
    """Save ``extractor``'s whole extraction of one report (replacing their previous one; the previous
    stays in the history). With two extractors per report it is a draft until ``submit``; with one, it
    is the report's final extraction at once (``extractor`` may then be None)."""
    protocol = review.protocol
    extraction = check(extraction, protocol)
    note = check_text(note, "note")
    dual = _required(protocol) > 1
    actor = _actor(protocol, extractor, dual)
    with review.session() as s:
        repo.lock_reports(s, [extraction.key])
        if dual:
            _save_dual(s, protocol, extraction, actor, submit, note)
        else:
            _save_single(s, extraction, actor, note)
    return status(review, actor if extractor is not None else None, [extraction.key])[0]


def _actor(protocol: Protocol, extractor: str | None, dual: bool) -> str:
    if extractor is None:
        if dual:
            raise InputError("this review extracts each report twice ([extraction] extractors_per_report "
                             "= 2): "
                             "give the extractor's name (--extractor)", field="extractor")
        return UNNAMED
    return canonical_extractor(protocol, extractor)


def _current(session: Session, protocol: Protocol, key: str, actor: str) -> ReportExtraction | None:
    """The actor's own extraction of a report (dual), or the report's final one (single)."""
    if _required(protocol) > 1:
        snap = _derived(session, key).drafts.get(actor)
        return ReportExtraction.from_json(snap) if snap is not None else None
    return _final_extraction(session, key)


def save_part(review: Review, report_id: str, extractor: str | None, *,
              report: MetaAnalysisReport | None = None, effect: EffectSizeRecord | None = None,
              remove_effect: str | None = None, studies: Sequence[PrimaryStudy] = (),
              submit: bool = False) -> ReportStatus:
    """Change one part of an extraction (what a web form saves): the report form (effect sizes and studies
    kept), one effect size added (or replaced, by its ``effect_id``), one removed by key, or primary studies
    added. With two extractors it changes ``extractor``'s own extraction; with one, the final values."""
    protocol = review.protocol
    dual = _required(protocol) > 1
    actor = _actor(protocol, extractor, dual)
    with review.session() as s:
        repo.lock_reports(s, [report_id])
        current = _current(s, protocol, report_id, actor)
        if current is None:
            if report is None:
                raise InputError(f"no report {report_id!r} in your extraction: save the report form first",
                                 field="report_id")
            current = ReportExtraction(report)
        elif report is not None:
            current = current.with_report(report)
        if effect is not None:
            current = current.with_effect(effect)
        if remove_effect is not None:
            current = current.without_effect(remove_effect)
        if studies:
            current = current.with_studies(studies)
        current = check(current, protocol)
        if dual:
            _save_dual(s, protocol, current, actor, submit, None)
        else:
            _save_single(s, current, actor, None)
    return status(review, actor if extractor is not None else None, [report_id])[0]


def submit(review: Review, report_id: str, extractor: str) -> ReportStatus:
    """Submit ``extractor``'s extraction of a report as it stands (two extractors per report): from now on
    the comparison opens as soon as the other extractor has submitted too."""
    protocol = review.protocol
    if _required(protocol) == 1:
        raise InputError("with one extractor per report every save is final: nothing to submit",
                         field="extractor")
    actor = canonical_extractor(protocol, extractor)
    with review.session() as s:
        repo.lock_reports(s, [report_id])
        snap = _derived(s, report_id).drafts.get(actor)
        if snap is None:
            raise InputError(f"{actor} has no extraction of report {report_id!r} to submit",
                             field="report_id")
        _save_dual(s, protocol, ReportExtraction.from_json(snap), actor, True, None)
    return status(review, actor, [report_id])[0]


def store_bundle(review: Review, bundle: Any, extractor: str | None = None, *, replace: bool = False,
                 submit: bool = True) -> dict[str, int]:
    """Store a validated bundle (an imported file) in one transaction; counts of what was written.

    One extractor per report: as :func:`metareview.extraction.templates.store_forms` always did (a report
    already stored needs ``replace``; effect sizes and studies may refer to stored reports). Two: each
    report of the bundle becomes ``extractor``'s extraction of it (submitted unless ``submit=False``);
    its effect sizes and studies must come with it."""
    from metareview.extraction.schema import check_bundle, ensure_no_orphans

    protocol = review.protocol
    checked = check_bundle(bundle, protocol)
    dual = _required(protocol) > 1
    actor = _actor(protocol, extractor, dual)
    keys = {r.id for r in checked.reports} | {e.report_id for e in checked.effect_sizes} | {
        p.report_id for p in checked.primary_studies}
    source = str(review.directory / "protocol.toml")
    with review.session() as s:
        repo.lock_reports(s, keys)
        if dual:
            given = {r.id for r in checked.reports}
            loose = sorted(keys - given)
            if loose:
                raise InputError(f"report {loose[0]!r} has effect sizes or studies but no row in the reports "
                                 "sheet: with two extractors per report a file gives each report it extracts "
                                 "whole", field="report_id")
            for rep in checked.reports:
                _save_dual(s, protocol, _single(checked, rep.id), actor, submit, None)
            n_studies = sum(len(p.studies) for p in checked.primary_studies)
            return {"reports": len(checked.reports), "effect_sizes": len(checked.effect_sizes),
                    "primary_studies": n_studies}
        new = {r.id for r in checked.reports} if replace else set()
        old = repo.load_bundle(s)
        from metareview.extraction.templates import ExtractionBundle

        kept = ExtractionBundle(tuple(r for r in old.reports if r.id not in new),
                                tuple(e for e in old.effect_sizes if e.report_id not in new), ())
        ensure_no_orphans(kept, protocol, source=source)
        for key in sorted(new & {r.id for r in old.reports}):
            if not repo.has_history(s, key):
                repo.add_event(s, key, BASELINE, UNNAMED, payload=_single(old, key).to_json())
        counts = repo.save_bundle(s, checked, replace=replace)
        after = repo.load_bundle(s, keys)
        for rep in after.reports:
            repo.add_event(s, rep.id, FINAL, actor, payload=_single(after, rep.id).to_json())
        return counts


# --- reading -----------------------------------------------------------------------------------------


def my_extraction(review: Review, report_id: str, extractor: str) -> tuple[ReportExtraction | None, str]:
    """``extractor``'s own extraction of a report and its state (``none``, ``draft``, ``submitted``); with
    one extractor per report, the report's final values (state ``final``)."""
    protocol = review.protocol
    actor = canonical_extractor(protocol, extractor)
    with review.session() as s:
        if _required(protocol) == 1:
            ex = _final_extraction(s, report_id)
            return ex, "final" if ex is not None else "none"
        d = _derived(s, report_id)
    snap = d.drafts.get(actor)
    if snap is None:
        return None, "none"
    return ReportExtraction.from_json(snap), "submitted" if actor in d.submitted else "draft"


def compare(review: Review, report_id: str, reviewer: str, *, all_fields: bool = False) -> Comparison:
    """The extractors' values of a report side by side (the differing fields; every field with
    ``all_fields``), with the consensus values recorded. Blind: :class:`InputError` until every required
    extractor has submitted."""
    protocol = review.protocol
    asker = canonical_extractor(protocol, reviewer, option="reviewer")
    _need_dual(protocol)
    with review.session() as s:
        d = _derived(s, report_id)
    if not d.drafts:
        raise InputError(f"nobody has extracted report {report_id!r}", field="report_id")
    if not _visible(protocol, d, asker):
        raise _hidden_error(report_id, d, _required(protocol))
    return _comparison(report_id, d, protocol, all_fields)


def comparisons(review: Review, reviewer: str, *, all_fields: bool = False,
                open_only: bool = False) -> list[Comparison]:
    """:func:`compare` for every report ``reviewer`` may see compared (blind: those whose extractors have
    all submitted), optionally only those with open fields."""
    protocol = review.protocol
    asker = canonical_extractor(protocol, reviewer, option="reviewer")
    _need_dual(protocol)
    with review.session() as s:
        derived = _derive(repo.extraction_events(s))
    out = []
    for key, d in derived.items():
        if d.drafts and _visible(protocol, d, asker):
            cmp = _comparison(key, d, protocol, all_fields)
            if not open_only or cmp.open_fields:
                out.append(cmp)
    return out


def submitted_extractions(review: Review) -> dict[str, dict[str, ReportExtraction]]:
    """``report_id -> {extractor: extraction}`` of the reports whose required extractors have all
    submitted (what field agreement is computed from; nothing pending is returned)."""
    protocol = review.protocol
    required = _required(protocol)
    with review.session() as s:
        derived = _derive(repo.extraction_events(s))
    return {key: {n: ReportExtraction.from_json(d.drafts[n]) for n in sorted(d.submitted)}
            for key, d in derived.items() if required > 1 and d.all_submitted(required)}


def status(review: Review, reviewer: str | None = None,
           report_ids: Iterable[str] | None = None) -> list[ReportStatus]:
    """Where each report stands (those with any extraction or final values, or ``report_ids``), as
    ``reviewer`` may see it: counts always; extractors' names and open fields once all have submitted."""
    protocol = review.protocol
    asker = canonical_extractor(protocol, reviewer, option="reviewer") if reviewer is not None else None
    required = _required(protocol)
    with review.session() as s:
        if report_ids is None:
            derived = _derive(repo.extraction_events(s))
            finals = repo.final_keys(s)
            keys = list(dict.fromkeys([*finals, *derived]))
        else:
            keys = list(dict.fromkeys(report_ids))
            derived = {k: _derived(s, k) for k in keys}
            finals = [k for k in repo.final_keys(s) if k in derived]
    out = []
    for key in keys:
        d = derived.get(key, _Derived())
        mine = ("none" if asker not in d.drafts else "submitted" if asker in d.submitted else "draft")
        if required == 1:
            out.append(ReportStatus(key, 1, int(key in finals), int(key in finals),
                                    "none", final=key in finals))
            continue
        visible = bool(d.drafts) and _visible(protocol, d, asker)
        n_open = sum(r.open for r in field_rows(d.extractions(), d.consensus)[0]) if visible else None
        out.append(ReportStatus(key, required, len(d.drafts), len(d.submitted), mine,
                                tuple(sorted(d.drafts)) if visible else (), n_open, len(d.consensus),
                                key in finals))
    return out


def drafts_bundle(session: Session) -> Any:
    """Every extractor's current extraction of every report (after the protocol migrations recorded),
    as one :class:`~metareview.extraction.templates.ExtractionBundle` (what a protocol change must not
    orphan either)."""
    from metareview.extraction.templates import ExtractionBundle

    reports, effects, lists = [], [], []
    for d in _derive(repo.extraction_events(session)).values():
        for ex in d.extractions().values():
            one = ex.bundle()
            reports += one.reports
            effects += one.effect_sizes
            lists += one.primary_studies
    return ExtractionBundle(tuple(reports), tuple(effects), tuple(lists))


def final_bundle(review: Review) -> Any:
    """The final values of every report (an :class:`~metareview.extraction.templates.ExtractionBundle`):
    with two extractors per report, the consensus values of the reports whose consensus is complete.
    Every later stage (votes, credibility, the report) reads these."""
    with review.session() as s:
        return repo.load_bundle(s)


def _need_dual(protocol: Protocol) -> None:
    if _required(protocol) == 1:
        raise InputError("this review has one extractor per report ([extraction] extractors_per_report = 1): "
                         "there is nothing to compare", field="extractors_per_report")


# --- consensus ---------------------------------------------------------------------------------------


def _consensus(session: Session, protocol: Protocol, report_id: str, path: str, asker: str, value: Any,
               take: str | None, correct: bool, note: str | None) -> None:
    required = _required(protocol)
    d = _derived(session, report_id)
    if not d.drafts:
        raise InputError(f"nobody has extracted report {report_id!r}", field="report_id")
    if not d.all_submitted(required):
        raise _hidden_error(report_id, d, required)
    extractions = d.extractions()
    p = parse_path(path)
    if p.parent is not None:
        have = {q for ex in extractions.values() for q in ex.fields() if parse_path(q).name is None}
        if p.parent not in have:
            raise InputError(f"report {report_id!r} has no {p.part} {p.key!r} in either extraction",
                             field="field")
    elif p.part != "report" and path not in {q for ex in extractions.values() for q in ex.fields()}:
        raise InputError(f"report {report_id!r} has no {p.part} {p.key!r} in either extraction",
                         field="field")
    if take is not None:
        if value is not _UNSET:
            raise InputError("give a value or take=EXTRACTOR, not both", field="value")
        who = canonical_extractor(protocol, take, option="take")
        if who not in extractions:
            raise InputError(f"{who} did not extract report {report_id!r} (extractors: "
                             f"{', '.join(sorted(extractions))})", field="take")
        value = extractions[who].fields().get(path)
        if p.name is None:
            value = "keep" if value == PRESENT else "drop"
    elif value is _UNSET:
        raise InputError("give the consensus value, or take=EXTRACTOR", field="value")
    value = coerce(path, value, protocol)
    old = d.consensus.get(path)
    if correct:
        if old is None:
            raise InputError(f"report {report_id!r}: {path} has no consensus value to correct", field="field")
        if json.dumps(old.value, sort_keys=True) == json.dumps(value, sort_keys=True):
            raise InputError(f"report {report_id!r}: {path} already has that consensus value", field="value")
    elif old is not None:
        raise InputError(
            f"report {report_id!r}: {path} already has a consensus value, recorded by {old.reviewer} at "
            f"{old.at:%Y-%m-%d %H:%M}; one consensus per field: record a correction to change it",
            field="field")
    consensus = dict(d.consensus)
    consensus[path] = ConsensusValue(path, value, asker, datetime.now().astimezone(), note, correct)
    _, merged = merge(report_id, extractions, consensus, protocol)  # InputError when the result is invalid
    repo.add_event(session, report_id, CORRECTION if correct else CONSENSUS, asker, field=path,
                   payload={"value": value}, previous=old.value if old else None, note=note)
    if merged is not None:
        _write_final(session, merged)


def record_consensus(review: Review, report_id: str, field: str, reviewer: str, value: Any = _UNSET, *,
                     take: str | None = None, correct: bool = False, note: str | None = None) -> Comparison:
    """Record the consensus value of one field of a report (a ``consensus`` event: who, when, value) —
    ``value``, or ``take=`` an extractor's value (for an effect size or study only one extracted: ``keep``
    or ``drop``). Needs both submissions. One consensus per field: a second is refused unless
    ``correct=True`` (a ``correction`` event keeping the previous value). When this closes the last open
    field, the agreed extraction is validated and becomes the report's final values, in this transaction;
    a consensus that would make it invalid is refused and nothing is written."""
    protocol = review.protocol
    _need_dual(protocol)
    asker = canonical_extractor(protocol, reviewer, option="reviewer")
    note = check_text(note, "note")
    with review.session() as s:
        repo.lock_reports(s, [report_id])
        _consensus(s, protocol, report_id, str(field).strip(), asker, value, take, correct, note)
    return compare(review, report_id, asker)


_CONSENSUS_COLUMNS = ("report_id", "field", "value", "take", "reviewer", "note", "correct")


def import_consensus(review: Review, path: str | Path, reviewer: str | None = None) -> int:
    """Record consensus values from a CSV or XLSX file (columns ``report_id, field`` and ``value`` or
    ``take``; optional ``reviewer`` (else ``reviewer``), ``note``, ``correct`` yes/no), in one transaction:
    all or nothing. Errors name the file, row and column. Returns the number recorded."""
    from metareview.extraction.tabular import read_table

    protocol = review.protocol
    _need_dual(protocol)
    source = Path(path)
    rows = read_table(source, required=("report_id", "field"), allowed=_CONSENSUS_COLUMNS)
    with review.session() as s:
        repo.lock_reports(s, {str(r.get("report_id") or "") for _, r in rows})
        for line, row in rows:
            try:
                who = row.get("reviewer") or reviewer
                if not who:
                    raise InputError("a reviewer is required (column reviewer, or --reviewer)",
                                     field="reviewer")
                asker = canonical_extractor(protocol, who, option="reviewer")
                take = row.get("take") or None
                value = row["value"] if "value" in row and not take else _UNSET
                correct = str(row.get("correct") or "").strip().lower() in ("yes", "true", "1", "y")
                _consensus(s, protocol, str(row["report_id"]).strip(), str(row["field"]).strip(), asker,
                           value, take, correct, check_text(row.get("note"), "note"))
            except InputError as exc:
                raise InputError(exc.message, file=source, line=line, field=exc.field) from None
    return len(rows)
