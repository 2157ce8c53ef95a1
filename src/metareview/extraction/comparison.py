"""Two extractions of one report compared field by field, and merged with the consensus values.

Pure functions on :class:`~metareview.extraction.snapshot.ReportExtraction` objects (no store): the
engine (:mod:`metareview.extraction.dual`) replays the events and calls them.

* :func:`field_rows` puts every field path side by side: each extractor's value, whether they agree, the
  consensus value recorded, and the value that stands (``open`` while the extractors differ and no
  consensus value was recorded). An effect size or primary study only one extractor has is an open
  *presence* field (``keep`` or ``drop``); its own fields follow that decision.
* :func:`merge` builds the agreed extraction when no field is open (validated against the forms and the
  protocol: an invalid result is an :class:`~metareview.errors.InputError`).

Example::

    rows, kept = field_rows({"ana": a, "ben": b}, consensus={})
    [r.field for r in rows if r.open]      # ['effect[depression | guided vs unguided | smd].estimate']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from metareview.extraction.snapshot import PRESENT, ReportExtraction, build, label, parse_path

_UNSET: Any = object()


@dataclass(frozen=True)
class ConsensusValue:
    """A consensus value of one field of a report: who recorded it, when, and what it replaced."""

    field: str
    value: Any
    reviewer: str
    at: datetime
    note: str | None = None
    corrected: bool = False
    previous: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "reviewer": self.reviewer,
                "at": self.at.isoformat(), "note": self.note, "corrected": self.corrected,
                "previous": self.previous}


@dataclass(frozen=True)
class FieldRow:
    """One field of a report side by side: each extractor's value (None: blank or absent), whether they
    agree, the consensus value if one was recorded, and the value that stands (``open``: none yet)."""

    field: str
    label: str
    values: dict[str, Any]
    agreed: bool
    consensus: ConsensusValue | None
    final: Any
    open: bool

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "label": self.label, "values": dict(self.values), "agreed": self.agreed,
                "consensus": self.consensus.to_dict() if self.consensus else None, "final": self.final,
                "open": self.open}


@dataclass(frozen=True)
class Comparison:
    """Two extractions of one report compared field by field (``rows``: the differing fields, and those
    given a consensus value; all fields with ``all_fields=True``)."""

    report_id: str
    extractors: tuple[str, ...]
    rows: tuple[FieldRow, ...]
    open_fields: int
    agreed: bool  # no field is open: the agreed values are the final ones

    def to_dict(self) -> dict[str, Any]:
        return {"report_id": self.report_id, "extractors": list(self.extractors),
                "rows": [r.to_dict() for r in self.rows], "open_fields": self.open_fields,
                "agreed": self.agreed}

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame([{"report_id": self.report_id, "field": r.field, "label": r.label,
                              **{f"value_{n}": r.values.get(n) for n in self.extractors},
                              "agreed": r.agreed, "consensus": r.consensus.value if r.consensus else None,
                              "consensus_by": r.consensus.reviewer if r.consensus else None,
                              "final": r.final, "open": r.open} for r in self.rows])

    def __str__(self) -> str:
        head = (f"report {self.report_id}: {' vs '.join(self.extractors)}; "
                + ("agreed" if self.agreed else f"{self.open_fields} field(s) open"))
        if not self.rows:
            return head + "\n  (no differing field)"
        width = max(len(r.field) for r in self.rows)
        lines = [head]
        for r in self.rows:
            vals = "  |  ".join(f"{n}: {_show(r.values.get(n))}" for n in self.extractors)
            tail = (f"  -> {_show(r.consensus.value)} (consensus by {r.consensus.reviewer})" if r.consensus
                    else "  -> OPEN" if r.open else "")
            lines.append(f"  {r.field:<{width}}  {vals}{tail}")
        return "\n".join(lines)


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return "; ".join(map(str, value))
    return str(value)


@dataclass(frozen=True)
class ReportStatus:
    """Where one report stands, as the asker may see it. ``extractors`` and ``open_fields`` are shown
    once every required extractor has submitted (blind mode); counts always."""

    report_id: str
    required: int
    started: int
    submitted: int
    mine: str  # none | draft | submitted
    extractors: tuple[str, ...] = ()
    open_fields: int | None = None
    consensus_values: int = 0
    final: bool = False

    @property
    def phase(self) -> str:
        """``extracting``, ``consensus`` (fields open), or ``agreed`` (the final values are stored)."""
        if self.final and (self.required == 1 or not self.open_fields):
            return "agreed"
        return "consensus" if self.submitted >= self.required else "extracting"

    def to_dict(self) -> dict[str, Any]:
        return {"report_id": self.report_id, "required": self.required, "started": self.started,
                "submitted": self.submitted, "mine": self.mine, "extractors": list(self.extractors),
                "open_fields": self.open_fields, "consensus_values": self.consensus_values,
                "final": self.final, "phase": self.phase}

    def __str__(self) -> str:
        who = f" ({', '.join(self.extractors)})" if self.extractors else ""
        extra = f", {self.open_fields} field(s) open" if self.open_fields else ""
        return (f"{self.report_id}: {self.phase}; {self.submitted} of {self.required} submitted{who}{extra}; "
                f"yours: {self.mine}")


# --- comparison and merge -----------------------------------------------------------------------------


def _same(values: Iterable[Any]) -> bool:
    return len({json.dumps(v, sort_keys=True) for v in values}) <= 1


def field_rows(extractions: Mapping[str, ReportExtraction],
          consensus: Mapping[str, ConsensusValue]) -> tuple[list[FieldRow], list[str]]:
    """Every field of the extractions side by side, with the value that stands; and the presence paths
    of the effect sizes and studies kept, in order. The fields of an effect size or study that only one
    extractor has follow the decision to keep or drop it (shown, not open, while it is undecided)."""
    flats = {name: ex.fields() for name, ex in extractions.items()}
    names = list(flats)
    paths = list(dict.fromkeys(p for f in flats.values() for p in f))
    parents = {p for p in paths if parse_path(p).name is None}
    paths += [p for p in consensus if p not in paths and parse_path(p).parent in (None, *parents)
              and (parse_path(p).part == "report" or parse_path(p).name is not None)]
    where = {p: i for i, p in enumerate(paths)}
    paths.sort(key=lambda p: (_part_rank(p), where.get(_anchor(p), where[p]), p != _anchor(p)))
    rows: list[FieldRow] = []
    presence: dict[str, Any] = {}  # presence path -> PRESENT / None (dropped) / _UNSET (open)
    kept: list[str] = []
    for path in paths:
        p = parse_path(path)
        parent = p.parent
        state = presence.get(parent, _UNSET) if parent is not None else PRESENT
        if state is None:
            continue  # a field of an effect size or study that was dropped
        holders = names if parent is None else [n for n in names if flats[n].get(parent) == PRESENT]
        values = {n: flats[n].get(path) for n in names}
        agreed = _same(values[n] for n in holders) and len(holders) == len(names)
        cv = consensus.get(path)
        if state is _UNSET:  # its effect size or study is not decided yet: shown, not open
            final, is_open = None, False
        elif cv is not None:
            final, is_open = cv.value, False
        elif _same(values[n] for n in holders):
            final, is_open = (values[holders[0]] if holders else None), False
        else:
            final, is_open = None, True
        if p.name is None:
            presence[path] = _UNSET if is_open else final
            if final == PRESENT and not is_open:
                kept.append(path)
        rows.append(FieldRow(path, label(path), values, agreed, cv, final, is_open))
    return rows, kept


def _part_rank(path: str) -> int:
    return {"report": 0, "effect": 1, "study": 2}[parse_path(path).part]


def _anchor(path: str) -> str:
    return parse_path(path).parent or path


def merge(key: str, extractions: Mapping[str, ReportExtraction], consensus: Mapping[str, ConsensusValue],
           protocol: Any) -> tuple[list[FieldRow], ReportExtraction | None]:
    rows, kept = field_rows(extractions, consensus)
    if any(r.open for r in rows):
        return rows, None
    values = {r.field: r.final for r in rows if r.final is not None}
    return rows, build(key, values, kept, protocol)
