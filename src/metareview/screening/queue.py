"""What to screen next, how far screening has got, and how well the reviewers agree — for a review.

* :func:`next_record` — the unscreened record the ranker rates most likely relevant for this reviewer
  (trained on this reviewer's own votes in blind mode, else on the final decisions too);
* :func:`stopping_status` — the protocol's stopping rule and the consecutive-irrelevant heuristic on
  the title/abstract decisions in the order they were made;
* :func:`review_agreement` — percent agreement and Cohen's kappa (two votes per record) or Fleiss' kappa.

Example::

    from metareview.screening.queue import next_record
    nxt = next_record(review, reviewer="ana")
    print(nxt)          # record id, title, abstract, rank score, how many remain
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from metareview.errors import InputError
from metareview.protocol import PROTOCOL_FILE
from metareview.review import Review
from metareview.screening import decisions as sd
from metareview.screening import live
from metareview.screening.models import (
    DEFAULT_MODEL,
    EmbeddingFeatures,
    check_model,
    get_model,
    plain_text,
    ranking_text,
)
from metareview.screening.prioritise import Prioritiser
from metareview.screening.stages import INCLUDE, TITLE_ABSTRACT, check_stage
from metareview.store import screening_repo as repo

if TYPE_CHECKING:  # scipy.stats: imported by the functions that use it
    from metareview.screening.agreement import Agreement
    from metareview.screening.stopping import StoppingResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NextRecord:
    """The record to screen next and why it is first."""

    record_id: int
    title: str
    abstract: str
    stage: str
    score: float | None
    model: str
    trained: bool
    remaining: int

    def to_dict(self) -> dict[str, Any]:
        """Plain values."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row."""
        return pd.DataFrame([self.to_dict()])

    def __str__(self) -> str:
        how = f"ranked first by {self.model}" if self.trained else "in import order (ranker not trained yet)"
        return (
            f"record {self.record_id} ({self.stage}; {how}; {self.remaining} left for you)\n"
            f"{self.title}\n\n{self.abstract}"
        )


def _embedding_matrix(review: Review, ids: list[int], texts: list[str], model: str) -> np.ndarray:
    """Embeddings of ``texts`` from the store's cache; missing or stale ones are computed and saved."""
    texts = [plain_text(t) for t in texts]  # what the cache is keyed on
    hashes = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    with review.session() as s:
        cached = repo.load_embeddings(s, model, ids)
    cache = {
        texts[i]: np.frombuffer(cached[rid][1], dtype=np.float32)
        for i, rid in enumerate(ids)
        if rid in cached and cached[rid][0] == hashes[i]
    }
    feats = EmbeddingFeatures(cache=dict(cache))
    X = feats.fit_transform(texts)
    new = [
        (rid, hashes[i], X[i].astype(np.float32).tobytes())
        for i, rid in enumerate(ids)
        if texts[i] not in cache
    ]
    with review.session() as s:
        repo.save_embeddings(s, model, new)
    return X


REFIT_EVERY = 10
"""Default: refit a cached ranking once this many decision events at the stage arrived since its fit."""
REFIT_AFTER_S = 30.0
"""Default: refit a cached ranking this many seconds after its fit when any decision arrived since."""
HOLD_S = 300.0
"""How long the team server holds a served record for its reviewer (``next_record(hold=...)``)."""


@dataclass
class _Corpus:
    """The screenable records of one review and their features, computed once per corpus."""

    token: tuple[int, ...]
    ids: list[int]
    rows: list[tuple[int, str, str, list[str]]]
    texts: list[str]
    features: Any


@dataclass
class _Fit:
    """A reviewer's ranking as of the decisions counted in ``events``; ``cursor`` is where the walk
    for an open record may start (every record before it was found closed for the reviewer, and stays
    closed until the state's ``reopened`` mark changes)."""

    corpus: tuple[int, ...]
    events: int
    at: float
    order: np.ndarray
    scores: np.ndarray
    trained: bool
    model: str
    cursor: int = 0
    cursor_mark: tuple[int, int] = (-1, -1)


_LOCK = threading.Lock()
_CORPUS_LOCK = threading.Lock()
_CORPORA: dict[tuple[str, str], _Corpus] = {}
_FITS: dict[tuple[str, str, str, str, bool], _Fit] = {}
_FIT_LOCKS: dict[tuple[str, str, str, str, bool], threading.Lock] = {}
_REFITTER: ThreadPoolExecutor | None = None


def clear_cache() -> None:
    """Forget every cached corpus, ranking and screening state of this process."""
    with _LOCK:
        _CORPORA.clear()
        _FITS.clear()
        _FIT_LOCKS.clear()
    live.clear()


def _corpus(review: Review, model: str, token: tuple[int, ...]) -> _Corpus:
    key = (live.where(review), model)
    with _LOCK:
        c = _CORPORA.get(key)
    if c is not None and c.token == token:
        return c
    with _CORPUS_LOCK:  # concurrent first requests compute the features once
        with _LOCK:
            c = _CORPORA.get(key)
        if c is not None and c.token == token:
            return c
        return _build_corpus(review, model, token, key)


def _build_corpus(review: Review, model: str, token: tuple[int, ...], key: tuple[str, str]) -> _Corpus:
    with review.session() as s:
        rows = repo.screenable_records(s)
    ids = [r[0] for r in rows]
    texts = [ranking_text(t, a, k) for _, t, a, k in rows]
    ranker = get_model(model)
    if ranker.features.name == "minilm":
        features = _embedding_matrix(review, ids, texts, model)
    else:
        features = ranker.features.fit_transform(texts)
    c = _Corpus(token, ids, rows, texts, features)
    with _LOCK:
        _CORPORA[key] = c
    return c


def _labels(state: live.LiveState, stage: str, reviewer: str, blind: bool) -> dict[int, int]:
    """The ranker's labels, as in the full recomputation: the final decisions (unless blind), in the
    order of the records' first events, overridden by the reviewer's own current include/exclude
    votes on the stage's candidates, in record-id order (the order of training rows changes a
    LinearSVC fit)."""
    labelled: dict[int, int] = {}
    records = state.records(stage)
    if not blind:
        for rid, d in records:
            status, decision = sd._status(d, state.required, stage)
            if status == sd.DECIDED and decision is not None:
                labelled[rid] = int(decision == INCLUDE)
    own = sorted(
        (rid, d.votes[reviewer].decision)
        for rid, d in records
        if reviewer in d.votes and state.contribution(stage, rid) is not None
    )
    labelled.update((rid, int(dec == INCLUDE)) for rid, dec in own if dec != "maybe")
    return labelled


def _fit(review: Review, corpus: _Corpus, stage: str, reviewer: str, model: str) -> _Fit:
    blind = review.protocol.screening.blind
    with live.view(review) as state:
        labelled = _labels(state, stage, reviewer, blind)
        events = state.events_count(stage, reviewer if blind else None)
    pos = {rid: i for i, rid in enumerate(corpus.ids)}
    lab = [pos[r] for r in labelled if r in pos]
    ranker = get_model(model)
    ranking = Prioritiser(corpus.texts, ranker, features=corpus.features).rank(
        lab, [labelled[corpus.ids[i]] for i in lab]
    )
    return _Fit(corpus.token, events, time.monotonic(), ranking.order, ranking.scores, ranking.trained,
                ranker.name)


def _refit_in_background(review: Review, corpus: _Corpus, stage: str, reviewer: str, model: str,
                         key: tuple[str, str, str, str, bool], lock: threading.Lock) -> None:
    """Refit on the refitter thread while requests keep serving the cached order."""
    global _REFITTER
    if not lock.acquire(blocking=False):
        return  # a refit of this ranking is under way

    def job() -> None:
        try:
            fit = _fit(review, corpus, stage, reviewer, model)
            with _LOCK:
                _FITS[key] = fit
        except Exception:  # the cached order stays in use; the next due request tries again
            log.exception("background refit of %s failed", key)
        finally:
            lock.release()

    with _LOCK:
        if _REFITTER is None:
            _REFITTER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metareview-refit")
        refitter = _REFITTER
    try:
        refitter.submit(job)
    except RuntimeError:  # interpreter shutting down
        lock.release()


def _walk(state: live.LiveState, corpus: _Corpus, fit: _Fit, stage: str, reviewer: str,
          remaining: int, hold: float) -> NextRecord | None:
    """The first record of the cached order still open for ``reviewer`` (None: the order has none).

    With ``hold`` > 0 a record that other reviewers were served and have not voted on yet, enough of
    them to give it all its votes, is passed over while another is open (and the record served is held
    for ``reviewer`` for ``hold`` seconds): a third reviewer is not sent to read a record that two
    colleagues are deciding. The holds are kept in this process only."""
    mark = state.reopen_mark
    start = fit.cursor if fit.cursor_mark == mark else 0
    order = fit.order
    first_open = None
    chosen = None
    for rank in range(start, order.size):
        rid = corpus.ids[int(order[rank])]
        if not state.is_open(stage, reviewer, rid):
            continue
        if first_open is None:
            first_open = rank
        if hold <= 0 or not state.held_by_others(stage, rid, reviewer):
            chosen = rank
            break
    if first_open is None:
        return None
    fit.cursor, fit.cursor_mark = first_open, mark
    rank = first_open if chosen is None else chosen
    i = int(order[rank])
    rid = corpus.ids[i]
    if hold > 0:
        state.hold(stage, rid, reviewer, hold)
    title, abstract = corpus.rows[i][1], corpus.rows[i][2]
    score = float(fit.scores[rank]) if fit.trained else None
    return NextRecord(rid, title, abstract, stage, score, fit.model, fit.trained, remaining)


def _due(
    fit: _Fit | None, ctoken: tuple[int, ...], events: int, refit_every: int, refit_after_s: float
) -> bool:
    """Whether ``fit`` must be refitted: none yet, another corpus, or decisions arrived since (enough of
    them, or long enough ago, or the ranker was not trained yet)."""
    return fit is None or fit.corpus != ctoken or (
        events != fit.events
        and (not 0 < events - fit.events < refit_every or time.monotonic() - fit.at >= refit_after_s
             or not fit.trained)
    )


def _cached_next(
    review: Review, reviewer: str, stage: str, model: str, refit_every: int, refit_after_s: float,
    background: bool, hold: float,
) -> NextRecord | None:
    blind = review.protocol.screening.blind
    where = live.where(review)
    key = (where, stage, reviewer, model, blind)
    walked = False
    with live.view(review) as state:
        remaining = state.remaining(stage, reviewer)
        if not remaining:
            return None
        ctoken = state.token
        assert ctoken is not None
        events = state.events_count(stage, reviewer if blind else None)
        with _LOCK:
            fit = _FITS.get(key)
            corpus = _CORPORA.get((where, model))
            lock = _FIT_LOCKS.setdefault(key, threading.Lock())
        if fit is not None and corpus is not None and fit.corpus == ctoken == corpus.token:
            # the usual request: a cached order of this corpus, walked against the state just read
            due = _due(fit, ctoken, events, refit_every, refit_after_s)
            if due and background:
                _refit_in_background(review, corpus, stage, reviewer, model, key, lock)
            if not due or background or lock.locked():  # (a refit under way: serve the cached order)
                found = _walk(state, corpus, fit, stage, reviewer, remaining, hold)
                if found is not None:
                    return found
                walked = True
    if not walked:
        corpus = _corpus(review, model, ctoken)
        with _LOCK:
            fit = _FITS.get(key)
        if _due(fit, ctoken, events, refit_every, refit_after_s):
            stale_ok = fit is not None and fit.corpus == ctoken
            if lock.acquire(blocking=not stale_ok):
                try:
                    fit = _fit(review, corpus, stage, reviewer, model)
                    with _LOCK:
                        _FITS[key] = fit
                finally:
                    lock.release()
        assert fit is not None
        with live.view(review) as state:
            found = _walk(state, corpus, fit, stage, reviewer, state.remaining(stage, reviewer), hold)
        if found is not None:
            return found
    # a record the cached order lacks (labelled at the fit, open again now): recompute in full
    return _full_next(review, reviewer, stage, model)


def next_record(
    review: Review,
    reviewer: str,
    stage: str = TITLE_ABSTRACT,
    model: str | None = None,
    *,
    cache: bool = True,
    refit_every: int = REFIT_EVERY,
    refit_after_s: float = REFIT_AFTER_S,
    background: bool = False,
    hold: float = 0.0,
) -> NextRecord | None:
    """The next record ``reviewer`` should screen at ``stage`` (None when nothing is left for them).

    What is left is read from the review's screening state brought up to date with the store on every
    call (:mod:`metareview.screening.live`): a record needing no more votes is never served. The
    ranking is cached in this process per review, stage, reviewer and model, and refitted once
    ``refit_every`` decision events at the stage arrived since the last fit, or ``refit_after_s``
    seconds after it when any did (only the reviewer's own events count in blind mode, since only those
    train their ranker); in between, the cached order is served. With ``background=True`` (the team
    server) a due refit of an existing ranking runs on a background thread and this call serves the
    cached order. The corpus features are computed once per set of screenable records.
    ``hold`` > 0 (the team server): the record served is held for ``reviewer`` for that many seconds
    or until they vote, and a record held by enough other reviewers to fill its votes is served to a
    further one only when nothing else is open (holds are kept per process).
    ``cache=False`` recomputes everything from the event log (the reference behaviour).
    ``model`` names the ranker; by default the protocol's ``[screening] ranker``, else the default ranker.
    """
    check_stage(stage, review.protocol)
    from_protocol = not model and bool(review.protocol.screening.ranker)
    model = model or review.protocol.screening.ranker or DEFAULT_MODEL
    try:
        check_model(model)  # an unknown name fails here, listing the registered ones
    except InputError as exc:
        if not from_protocol:
            raise
        where = review.directory / PROTOCOL_FILE
        raise InputError(exc.message, file=where, field="screening.ranker") from None
    if not cache:
        return _full_next(review, reviewer, stage, model)
    return _cached_next(review, reviewer, stage, model, refit_every, refit_after_s, background, hold)


def _full_next(review: Review, reviewer: str, stage: str, model: str) -> NextRecord | None:
    """:func:`next_record` derived from the whole event log, with a ranker trained from scratch."""
    mine = sd.states(review, stage, reviewer)
    todo = {
        st.record_id
        for st in mine
        if st.status == sd.PENDING and all(v.reviewer != reviewer for v in st.votes)
    }
    if not todo:
        return None
    with review.session() as s:
        rows = repo.screenable_records(s)
        stage_events = repo.events(s, stage=stage)
    ids = [r[0] for r in rows]
    texts = [ranking_text(t, a, k) for _, t, a, k in rows]
    labelled: dict[int, int] = {}
    if not review.protocol.screening.blind:
        final = sd._final_decisions(review.protocol, stage_events, stage)
        labelled.update((rid, int(dec == INCLUDE)) for rid, dec in final.items())
    for st in mine:
        for v in st.votes:
            if v.reviewer == reviewer and v.decision != "maybe":
                labelled[st.record_id] = int(v.decision == INCLUDE)
    ranker = get_model(model)
    features = _embedding_matrix(review, ids, texts, model) if ranker.features.name == "minilm" else None
    pos = {rid: i for i, rid in enumerate(ids)}
    lab = [pos[r] for r in labelled if r in pos]
    ranking = Prioritiser(texts, ranker, features=features).rank(lab, [labelled[ids[i]] for i in lab])
    for rank, i in enumerate(ranking.order):
        if ids[i] in todo:
            title, abstract = rows[i][1], rows[i][2]
            score = float(ranking.scores[rank]) if ranking.trained else None
            return NextRecord(ids[i], title, abstract, stage, score, ranker.name, ranking.trained, len(todo))
    return None


def stopping_status(
    review: Review,
    target_recall: float | None = None,
    confidence: float | None = None,
    consecutive: int | None = None,
) -> list[StoppingResult]:
    """The protocol's stopping rule and the consecutive-irrelevant heuristic on the decided title/abstract
    records, in the order their first vote was cast,
    per update batch (:func:`metareview.screening.batches.batch_stopping_status`): the rules of the latest
    batch holding records, saying stop only when every batch does."""
    from metareview.screening.batches import batch_stopping_status

    return batch_stopping_status(review, None, target_recall, confidence, consecutive).review_results()


def review_agreement(review: Review, stage: str = TITLE_ABSTRACT, level: float = 0.95) -> list[Agreement]:
    """Agreement at ``stage``, with votes paired by person (never by the order they were cast).

    One Cohen's kappa per pair of raters, over the records both rated (pairs with fewer than two
    common records, or whose kappa is undefined because both used one category throughout, are left
    out), named by ``rater_names``; then Fleiss' kappa over the records with the most common number
    (2+) of raters (its raters need not be the same people on every record). An aggregate: computed
    from every vote, it shows no single vote."""
    from metareview.screening.agreement import cohen_kappa, counts_from_ratings, fleiss_kappa

    table = sd._votes_by_rater(review, stage)
    sizes = pd.Series([len(v) for v in table.values() if len(v) >= 2])
    if sizes.empty:
        raise InputError(f"no record has two votes at {stage} yet: agreement needs dual screening")
    m = int(sizes.mode().iloc[0])
    rated = [list(v.values()) for v in table.values() if len(v) == m]
    if len(rated) < 2:
        raise InputError(f"only {len(rated)} record has {m} votes at {stage}: agreement needs at least 2 "
                         "records screened by the same number of reviewers")
    out = []
    raters = sorted({name for votes in table.values() for name in votes})
    for i, a in enumerate(raters):
        for b in raters[i + 1 :]:
            common = [v for v in table.values() if a in v and b in v]
            if len(common) < 2:
                continue
            try:
                k = cohen_kappa([v[a] for v in common], [v[b] for v in common], level)
            except InputError:
                continue
            out.append(replace(k, rater_names=(a, b)))
    fleiss = fleiss_kappa(counts_from_ratings(rated), level)
    names = tuple(sorted({n for v in table.values() if len(v) == m for n in v}))
    out.append(replace(fleiss, rater_names=names))
    return out
