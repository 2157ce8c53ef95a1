"""Deduplication across databases: exact keys (DOI, PMID) first, then blocked fuzzy matching with
rapidfuzz on the normalised title, first author, year (±1), journal, volume and first page.

Duplicates form clusters with one kept record (the earliest imported, so a later import never changes
what was kept before); the kept record's empty fields are filled from the other members (stored with
the cluster, the record row itself is untouched). Nothing is deleted: :func:`undo_cluster` and
:func:`reset` dissolve clusters. Pairs the matcher is unsure of go to a review list, one pair per
two clusters, that the user confirms or rejects (:func:`uncertain_pairs`, :func:`decide`).

Example::

    from metareview.records.dedup import deduplicate
    result = deduplicate(review)           # threshold=0.95 title similarity for automatic matches
    print(result)                          # clusters, duplicates flagged, pairs left to review
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session

from metareview.errors import InputError
from metareview.progress import track
from metareview.records.model import RECORD_FIELDS, first_author_key, fold
from metareview.review import Review
from metareview.store import records_repo as repo

DEFAULT_THRESHOLD = 0.95
DEFAULT_REVIEW_FLOOR = 0.85
_BIG_BLOCK = 300
_PAGE = re.compile(r"[a-z]?0*(\d+)")  # first page; "e0137960" and "137960" are one page
_DIGITS = re.compile(r"\d+")
# a page range a spreadsheet turned into a date ("10-17" -> "Oct-17", "7-10" -> "10-Jul"): page unknown
_MANGLED = re.compile(r"^(\d+-)?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)(-\d+)?$")
_STOP = {"of", "the", "and", "in", "for", "on", "a", "an", "de", "la", "der", "und"}
# the fields a kept record takes from its duplicates where its own are empty
MERGE_FIELDS = tuple(f for f in RECORD_FIELDS if f not in ("title", "source_database"))


# --- matching (pure: rows in, pairs out) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prepared:
    """Normalised matching fields, one list entry per record."""

    ids: list[int]
    titles: list[str]
    authors: list[str]
    years: list[int | None]
    journals: list[str]
    volumes: list[str]
    pages: list[str]
    dois: list[str]
    pmids: list[str]


def prepare(rows: Iterable[Sequence[Any]]) -> Prepared:
    """Normalise rows of (id, title, authors, year, journal, volume, pages, doi, pmid)."""
    cols: tuple[list[Any], ...] = ([], [], [], [], [], [], [], [], [])
    for rid, title, authors, year, journal, volume, pages, doi, pmid in rows:
        cols[0].append(rid)
        cols[1].append(fold(title or ""))
        cols[2].append(first_author_key(list(authors or [])))
        cols[3].append(year)
        cols[4].append(fold(journal or ""))
        vol = _DIGITS.search(volume or "")
        cols[5].append(vol.group(0) if vol else "")
        page = None if _MANGLED.match((pages or "").lower()) else _PAGE.search((pages or "").lower())
        cols[6].append(page.group(1) if page else "")
        cols[7].append(doi or "")
        cols[8].append(pmid or "")
    return Prepared(*cols)


def _journal_match(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if a == b or fuzz.ratio(a, b) >= 85:
        return True
    short, long_ = sorted((a.split(), b.split()), key=len)
    long_ = [w for w in long_ if w not in _STOP]
    short = [w for w in short if w not in _STOP]
    return len(short) == len(long_) and all(y.startswith(x) for x, y in zip(short, long_, strict=True))


def _author_match(a: str, b: str) -> bool:
    return bool(a) and (a == b or fuzz.ratio(a, b) >= 85)


def classify(p: Prepared, i: int, j: int, threshold: float, floor: float) -> tuple[str | None, float]:
    """('exact' | 'fuzzy' | 'uncertain' | None, title similarity) for records at positions i and j.

    A similar title without a shared DOI or PMID is left out (None) rather than sent to review when
    the records cannot be one report: another first author in another journal, volume or pages (a
    co-author's abstract of the same work), or a year and a volume apart (a conference abstract and
    the later paper).
    """
    ti, tj = p.titles[i], p.titles[j]
    ts = fuzz.ratio(ti, tj) / 100 if ti and tj else 0.0
    short, long_ = sorted((ti, tj), key=len)
    if len(short) >= 30 and long_.startswith(short):
        ts = max(ts, 0.97)  # a truncated title
    pi, pj, di, dj = p.pmids[i], p.pmids[j], p.dois[i], p.dois[j]
    page_conflict = bool(p.pages[i] and p.pages[j] and p.pages[i] != p.pages[j])
    if pi and pi == pj:
        return ("exact", ts) if ts >= 0.6 or not (ti and tj) else ("uncertain", ts)
    if di and di == dj:  # a supplement's DOI can be shared by its abstracts: check title and page
        if ts >= 0.8 or not (ti and tj):
            return ("uncertain", ts) if page_conflict else ("exact", ts)
        return ("uncertain", ts) if ts >= 0.6 else (None, ts)
    if ts < floor:
        return None, ts
    yi, yj = p.years[i], p.years[j]
    if yi is not None and yj is not None and abs(yi - yj) > 1:
        return None, ts
    journal = _journal_match(p.journals[i], p.journals[j])
    author = _author_match(p.authors[i], p.authors[j])
    corroborating = sum(
        (
            author,
            journal,
            bool(p.pages[i]) and p.pages[i] == p.pages[j],
            bool(p.volumes[i]) and p.volumes[i] == p.volumes[j],
        )
    )
    conflict = bool(pi and pj) or bool(di and dj) or page_conflict
    other_journal = bool(p.journals[i] and p.journals[j]) and not journal
    other_volume = bool(p.volumes[i] and p.volumes[j] and p.volumes[i] != p.volumes[j])
    year_apart = yi is not None and yj is not None and yi != yj
    conflict = conflict or (year_apart and other_volume)
    # a year apart is usual for a conference abstract and its later paper: then the journal must match
    needed = 2 if year_apart and journal else 1
    if ts >= threshold and corroborating >= needed and not conflict and (journal or not year_apart):
        return "fuzzy", ts
    other_author = bool(p.authors[i] and p.authors[j]) and not author
    other_place = other_volume or page_conflict
    if (other_author and other_journal and other_place) or (year_apart and other_volume):
        return None, ts
    return "uncertain", ts


def candidate_pairs(p: Prepared, floor: float = DEFAULT_REVIEW_FLOOR) -> set[tuple[int, int]]:
    """Position pairs (i < j) sharing a block: DOI, PMID, title start, title end, author+year+page."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, title in enumerate(p.titles):
        if p.dois[i]:
            blocks["d" + p.dois[i]].append(i)
        if p.pmids[i]:
            blocks["m" + p.pmids[i]].append(i)
        squashed = title.replace(" ", "")
        if len(squashed) >= 10:
            blocks["p" + squashed[:24]].append(i)
        if len(squashed) >= 24:
            blocks["s" + squashed[-24:]].append(i)
        if p.authors[i] and p.pages[i]:
            blocks[f"a{p.authors[i]}|{p.years[i]}|{p.pages[i]}"].append(i)
    out: set[tuple[int, int]] = set()
    shared = [members for members in blocks.values() if len(members) > 1]
    bar = track("deduplicating: finding candidate pairs", len(shared), "blocks")
    for n, members in enumerate(shared, start=1):
        if n % 500 == 0:
            bar.update(n)
        if len(members) <= _BIG_BLOCK:
            out.update(combinations(members, 2))
            continue
        scores = process.cdist(
            [p.titles[m] for m in members],
            [p.titles[m] for m in members],
            scorer=fuzz.ratio,
            score_cutoff=floor * 100,
            dtype=np.uint8,
        )
        for a, b in zip(*np.nonzero(np.triu(scores, k=1)), strict=True):
            out.add((members[a], members[b]))
    bar.finish()
    return out


def find_duplicates(
    rows: Iterable[Sequence[Any]], threshold: float = DEFAULT_THRESHOLD, floor: float = DEFAULT_REVIEW_FLOOR
) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, float]]]:
    """Match rows of (id, title, authors, year, journal, volume, pages, doi, pmid).

    Returns (duplicate pairs as (id_a, id_b, 'exact'|'fuzzy'), uncertain pairs as (id_a, id_b, score)),
    with id_a < id_b.
    """
    if not (0 < threshold <= 1 and 0 < floor <= 1):
        raise InputError(
            f"threshold ({threshold}) and review floor ({floor}) must be in (0, 1]", field="threshold"
        )
    floor = min(floor, threshold)  # a lower threshold lowers the review list's floor with it
    p = prepare(rows)
    sure: list[tuple[int, int, str]] = []
    unsure: list[tuple[int, int, float]] = []
    pairs = sorted(candidate_pairs(p, floor))
    bar = track("deduplicating: comparing candidate pairs", len(pairs), "pairs")
    for n, (i, j) in enumerate(pairs, start=1):
        if n % 1000 == 0:
            bar.update(n)
        kind, score = classify(p, i, j, threshold, floor)
        a, b = sorted((p.ids[i], p.ids[j]))
        if kind in ("exact", "fuzzy"):
            sure.append((a, b, kind))
        elif kind == "uncertain":
            unsure.append((a, b, round(score, 4)))
    bar.finish()
    return sure, unsure


# --- clusters in the store ---------------------------------------------------------------------------


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = parent.setdefault(x, x)
        while root != parent[root]:
            root = parent[root]
        while x != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> list[list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        for x in self.parent:
            out[self.find(x)].append(x)
        return [sorted(g) for g in out.values() if len(g) > 1]


@dataclass(frozen=True)
class DedupResult:
    """Outcome of a deduplication run."""

    records: int
    clusters: int
    duplicates: int
    clusters_changed: int
    exact_pairs: int
    fuzzy_pairs: int
    uncertain_added: int
    uncertain_open: int
    seconds: float

    @property
    def unique_records(self) -> int:
        """Records left after removing duplicates."""
        return self.records - self.duplicates

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the fields (plus ``unique_records``)."""
        return {**asdict(self), "unique_records": self.unique_records}

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame."""
        return pd.DataFrame([self.to_dict()])

    def __str__(self) -> str:
        return (
            f"Deduplication of {self.records} records ({self.seconds:.1f} s)\n"
            f"  duplicate clusters: {self.clusters} ({self.clusters_changed} new or changed)\n"
            f"  duplicates flagged: {self.duplicates}; unique records: {self.unique_records}\n"
            f"  matched pairs: {self.exact_pairs} exact (DOI/PMID), {self.fuzzy_pairs} fuzzy\n"
            f"  uncertain pairs to review: {self.uncertain_open} ({self.uncertain_added} new)"
        )


def _merged_fields(members: list[Any], kept_id: int) -> dict[str, Any]:
    """Fields empty in the kept record, each taken from the first member (by id) that has it."""
    kept = next(m for m in members if m.id == kept_id)
    merged: dict[str, Any] = {}
    for name in MERGE_FIELDS:
        if getattr(kept, name) not in ("", None, []):
            continue
        for other in members:
            value = getattr(other, name)
            if other.id != kept_id and value not in ("", None, []):
                merged[name] = value
                break
    return merged


def _write_groups(
    session: Session,
    groups: list[list[int]],
    existing: dict[int, tuple[int, list[int]]],
    methods: dict[int, str],
) -> int:
    """Make the store's clusters equal ``groups`` where they differ; returns clusters written.

    A group that absorbs existing clusters keeps the oldest one (and its kept record); the others
    are dissolved into it. A new group keeps its earliest imported record.
    """
    cluster_of = {r: cid for cid, (_kept, members) in existing.items() for r in members}
    changed: list[tuple[list[int], list[int]]] = []
    for group in groups:
        cids = sorted({cluster_of[r] for r in group if r in cluster_of})
        if len(cids) == 1 and existing[cids[0]][1] == group:
            continue
        changed.append((group, cids))
    rows = repo.field_rows(session, [r for group, _ in changed for r in group], MERGE_FIELDS)
    specs, dissolve = [], []
    for group, cids in changed:
        kept = existing[cids[0]][0] if cids else group[0]
        dissolve.extend(cids[1:])
        merged = _merged_fields([rows[r] for r in group], kept)
        specs.append(
            repo.ClusterSpec(cids[0] if cids else None, kept, group, methods.get(group[0], "exact"), merged)
        )
    repo.write_clusters(session, specs, dissolve)
    return len(changed)


def _fresh_pairs(
    unsure: list[tuple[int, int, float]], stored: dict[tuple[int, int], str], uf: _UnionFind
) -> list[tuple[int, int, float]]:
    """The uncertain pairs to add to the review list: one per pair of clusters, the best-scoring one.

    A decision is about two clusters, not two records: a pair already stored (open, confirmed or
    rejected) between the same two clusters keeps the others off the list; pairs within one cluster
    are left out.
    """
    seen = {tuple(sorted((uf.find(a), uf.find(b)))) for a, b in stored}
    out = []
    for a, b, score in sorted(unsure, key=lambda pair: (-pair[2], pair[0], pair[1])):
        key = tuple(sorted((uf.find(a), uf.find(b))))
        if key[0] != key[1] and key not in seen:
            seen.add(key)
            out.append((a, b, score))
    return sorted(out)


def deduplicate(
    review: Review, threshold: float = DEFAULT_THRESHOLD, review_floor: float = DEFAULT_REVIEW_FLOOR
) -> DedupResult:
    """Find duplicates among all records of the review and update its clusters (one transaction).

    ``threshold``: title similarity (0-1) above which a corroborated pair is merged automatically;
    pairs between ``review_floor`` and that, or with conflicting identifiers, go to the review list.
    Existing clusters and the user's decisions on pairs are kept.
    """
    started = time.perf_counter()
    with review.session() as session:
        rows = repo.dedup_rows(session)
        sure, unsure = find_duplicates(rows, threshold, review_floor)
        decisions = repo.pair_statuses(session)
        existing = repo.clusters(session)
        uf = _UnionFind()
        for kept, members in existing.values():
            for r in members:
                uf.union(kept, r)
        kinds: dict[int, set[str]] = defaultdict(set)
        for a, b, kind in sure:
            if decisions.get((a, b)) != "rejected":
                uf.union(a, b)
                kinds[a].add(kind)
        for (a, b), status in decisions.items():
            if status == "confirmed":
                uf.union(a, b)
                kinds[a].add("manual")
        groups = uf.groups()
        methods: dict[int, str] = {}
        for group in groups:
            found = set().union(*(kinds.get(r, set()) for r in group))
            methods[group[0]] = next((m for m in ("manual", "fuzzy") if m in found), "exact")
        changed = _write_groups(session, groups, existing, methods)
        added = repo.add_pairs(session, _fresh_pairs(unsure, decisions, uf))
        open_pairs = len(repo.pairs(session, "uncertain"))
        repo.add_dedup_event(session, "run")
    return DedupResult(
        records=len(rows),
        clusters=len(groups),
        duplicates=sum(len(g) - 1 for g in groups),
        clusters_changed=changed,
        exact_pairs=sum(k == "exact" for *_, k in sure),
        fuzzy_pairs=sum(k == "fuzzy" for *_, k in sure),
        uncertain_added=added,
        uncertain_open=open_pairs,
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True)
class PairView:
    """An uncertain pair as shown to the user."""

    pair_id: int
    score: float
    status: str
    a: dict[str, Any]
    b: dict[str, Any]

    def __str__(self) -> str:
        def side(r: dict[str, Any]) -> str:
            who = r["authors"][0] if r["authors"] else "?"
            where = f"{r['journal']} {r['volume']}:{r['pages']} {r['doi']}"
            return f"  [{r['id']}] {who} ({r['year']}) {r['title']} | {where}"

        head = f"pair {self.pair_id} (title similarity {self.score:.2f}, {self.status})"
        return f"{head}\n{side(self.a)}\n{side(self.b)}"


def uncertain_pairs(review: Review, status: str | None = "uncertain") -> list[PairView]:
    """The pairs waiting for a decision (or all pairs with ``status=None``), best score first."""
    fields = ("id", "title", "authors", "year", "journal", "volume", "pages", "doi")
    with review.session() as session:
        pairs = repo.pairs(session, status)
        ids = {i for p in pairs for i in (p.record_a_id, p.record_b_id)}
        recs = {r.id: {f: getattr(r, f) for f in fields} for r in repo.records_by_id(session, ids)}
        return [PairView(p.id, p.score, p.status, recs[p.record_a_id], recs[p.record_b_id]) for p in pairs]


def decide(review: Review, pair_id: int, confirm: bool) -> None:
    """Confirm (merge the two records' clusters) or reject an uncertain pair (an appended event).

    A rejection keeps the two clusters apart, and off the review list, in later runs. Rejecting a pair
    whose records share a cluster (a confirmation made earlier, or a change of mind) splits that cluster
    as a fresh run would: its members are regrouped by the automatic matches among them (at the default
    threshold) and the confirmed pairs, without the rejected one; a record left alone is unique again.
    """
    with review.session() as session:
        pair = repo.get_pair(session, pair_id)
        if pair is None:
            raise InputError(f"no duplicate pair {pair_id}", field="pair")
        status = "confirmed" if confirm else "rejected"
        repo.decide_pair(session, pair, status)
        repo.add_dedup_event(session, status, pair.id)
        existing = repo.clusters(session)
        if not confirm:
            _split(session, existing, pair.record_a_id, pair.record_b_id)
            return
        group = {pair.record_a_id, pair.record_b_id}
        for _kept, members in existing.values():
            if group & set(members):
                group |= set(members)
        ordered = sorted(group)
        _write_groups(session, [ordered], existing, {ordered[0]: "manual"})


def _split(session: Session, existing: dict[int, tuple[int, list[int]]], a: int, b: int) -> None:
    """Regroup the cluster holding both ``a`` and ``b`` without the (now rejected) link between them."""
    cid = next((c for c, (_k, members) in existing.items() if a in members and b in members), None)
    if cid is None:
        return
    kept, members = existing[cid]
    inside = set(members)
    sure, _unsure = find_duplicates(repo.dedup_rows(session, members))
    decisions = repo.pair_statuses(session)
    uf = _UnionFind()
    for r in members:
        uf.find(r)
    kinds: dict[int, set[str]] = defaultdict(set)
    for x, y, kind in sure:
        if decisions.get((x, y)) != "rejected":
            uf.union(x, y)
            kinds[x].add(kind)
    for (x, y), status in decisions.items():
        if status == "confirmed" and x in inside and y in inside:
            uf.union(x, y)
            kinds[x].add("manual")
    groups = uf.groups()
    if groups == [sorted(members)]:
        return  # still one cluster through other links
    rows = repo.field_rows(session, sorted(inside), MERGE_FIELDS)
    specs = []
    for group in groups:
        found = set().union(*(kinds.get(r, set()) for r in group))
        method = next((m for m in ("manual", "fuzzy") if m in found), "exact")
        keeps = kept in group
        head = kept if keeps else group[0]
        merged = _merged_fields([rows[r] for r in group], head)
        specs.append(repo.ClusterSpec(cid if keeps else None, head, group, method, merged))
    reused = any(spec.cluster_id == cid for spec in specs)
    repo.write_clusters(session, specs, [] if reused else [cid])


def undo_cluster(review: Review, cluster_id: int) -> None:
    """Dissolve one duplicate cluster: its records count as unique again."""
    with review.session() as session:
        if repo.delete_clusters(session, [cluster_id]) == 0:
            raise InputError(f"no duplicate cluster {cluster_id}", field="cluster")


def reset(review: Review) -> int:
    """Dissolve every duplicate cluster (pair decisions are kept); returns how many were dissolved."""
    with review.session() as session:
        return repo.delete_clusters(session)


def accuracy(removed: Sequence[bool], duplicate: Sequence[bool]) -> tuple[float, float]:
    """(sensitivity, specificity) of duplicate removal against truth, per record.

    Sensitivity: true duplicates removed / true duplicates; specificity: non-duplicates kept /
    non-duplicates (the definitions of ASySD, Hair et al. 2023).
    """
    r, d = np.asarray(removed, bool), np.asarray(duplicate, bool)
    return float((r & d).sum() / d.sum()), float((~r & ~d).sum() / (~d).sum())


def accuracy_by_cluster(clusters: Iterable[Sequence[bool]], duplicate: Sequence[bool]) -> tuple[float, float]:
    """(sensitivity, specificity) that do not depend on which member of a cluster is kept.

    ``clusters``: for each predicted cluster, the truth flag (True = a duplicate) of its members;
    ``duplicate``: the truth flag of every record. A cluster of n records removes n - 1 of them; as
    many of those as the cluster holds true duplicates count as correct removals, the rest remove
    a record that should have stayed.
    """
    d = np.asarray(duplicate, bool)
    correct = wrong = 0
    for members in clusters:
        removed = len(members) - 1
        hit = min(removed, sum(members))
        correct += hit
        wrong += removed - hit
    return correct / int(d.sum()), 1 - wrong / int((~d).sum())
