"""The default ranker's contract, reproducibility of a seeded replay, and a sanity check on a tiny corpus.

Expected values come from how the corpora are built (which records share words), never from the code
under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from metareview.errors import InputError
from metareview.screening.models import (
    DEFAULT_MODEL,
    BlockFeatures,
    StackedFeatures,
    TfidfFeatures,
    available_models,
    get_model,
)
from metareview.screening.prioritise import Prioritiser
from metareview.screening.simulate import run_active

# 12 relevant records about statins and cholesterol, 48 irrelevant ones about river geology; words
# vary so that the rare-term view and the stop-word view both have something to learn
RELEVANT = [
    f"statin therapy lowers ldl cholesterol in trial {i} of adults with hyperlipidaemia dose {i % 3}"
    for i in range(12)
]
IRRELEVANT = [
    f"river sediment and flood geology survey {i} of the delta basin erosion site {i % 5}" for i in range(48)
]
TEXTS = RELEVANT + IRRELEVANT
LABELS = np.array([1] * 12 + [0] * 48)


def test_old_names_still_registered_and_default_listed():
    names = set(available_models())
    assert {"tfidf-svm", "tfidf-logreg", "tfidf-nb", DEFAULT_MODEL} <= names


def test_default_contract():
    model = get_model()
    assert model.name == DEFAULT_MODEL
    X = model.features.fit_transform(TEXTS)
    assert X.shape[0] == len(TEXTS)
    with pytest.raises(InputError, match="call fit"):
        model.score(X)
    with pytest.raises(InputError, match="at least one relevant"):
        model.fit(X[[0, 1]], [1, 1])
    scores = model.fit(X[[0, 20]], [1, 0]).score(X)
    assert scores.shape == (len(TEXTS),) and np.isfinite(scores).all()


def test_default_works_on_features_from_another_instance():
    # the screening queue computes the matrix once and ranks with fresh ranker instances
    X = get_model().features.fit_transform(TEXTS)
    ranking = Prioritiser(TEXTS, get_model(), features=X).rank([0, 12], [1, 0])
    assert set(ranking.order[:11].tolist()) == set(range(1, 12))


def test_relevant_weight_scales_the_relevant_records():
    # a larger weight on relevant records moves the decision boundary towards the irrelevant ones:
    # every score rises (hinge loss: the relevant side's errors cost more)
    low, high = get_model("tfidf-dual-svm"), get_model("tfidf-dual-svm")
    high.relevant_weight = 50.0
    low.relevant_weight = 1.0
    X = low.features.fit_transform(TEXTS)
    idx = [0, 1, 12, 13, 14, 15]
    y = LABELS[idx]
    s_low = low.fit(X[idx], y).score(X)
    s_high = high.fit(X[idx], y).score(X)
    assert s_high.mean() > s_low.mean()


def test_default_ranks_the_relevant_records_first():
    # one relevant and one irrelevant prior: the 11 other relevant records must lead the ranking
    ranking = Prioritiser(TEXTS).rank([0, 12], [1, 0])
    assert ranking.trained
    assert set(ranking.order[:11].tolist()) == set(range(1, 12))


def test_stacked_features_keep_each_block():
    feats = StackedFeatures([TfidfFeatures(), TfidfFeatures(min_df=1, stop_words=None)], [1.0, 0.5])
    X = feats.fit_transform(TEXTS)
    (a0, a1), (b0, b1) = feats.blocks
    assert a0 == 0 and a1 == b0 and b1 == X.shape[1]
    # each block is an l2-normalised TF-IDF row scaled by its weight
    norms_b = np.sqrt(np.asarray(X[:, b0:b1].multiply(X[:, b0:b1]).sum(axis=1))).ravel()
    assert norms_b == pytest.approx(np.full(len(TEXTS), 0.5))


@pytest.mark.parametrize("name", [DEFAULT_MODEL, "tfidf-svm"])
def test_same_seed_same_order_whatever_the_global_rng(name):
    # the liblinear solvers shuffle with random_state, or with numpy's global RNG when it is None:
    # disturbing the global RNG between two replays must not change a seeded replay
    rng = np.random.default_rng(3)
    words = [f"w{k}" for k in range(40)]
    texts = [" ".join(rng.choice(words, 12)) + (" statin" if i % 7 == 0 else "") for i in range(140)]
    labels = np.array([1 if i % 7 == 0 else 0 for i in range(140)])
    orders = []
    for global_seed in (1, 2):
        np.random.seed(global_seed)
        prio = Prioritiser(texts, name)
        orders.append(run_active(prio, labels, seed=5, every_decision_until=30, step_fraction=0.05).order)
    assert np.array_equal(orders[0], orders[1])
    # and every fitted part carries the run's seed
    prio = Prioritiser(texts, name)
    prio.rank([0, 1], [1, 0], random_state=11)
    clf = prio.ranker._clf
    parts = getattr(clf, "models_", [clf])
    assert parts and all(p.get_params()["random_state"] == 11 for p in parts)


def test_block_features_carry_their_layout():
    feats = BlockFeatures([TfidfFeatures(), TfidfFeatures(min_df=1, stop_words=None)])
    X = feats.fit_transform(TEXTS)
    (a0, a1), (b0, b1) = feats.blocks
    # two header columns, then the blocks; every row's header holds the two widths
    assert X.shape[1] == 2 + b1
    header = X[:, :2].toarray()
    assert (header == [a1 - a0, b1 - b0]).all()
