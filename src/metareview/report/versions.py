"""Report versions of a living review, and what changed between them.

Each report build is kept as a *version*: a JSON snapshot of its key results stored in the review's
store (table ``report_versions``): the included meta-analyses and trials, every pooled estimate with its
CI, and every finding's credibility class (Ioannidis / Fusar-Poli & Radua criteria, with which criteria
held) and algorithmic GRADE level (with its downgrades). :func:`diff_snapshots` compares two snapshots:
new (and dropped) studies, pooled estimates and CIs before and after, and classes or GRADE levels that
moved, each with why (the trials added to the finding, the criteria or downgrades that changed).

Example::

    from metareview.report.versions import record_build, report_diff
    n = record_build("my-review", effects="effects.csv")     # after `metareview report`: version n
    print(report_diff("my-review", "v1", effects="effects.csv"))
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from metareview.errors import InputError

SNAPSHOT_FORMAT = 2  # 2: every GRADE domain and the domains not assessed (1: four domains)


def _num(x: Any) -> float | None:
    v = float(x)
    return None if math.isnan(v) else v


def snapshot(
    *,
    meta_analyses: Iterable[str] = (),
    trials: Iterable[str] = (),
    pooled: Iterable[Any] = (),
    assessments: Iterable[Any] = (),
    grades: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The key results of one report build as plain JSON.

    ``pooled``: :class:`~metareview.synthesis.repool.Pooled` objects (or anything with ``outcome``,
    ``group``, ``estimate``, ``ci_lower``, ``ci_upper``, ``k_trials`` and an ``effects`` frame with a
    ``trial`` column); ``assessments``: :class:`~metareview.synthesis.credibility.CredibilityAssessment`
    objects; ``grades``: the GRADE rating the report shows for a finding, by name (the report's findings:
    :attr:`metareview.report.findings.Finding.grade`); a finding without one is rated with
    :func:`metareview.synthesis.grade.grade_assessment`. Every GRADE domain's downgrade is recorded, and the
    domains not assessed.
    """
    from metareview.synthesis.grade import DOMAINS, grade_assessment

    findings: dict[str, dict[str, Any]] = {}
    for p in pooled:
        key = f"{p.outcome}, {p.group}"
        findings[key] = {
            "estimate": _num(p.estimate),
            "ci_lower": _num(p.ci_lower),
            "ci_upper": _num(p.ci_upper),
            "k_trials": int(p.k_trials),
            "trials": sorted({str(t) for t in p.effects["trial"]}),
        }
    for a in assessments:
        g = (grades or {}).get(a.name) or grade_assessment(a)
        entry = findings.setdefault(a.name, {})
        entry["class"] = a.klass
        entry["criteria"] = {k: v for k, v in a.checks().items() if v is not None}
        entry["grade"] = g.level
        entry["downgrades"] = {k: int(getattr(g, k, 0)) for k in DOMAINS}
        entry["not_assessed"] = list(getattr(g, "not_assessed", ()))
        entry.setdefault("k_trials", int(a.k))
    return {
        "format": SNAPSHOT_FORMAT,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "meta_analyses": sorted(set(meta_analyses)),
        "trials": sorted({str(t) for t in trials}),
        "findings": findings,
    }


def _effects_results(frame: pd.DataFrame, continuous_cases: str = "cases") -> tuple[list[Any], list[Any]]:
    """Pooled findings and their credibility assessments, computed as the report's effect sections compute
    them (:func:`metareview.report.review_report.effect_findings`: one pooled estimate per finding)."""
    from metareview.report.review_report import effect_findings

    result, assessed, _ = effect_findings(frame, continuous_cases=continuous_cases)
    return [*result.pooled, *result.head_to_head], assessed


def current_snapshot(
    review_dir: str | Path, effects: str | Path | pd.DataFrame | None = None, db: str | None = None
) -> dict[str, Any]:
    """The snapshot of the report that ``metareview report`` builds now from the store and ``effects``: the
    findings re-pooled from ``effects`` and, when ``report.toml`` names the primary-study field, the findings
    pooled from the stored effect sizes (the same assessments the report shows)."""
    from metareview.report.config import ReportConfig
    from metareview.report.review_data import gather_review
    from metareview.report.review_report import read_effects, review_findings

    config = ReportConfig.for_review(review_dir)
    data = gather_review(review_dir, db)
    bundle = data.bundle
    frame = effects if isinstance(effects, pd.DataFrame) else (read_effects(effects) if effects else None)
    pooled, assessed = (_effects_results(frame, config.credibility.continuous_cases)
                        if frame is not None and len(frame) else ([], []))
    studies = list(frame["trial"]) if frame is not None else []
    grades = {}
    fs = review_findings(data, config)
    if fs is not None:
        assessed = [*assessed, *fs.assessments]
        studies += [lab for f in fs.findings for lab in f.labels]
        grades = {f.name: f.grade for f in fs.findings}
    return snapshot(
        meta_analyses=[r.citation for r in bundle.reports],
        trials=studies,
        pooled=pooled,
        assessments=assessed,
        grades=grades,
    )


def save_version(review: Any, snap: Mapping[str, Any], note: str | None = None) -> int:
    """Store ``snap`` as the review's next report version; returns its number (1, 2, …)."""
    from metareview.store import living_repo

    with review.session() as s:
        return living_repo.add_report_version(s, snap, note)


def parse_version(version: str | int) -> int:
    """``"v3"``, ``"3"`` or ``3`` to 3; :class:`InputError` otherwise."""
    m = re.fullmatch(r"v?(\d+)", str(version).strip(), re.IGNORECASE)
    if not m or int(m.group(1)) < 1:
        raise InputError(f"a report version is written vN (v1, v2, ...), not {version!r}", field="diff")
    return int(m.group(1))


def load_version(review: Any, version: str | int) -> dict[str, Any]:
    """The snapshot of report version ``version`` (``vN``); :class:`InputError` naming the versions kept."""
    from metareview.store import living_repo

    n = parse_version(version)
    with review.session() as s:
        row = living_repo.report_version(s, n)
        kept = [v.number for v in living_repo.report_versions(s)]
    if row is None:
        have = ", ".join(f"v{k}" for k in kept) or "none yet"
        raise InputError(f"no report version v{n} (kept: {have})", field="diff")
    return dict(row.snapshot)


def record_build(
    review_dir: str | Path,
    effects: str | Path | pd.DataFrame | None = None,
    db: str | None = None,
    note: str | None = None,
) -> int:
    """Keep the report just built as a new version (its snapshot from :func:`current_snapshot`)."""
    from metareview.review import Review

    snap = current_snapshot(review_dir, effects, db)
    review = Review.open(review_dir, db)
    try:
        return save_version(review, snap, note)
    finally:
        review.close()


@dataclass(frozen=True)
class EstimateChange:
    """A pooled finding before and after (None where it did not exist)."""

    finding: str
    before: tuple[float | None, float | None, float | None] | None
    after: tuple[float | None, float | None, float | None] | None
    k_before: int | None
    k_after: int | None
    trials_added: list[str] = field(default_factory=list)
    trials_removed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LevelChange:
    """A credibility class or GRADE level that moved, and why."""

    finding: str
    kind: str  # "credibility class" or "GRADE"
    before: str | None
    after: str | None
    why: list[str]


@dataclass(frozen=True)
class ReportDiff:
    """What changed between two report snapshots."""

    since: str
    new_meta_analyses: list[str]
    dropped_meta_analyses: list[str]
    new_trials: list[str]
    dropped_trials: list[str]
    estimates: list[EstimateChange]
    levels: list[LevelChange]

    @property
    def changed(self) -> bool:
        """True when anything differs."""
        return bool(
            self.new_meta_analyses
            or self.dropped_meta_analyses
            or self.new_trials
            or self.dropped_trials
            or self.levels
            or any(e.before != e.after for e in self.estimates)
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain values."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per finding: estimate and CI before/after, class and GRADE before/after."""
        levels = {(c.finding, c.kind): c for c in self.levels}
        rows = []
        for e in self.estimates:
            b, a = e.before or (None, None, None), e.after or (None, None, None)
            row: dict[str, Any] = {
                "finding": e.finding,
                "k_before": e.k_before,
                "k_after": e.k_after,
                "estimate_before": b[0],
                "ci_lower_before": b[1],
                "ci_upper_before": b[2],
                "estimate_after": a[0],
                "ci_lower_after": a[1],
                "ci_upper_after": a[2],
                "trials_added": ", ".join(e.trials_added),
            }
            for kind in ("credibility class", "GRADE"):
                c = levels.get((e.finding, kind))
                row[f"{kind} moved"] = f"{c.before} -> {c.after}" if c else ""
            rows.append(row)
        return pd.DataFrame(rows)

    def lines(self) -> list[str]:
        """The diff as readable sentences."""
        out = []
        if self.new_meta_analyses:
            out.append(
                f"{len(self.new_meta_analyses)} new meta-analyses: {'; '.join(self.new_meta_analyses)}"
            )
        if self.dropped_meta_analyses:
            out.append(f"no longer included: {'; '.join(self.dropped_meta_analyses)}")
        if self.new_trials:
            out.append(f"{len(self.new_trials)} new trials: {', '.join(self.new_trials)}")
        if self.dropped_trials:
            out.append(f"trials no longer in the effects: {', '.join(self.dropped_trials)}")
        for e in self.estimates:
            if e.before == e.after and e.k_before == e.k_after:
                continue
            out.append(
                f"{e.finding}: {_fmt(e.before)} (k = {e.k_before}) -> {_fmt(e.after)} (k = {e.k_after})"
                + (f"; trials added: {', '.join(e.trials_added)}" if e.trials_added else "")
                + (f"; trials removed: {', '.join(e.trials_removed)}" if e.trials_removed else "")
            )
        for c in self.levels:
            out.append(f"{c.finding}: {c.kind} {c.before} -> {c.after} because {'; '.join(c.why)}")
        return out or ["nothing changed"]

    def to_section(self) -> Any:
        """A report section "What changed since vN" (a :class:`metareview.report.html.Section`)."""
        from metareview.report.html import Section, Table

        tables = (
            [Table(f"Pooled findings before (v{self.since}) and now.", self.to_frame(), name="changes")]
            if self.estimates
            else []
        )
        return Section(f"What changed since version v{self.since}", paragraphs=self.lines(), tables=tables)

    def __str__(self) -> str:
        return f"Changes since report version v{self.since}\n" + "\n".join(f"  {x}" for x in self.lines())


def _fmt(t: tuple[float | None, float | None, float | None] | None) -> str:
    if t is None:
        return "absent"
    e, lo, hi = ("NA" if v is None else f"{v:.3f}" for v in t)
    return f"{e} [{lo}, {hi}]"


def _triple(f: Mapping[str, Any] | None) -> tuple[float | None, float | None, float | None] | None:
    if not f or "estimate" not in f:
        return None
    return (f.get("estimate"), f.get("ci_lower"), f.get("ci_upper"))


def _why_class(old: Mapping[str, Any], new: Mapping[str, Any], added: Sequence[str]) -> list[str]:
    why = []
    oc, nc = old.get("criteria", {}), new.get("criteria", {})
    for k in sorted(set(oc) | set(nc)):
        if oc.get(k) != nc.get(k):
            state = {True: "met", False: "not met", None: "not assessed"}
            why.append(f"criterion {k} {state[oc.get(k)]} -> {state[nc.get(k)]}")
    if added:
        why.append(f"{len(added)} trial(s) added")
    return why or ["the pooled numbers changed within the same criteria"]


def _why_grade(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    od, nd = old.get("downgrades", {}), new.get("downgrades", {})

    def text(d: Mapping[str, Any], k: str) -> str:
        return f"-{d[k]}" if k in d else "not recorded"

    why = [
        f"{k.replace('_', ' ')} downgrade {text(od, k)} -> {text(nd, k)}"
        for k in sorted(set(od) | set(nd))
        if od.get(k) != nd.get(k)
    ]
    oa, na = set(old.get("not_assessed", [])), set(new.get("not_assessed", []))
    why += [f"{k.replace('_', ' ')} now assessed" for k in sorted(oa - na)]
    why += [f"{k.replace('_', ' ')} not assessed now (not downgraded for)" for k in sorted(na - oa)]
    return why or ["the downgrades are unchanged"]


def diff_snapshots(old: Mapping[str, Any], new: Mapping[str, Any], since: int | str = "?") -> ReportDiff:
    """What changed from snapshot ``old`` (version ``since``) to ``new``."""
    om, nm = set(old.get("meta_analyses", [])), set(new.get("meta_analyses", []))
    ot, nt = set(old.get("trials", [])), set(new.get("trials", []))
    of, nf = old.get("findings", {}), new.get("findings", {})
    estimates, levels = [], []
    for name in list(dict.fromkeys([*of, *nf])):
        o, n = of.get(name), nf.get(name)
        o_tr, n_tr = set((o or {}).get("trials", [])), set((n or {}).get("trials", []))
        added, removed = sorted(n_tr - o_tr), sorted(o_tr - n_tr)
        if "estimate" in (o or {}) or "estimate" in (n or {}):
            estimates.append(
                EstimateChange(
                    name,
                    _triple(o),
                    _triple(n),
                    (o or {}).get("k_trials"),
                    (n or {}).get("k_trials"),
                    added,
                    removed,
                )
            )
        for kind, key, why in (("credibility class", "class", _why_class), ("GRADE", "grade", None)):
            ob, nb = (o or {}).get(key), (n or {}).get(key)
            if ob != nb:
                if o is None or n is None:
                    reason = ["the finding is new" if o is None else "the finding is no longer pooled"]
                elif why is not None:
                    reason = why(o, n, added)
                else:
                    reason = _why_grade(o, n)
                levels.append(LevelChange(name, kind, ob, nb, reason))
    return ReportDiff(
        str(since), sorted(nm - om), sorted(om - nm), sorted(nt - ot), sorted(ot - nt), estimates, levels
    )


def report_diff(
    review_dir: str | Path,
    version: str | int,
    effects: str | Path | pd.DataFrame | None = None,
    db: str | None = None,
) -> ReportDiff:
    """What changed in the review's results (built now from the store and ``effects``) since ``vN``."""
    from metareview.review import Review

    n = parse_version(version)
    review = Review.open(review_dir, db)
    try:
        old = load_version(review, n)
    finally:
        review.close()
    return diff_snapshots(old, current_snapshot(review_dir, effects, db), n)


def keep_build(
    review_dir: str | Path,
    out: str | Path,
    effects: str | Path | pd.DataFrame | None = None,
    db: str | None = None,
    diff: str | int | None = None,
) -> str:
    """After a report build: compare with version ``diff`` if given (written to
    ``<out>/changes/report.html`` as the section "What changed since vN"), then keep this build as the
    next version. Returns what to
    tell the user. Without a store (no ``review.sqlite`` and no ``db``) nothing is kept."""
    from metareview.review import SQLITE_FILE

    if db is None and not (Path(review_dir) / SQLITE_FILE).is_file():
        if diff is not None:
            raise InputError(
                "report versions are kept in the review's store, and this review has none", field="diff"
            )
        return "report version not kept (the review has no store)"
    text = []
    if diff is not None:
        from metareview.report.html import Report, write_report

        changes = report_diff(review_dir, diff, effects, db)
        files = write_report(
            Report(title=f"What changed since v{changes.since}", sections=[changes.to_section()]),
            Path(out) / "changes",
        )
        text += [str(changes), f"changes: {files.html}"]
    n = record_build(review_dir, effects, db)
    text.append(f"report version: v{n}")
    return "\n".join(text)
