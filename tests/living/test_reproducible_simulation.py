"""Issue 14: a screening simulation is reproducible -- every random choice takes the run's seed.

Before the fix LinearSVC was fitted without ``random_state``, so its dual coordinate descent drew its
shuffling seed from NumPy's global generator: the same run seed gave different orders (and WSS) depending
on what else had used that generator. Here the global generator is deliberately set differently before
each of two runs with one seed; the orders must be identical.
"""

from __future__ import annotations

import numpy as np

from metareview.screening.simulate import simulate


def _corpus(n: int = 300, seed: int = 7) -> tuple[list[str], np.ndarray]:
    """Noisy texts: relevant and irrelevant records share most of their words, so the SVM's solution
    (at its loose tolerance) depends on the coordinate order of its solver."""
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(120)]
    labels = (rng.random(n) < 0.12).astype(int)
    texts = []
    for lab in labels:
        words = rng.choice(vocab[:100], 25).tolist()
        if lab:
            words += rng.choice(vocab[90:], 4).tolist()
        texts.append(" ".join(words))
    return texts, labels


def _run(global_seed: int) -> tuple[list[list[int]], list[float]]:
    texts, labels = _corpus()
    np.random.seed(global_seed)  # noqa: NPY002 - the point is that the global state must not matter
    res = simulate(texts, labels, model="tfidf-svm", seeds=2, with_random=False, every_decision_until=60)
    return [r.order.tolist() for r in res.runs], [r.metrics()["wss95"] for r in res.runs]


def test_same_seed_same_order_and_wss_whatever_the_global_rng():
    orders_a, wss_a = _run(1)
    orders_b, wss_b = _run(12345)
    assert orders_a == orders_b
    assert wss_a == wss_b
