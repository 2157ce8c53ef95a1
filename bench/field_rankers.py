"""Experimental rankers that read a record's fields apart (issue 14: "feature sets that the records carry").

Not registered in ``metareview.screening.models``: ``bench_asreview_compare.py`` measures them
(``--candidates fields-...``) beside the registered ``fields-turns-svm``, whose views they share. Each text is
a :func:`~metareview.screening.models.ranking_text` (title, abstract and MeSH keywords kept apart), as
``simulate.read_labelled_csv`` builds it.

* ``fields-ta-rare``: the default's two views, but the rare-terms view (ASReview ELAS u4's TF-IDF) reads
  title and abstract only, as ELAS u4 does; the other view reads all three fields.
* ``fields-mesh``: those two views plus a third, the keywords as whole headings ("Anti-Ulcer Agents" is one
  term, not three words), each view its own SVM, scores fused as in ``tfidf-fused-svm``.
* ``fields-mesh-cv``: the same three views, fused with weights learnt on the labelled records: at each refit
  every view's SVM is cross-validated (3 folds, stratified), its out-of-fold AUC − 0.5 is its share, and
  the shares are shrunk towards equal weights by n_relevant / (n_relevant + 5) (equal below 3 relevant).
* ``fields-minilm-turns``: the three views of ``fields-turns-svm`` and a fourth, the MiniLM sentence
  embeddings, taking turns.

Variants of ``fields-turns-svm`` (session 6), each changing one thing:

* ``turns-consensus``: a fourth turn for the fused score of the three views (the consensus);
* ``turns-2v``: without the MeSH view (two views taking turns);
* ``turns-w10``: relevant records weighted 10:1 instead of 5:1 (ELAS u4's balancer uses 9.8);
* ``turns-elasw``: weighted as ASReview's "balanced" balancer does for ELAS u4 (ratio 9.8) with its SVM's
  C = 0.11, the balancer's rescaling of the weights folded into C (see ``ELAS_RATIO``);
* ``turns-fused-mesh``: two voices taking turns, the default's fused two TF-IDF views and the MeSH view;
* ``turns-minilm-3``: the MeSH view replaced by the MiniLM embeddings.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from metareview.screening.models import (
    ABSTRACT,
    KEYWORDS,
    TITLE,
    BlockFeatures,
    EmbeddingFeatures,
    FieldFeatures,
    FusedClassifier,
    HeadingFeatures,
    Ranker,
    TfidfFeatures,
    _blocks,
    _rare_terms,
    _svm_unweighted,
)


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
                if "random_state" in clf.get_params():  # LinearSVC's dual solver shuffles: the run's seed
                    clf.set_params(random_state=self.random_state)
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


def _three_views() -> list[Any]:
    return [
        FieldFeatures(TfidfFeatures(), [TITLE, ABSTRACT, KEYWORDS]),
        FieldFeatures(_rare_terms(), [TITLE, ABSTRACT]),
        HeadingFeatures(),
    ]


class ConsensusTurns(FusedClassifier):
    """The views take turns with a fourth voice, their fused score (the consensus), every fourth place."""

    def view_scores(self, X: Any) -> list[np.ndarray]:
        views = super().view_scores(X)
        return [*views, super().fuse(views)]

    def fuse(self, view_scores: Any) -> np.ndarray:
        return super().fuse(list(view_scores)[: len(self.factories)])


def _turns(
    name: str,
    parts: list[Any],
    fusion: Any = FusedClassifier,
    weight: float = 5.0,
    svm: Callable[[], LinearSVC] = _svm_unweighted,
) -> Callable[[], Ranker]:
    clf = partial(fusion, [svm] * len(parts))
    return lambda: Ranker(
        name, BlockFeatures(parts), clf, balance_by_weight=True, relevant_weight=weight, takes_turns=True
    )


class GroupedTurns(FusedClassifier):
    """Three views, two voices taking turns: the fused score of the first two views, and the third."""

    GROUPS = ((0, 1), (2,))

    def view_scores(self, X: Any) -> list[np.ndarray]:
        base = super().view_scores(X)
        out = []
        for group in self.GROUPS:
            s = np.sum([base[i] for i in group], axis=0)
            out.append((s - s.mean()) / (s.std() or 1.0))
        return out

    def fuse(self, view_scores: Any) -> np.ndarray:
        return np.sum(list(view_scores), axis=0)


ELAS_RATIO = 9.8
"""ASReview's "balanced" balancer for ELAS u4 weights a relevant record 9.8 n_irrelevant / n_relevant
times an irrelevant one, its weights summing to n. ``Ranker``'s balanced weights times ``relevant_weight``
= 9.8 give the same ratio, summing to n (1 + 9.8) / 2: ELAS u4's C = 0.11 is C = 0.11 * 2 / 10.8 here."""


def _svm_elas() -> LinearSVC:
    return LinearSVC(C=0.11 * 2 / (1 + ELAS_RATIO), dual=True, tol=1e-2, max_iter=2000)


FIELD_RANKERS: dict[str, Callable[[], Ranker]] = {
    "fields-ta-rare": _fused("fields-ta-rare", _three_views()[:2]),
    "fields-mesh": _fused("fields-mesh", _three_views()),
    "fields-mesh-cv": _fused("fields-mesh-cv", _three_views(), CrossValidatedFusion),
    "fields-minilm-turns": _turns("fields-minilm-turns", [*_three_views(), EmbeddingFeatures()]),
    "turns-consensus": _turns("turns-consensus", _three_views(), ConsensusTurns),
    "turns-2v": _turns("turns-2v", _three_views()[:2]),
    "turns-w10": _turns("turns-w10", _three_views(), weight=10.0),
    "turns-elasw": _turns("turns-elasw", _three_views(), weight=ELAS_RATIO, svm=_svm_elas),
    "turns-fused-mesh": _turns("turns-fused-mesh", _three_views(), GroupedTurns),
    "turns-minilm-3": _turns("turns-minilm-3", [*_three_views()[:2], EmbeddingFeatures()]),
}
