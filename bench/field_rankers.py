"""Experimental rankers that see a record's fields apart (issue 14: "feature sets that the records carry").

Not registered in ``metareview.screening.models``: they are measured by ``bench_asreview_compare.py``
(``--candidates fields-...``) and adopted only if they beat the default there. Each record's text is
``title <US> abstract <US> keywords`` (US = the ASCII unit separator, keywords kept ``;``-separated, as the
Cohen et al. 2006 CSVs write their MeSH headings), built by :func:`field_texts`.

* ``fields-ta-rare``: the default's two views, but the rare-terms view (ASReview ELAS u4's TF-IDF) reads
  title and abstract only, as ELAS u4 does; the other view reads all three fields.
* ``fields-mesh``: those two views plus a third, the keywords as whole headings ("Anti-Ulcer Agents" is one
  term, not three words), each view its own SVM, scores fused as in ``tfidf-fused-svm``.
* ``fields-mesh-cv``: the same three views, fused with weights learnt on the labelled records: at each refit
  every view's SVM is cross-validated (3 folds, stratified), its out-of-fold AUC − 0.5 is its share, and
  the shares are shrunk towards equal weights by n_relevant / (n_relevant + 5) (equal below 3 relevant).
* ``fields-mesh-interleaved``: the same three views and SVMs, but no fusion: the views take turns, each
  putting forward the record it ranks highest among those not yet screened (a query strategy rather than a
  score, so it is replayed by :func:`interleaved_replay`, on ``simulate.run_active``'s schedule and priors).
* ``fields-mesh-minilm-interleaved``: those three views and a fourth, the MiniLM sentence embeddings of
  title, abstract and keywords (``bench/_work/embeddings``, as ``tfidf-minilm-svm`` reads them), taking turns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.class_weight import compute_sample_weight

from metareview.screening.models import (
    BlockFeatures,
    FusedClassifier,
    Ranker,
    TfidfFeatures,
    _blocks,
    _rare_terms,
    _svm_unweighted,
)
from metareview.screening.simulate import Run, _priors, _step

SEP = "\x1f"
TITLE, ABSTRACT, KEYWORDS = 0, 1, 2


def field_texts(path: Path) -> list[str]:
    """``title <US> abstract <US> keywords`` for every row of a Cohen-style CSV (missing fields empty)."""
    df = pd.read_csv(path)
    cols = [
        df[c].astype("string").fillna("") if c in df.columns else pd.Series([""] * len(df), dtype="string")
        for c in ("title", "abstract", "keywords")
    ]
    return (cols[0] + SEP + cols[1] + SEP + cols[2]).tolist()


class Fields:
    """Another extractor applied to some fields of each text, joined by spaces (keyword ``;`` to spaces)."""

    def __init__(self, inner: Any, fields: Sequence[int]) -> None:
        self.inner, self.fields = inner, list(fields)
        self.name = f"{inner.name}[{','.join(map(str, self.fields))}]"

    def fit_transform(self, texts: Sequence[str]) -> Any:
        picked = [" ".join(t.split(SEP)[i] for i in self.fields).replace(";", " ").strip() for t in texts]
        return self.inner.fit_transform(picked)


class HeadingFeatures:
    """TF-IDF of whole keyword headings (lower-cased, ``;``-separated), headings in < 2 records dropped."""

    name = "headings"

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        def headings(field: str) -> list[str]:
            return [h.strip().lower() for h in field.split(";") if h.strip()]

        vec = TfidfVectorizer(
            tokenizer=headings, token_pattern=None, lowercase=False, min_df=2, sublinear_tf=True,
            dtype=np.float64,
        )
        try:
            return sparse.csr_matrix(vec.fit_transform([t.split(SEP)[KEYWORDS] for t in texts]))
        except ValueError:  # no heading in two records: one empty column keeps the block layout
            return sparse.csr_matrix((len(texts), 1))


class CrossValidatedFusion(FusedClassifier):
    """:class:`FusedClassifier` whose view weights come from each view's out-of-fold AUC (see above)."""

    SHRINK = 5.0
    MIN_EACH = 3

    def fit(self, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> CrossValidatedFusion:
        super().fit(X, y, sample_weight)
        prior = np.asarray(self.weights, dtype=float)
        n_rel, n_irr = int(np.sum(y == 1)), int(np.sum(y == 0))
        if min(n_rel, n_irr) < self.MIN_EACH:
            return self
        folds = StratifiedKFold(min(3, n_rel, n_irr), shuffle=True, random_state=self.random_state or 0)
        share = []
        for (lo, hi), make in zip(_blocks(X, len(self.factories)), self.factories, strict=True):
            out_of_fold = np.zeros(len(y))
            for train, test in folds.split(np.zeros(len(y)), y):
                clf = make()
                w = None if sample_weight is None else sample_weight[train]
                clf.fit(X[train][:, lo:hi], y[train], sample_weight=w)
                out_of_fold[test] = clf.decision_function(X[test][:, lo:hi])
            share.append(max(roc_auc_score(y, out_of_fold) - 0.5, 0.01))
        learnt = np.asarray(share) / sum(share) * prior.sum()
        keep = n_rel / (n_rel + self.SHRINK)
        self.weights = list(keep * learnt + (1 - keep) * prior)  # a fresh instance is made for every refit
        return self


def _fused(name: str, parts: list[Any], fusion: Callable[..., Any] = FusedClassifier) -> Callable[[], Ranker]:
    clf = partial(fusion, [_svm_unweighted] * len(parts))
    return lambda: Ranker(name, BlockFeatures(parts), clf, balance_by_weight=True, relevant_weight=5.0)


ALL, TITLE_ABSTRACT = [TITLE, ABSTRACT, KEYWORDS], [TITLE, ABSTRACT]
FIELD_RANKERS: dict[str, Callable[[], Ranker]] = {
    "fields-ta-rare": _fused(
        "fields-ta-rare", [Fields(TfidfFeatures(), ALL), Fields(_rare_terms(), TITLE_ABSTRACT)]
    ),
    "fields-mesh": _fused(
        "fields-mesh",
        [Fields(TfidfFeatures(), ALL), Fields(_rare_terms(), TITLE_ABSTRACT), HeadingFeatures()],
    ),
    "fields-mesh-cv": _fused(
        "fields-mesh-cv",
        [Fields(TfidfFeatures(), ALL), Fields(_rare_terms(), TITLE_ABSTRACT), HeadingFeatures()],
        CrossValidatedFusion,
    ),
}


def _view_scores(X: Any, n_views: int, idx: np.ndarray, y: np.ndarray, seed: int) -> list[np.ndarray]:
    """Each view's SVM, fitted on the labelled rows with the default's weights, scoring every row."""
    weight = compute_sample_weight("balanced", y)
    weight[y == 1] *= 5.0
    out = []
    for lo, hi in _blocks(X, n_views):
        clf = _svm_unweighted().set_params(random_state=seed)
        clf.fit(X[idx][:, lo:hi], y, sample_weight=weight)
        out.append(np.asarray(clf.decision_function(X[:, lo:hi]), dtype=float))
    return out


def interleaved_replay(texts: list[str], labels: np.ndarray, seed: int, parts: list[Any]) -> Run:
    """Screening replay in which the views take turns (see the module docstring); the same priors, refit
    schedule (every decision for the first 100 records, then every 1% of the corpus) and seed use as
    ``simulate.run_active``."""
    X = BlockFeatures(parts).fit_transform(texts)
    rng = np.random.default_rng(seed)
    n, total = labels.size, int(labels.sum())
    order = _priors(labels, 1, rng)
    left = np.ones(n, dtype=bool)
    left[order] = False
    turn = 0
    while len(order) < n:
        if labels[order].sum() == total:  # all found: the rest cannot change the metrics
            order.extend(rng.permutation(np.flatnonzero(left)).tolist())
            break
        idx = np.asarray(order)
        y = labels[idx]
        rest = np.flatnonzero(left)
        if np.unique(y).size < 2:
            take = rest[: _step(len(order), n, 100, 0.01)].tolist()
        else:
            scores = _view_scores(X, len(parts), idx, y, seed)
            ranked = [rest[np.argsort(-s[rest], kind="stable")] for s in scores]
            take, taken, pos = [], set(), [0] * len(parts)
            while len(take) < min(_step(len(order), n, 100, 0.01), rest.size):
                view = turn % len(parts)
                turn += 1
                while int(ranked[view][pos[view]]) in taken:
                    pos[view] += 1
                take.append(int(ranked[view][pos[view]]))
                taken.add(take[-1])
        order.extend(take)
        left[take] = False
    return Run("fields-mesh-interleaved", seed, np.asarray(order), labels, 2, None)


class RowVectors:
    """Vectors computed elsewhere, one row per text (the cached sentence embeddings of the corpus)."""

    name = "minilm"

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows

    def fit_transform(self, texts: Sequence[str]) -> np.ndarray:
        assert len(texts) == self.rows.shape[0]
        return self.rows


def _three_views() -> list[Any]:
    return [Fields(TfidfFeatures(), ALL), Fields(_rare_terms(), TITLE_ABSTRACT), HeadingFeatures()]


# name -> (views given the corpus embeddings or None, whether the views need the embeddings)
INTERLEAVED: dict[str, tuple[Callable[[np.ndarray | None], list[Any]], bool]] = {
    "fields-mesh-interleaved": (lambda _: _three_views(), False),
    "fields-mesh-minilm-interleaved": (lambda emb: [*_three_views(), RowVectors(np.asarray(emb))], True),
}
