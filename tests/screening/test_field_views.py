"""Ranking texts that keep title, abstract and keywords apart; the views that read some fields; the
``fields-turns-svm`` ranker, whose views take turns.

Expected values come from how the texts and scores are built here (which view scores which row highest),
never from the code under test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from screenfixtures import make_review

from metareview.errors import InputError
from metareview.review import Review
from metareview.screening import decisions as sd
from metareview.screening.models import (
    ABSTRACT,
    DEFAULT_MODEL,
    KEYWORDS,
    TITLE,
    EmbeddingFeatures,
    FieldFeatures,
    HeadingFeatures,
    TfidfFeatures,
    get_model,
    plain_text,
    ranking_text,
    take_turns,
    text_fields,
)
from metareview.screening.prioritise import Prioritiser, _seeded
from metareview.screening.queue import clear_cache, next_record
from metareview.screening.simulate import read_labelled_csv, run_active


def test_ranking_text_round_trip_and_plain_form():
    text = ranking_text("Omeprazole for reflux", "A randomised trial.", ["Humans", "Anti-Ulcer Agents"])
    title, abstract, keywords = text_fields(text)
    assert (title, abstract) == ("Omeprazole for reflux", "A randomised trial.")
    assert keywords == ["Humans", "Anti-Ulcer Agents"]
    # the plain form is the fields joined by spaces: what the store's embedding cache was keyed on
    assert plain_text(text) == "Omeprazole for reflux A randomised trial. Humans Anti-Ulcer Agents"
    assert plain_text(ranking_text("Title only", "")) == "Title only"
    # a text written without fields (a user's own list of strings) is all title
    assert text_fields("just a string") == ("just a string", "", [])
    assert plain_text("just a string") == "just a string"


def test_whole_text_view_sees_the_same_words_as_the_joined_fields():
    fields = [("Statin trial", "LDL fell", ["Humans", "Hydroxymethylglutaryl-CoA"]), ("River survey", "", [])]
    structured = [ranking_text(t, a, k) for t, a, k in fields]
    joined = [" ".join([t, a, *k]) for t, a, k in fields]
    a = TfidfFeatures(min_df=1).fit_transform(structured)
    b = TfidfFeatures(min_df=1).fit_transform(joined)
    assert (a != b).nnz == 0


def test_field_view_reads_only_its_fields():
    texts = [ranking_text("alpha", "beta", ["gamma"]), ranking_text("alpha", "delta", ["gamma"])]
    view = FieldFeatures(TfidfFeatures(min_df=1, stop_words=None), [TITLE, ABSTRACT])
    X = view.fit_transform(texts)
    # alpha, beta, delta and the pairs "alpha beta", "alpha delta" (1-2-grams): no gamma, a keyword
    assert X.shape == (2, 5)
    assert view.name == "tfidf[0,1]"
    only_keywords = FieldFeatures(TfidfFeatures(min_df=1, stop_words=None), [KEYWORDS]).fit_transform(texts)
    assert only_keywords.shape == (2, 1)


def test_headings_are_whole_terms_and_rare_ones_are_dropped():
    texts = [
        ranking_text("a", "", ["Anti-Ulcer Agents", "Humans"]),
        ranking_text("b", "", ["anti-ulcer agents", "Rats"]),
        ranking_text("c", "", ["Humans"]),
    ]
    X = HeadingFeatures().fit_transform(texts)
    # "anti-ulcer agents" (2 records, case folded) and "humans" (2); "rats" is in one record only
    assert X.shape == (3, 2)
    assert X[2].nnz == 1 and X[0].nnz == 2 and X[1].nnz == 1
    # no heading shared by two records: one empty column keeps the block layout of a fused ranker
    assert HeadingFeatures().fit_transform([ranking_text("a", "", ["X"]), "plain"]).shape == (2, 1)


def test_take_turns_alternates_views_and_skips_what_is_placed():
    first = np.array([9.0, 8.0, 7.0, 0.0, 0.0])  # view 0 prefers rows 0, 1, 2
    second = np.array([5.0, 0.0, 0.0, 4.0, 3.0])  # view 1 prefers rows 0, 3, 4
    assert take_turns([first, second]).tolist() == [0, 3, 1, 4, 2]
    # view 1 first: it takes row 0, so view 0's next best is row 1
    assert take_turns([first, second], start=1).tolist() == [0, 1, 3, 2, 4]
    assert take_turns([first]).tolist() == [0, 1, 2, 3, 4]


def test_a_view_with_nothing_to_say_defers_to_the_tie_break():
    flat = np.zeros(5)  # e.g. a keyword view on records without keywords
    first = np.array([0.0, 0.0, 9.0, 8.0, 7.0])
    fused = np.array([0.0, 1.0, 5.0, 4.0, 3.0])
    # without a tie-break the flat view would put rows 0, 1 forward on its turns (row order)
    assert take_turns([flat, first]).tolist() == [0, 2, 1, 3, 4]
    assert take_turns([flat, first], tie_break=fused).tolist() == [2, 3, 4, 1, 0]
    # ties inside a view that does speak: the tie-break orders them, then the row
    assert take_turns([np.array([1.0, 1.0, 0.0])], tie_break=np.array([0.0, 2.0, 9.0])).tolist() == [1, 0, 2]


def test_fields_turns_ranker_takes_turns_in_the_prioritiser():
    texts = [ranking_text(f"statin trial {i}", "cholesterol fell", ["Humans", "Statins"]) for i in range(6)]
    texts += [ranking_text(f"river survey {i}", "sediment", ["Geology"]) for i in range(14)]
    ranker = get_model("fields-turns-svm")
    assert ranker.takes_turns and ranker.name != DEFAULT_MODEL
    ranking = Prioritiser(texts, ranker).rank([0, 6], [1, 0])
    assert ranking.trained and ranking.model == "fields-turns-svm"
    assert sorted(ranking.order.tolist()) == [i for i in range(20) if i not in (0, 6)]
    assert set(ranking.order[:5].tolist()) == {1, 2, 3, 4, 5}  # every view puts the statin records first
    # the order is the turn-taking of the three views' own scores, view (2 labelled) mod 3 = 2 first
    X = ranker.features.fit_transform(texts)
    again = _seeded(get_model("fields-turns-svm"), 0).fit(X[[0, 6]], [1, 0])  # the prioritiser's seed
    rest = np.array([i for i in range(20) if i not in (0, 6)])
    all_fused, all_views = again.score_views(X)
    assert np.allclose(all_fused, again.score(X))  # the fused score, views scored once
    views = [v[rest] for v in all_views]
    fused = all_fused[rest]
    assert ranking.order.tolist() == rest[take_turns(views, start=2, tie_break=fused)].tolist()


def test_fields_turns_replay_is_reproducible(tmp_path):
    csv = tmp_path / "tiny.csv"
    rows = ["title,abstract,keywords,label"]
    rows += [f"statin trial {i},ldl cholesterol fell {i % 3},Humans; Statins,1" for i in range(8)]
    rows += [f"river survey {i},delta sediment {i % 4},Geology; Rivers,0" for i in range(40)]
    csv.write_text("\n".join(rows) + "\n")
    texts, y = read_labelled_csv(csv, "label")
    assert text_fields(texts[0])[KEYWORDS] == ["Humans", "Statins"]
    runs = [run_active(Prioritiser(texts, "fields-turns-svm"), y, seed=3) for _ in range(2)]
    assert runs[0].order.tolist() == runs[1].order.tolist()
    assert runs[0].metrics()["wss95"] > 0.5  # 8 relevant records of 48 that share every view's terms


def test_embeddings_read_the_plain_text():
    text = ranking_text("Title", "Abstract", ["Kw"])
    feats = EmbeddingFeatures(cache={"Title Abstract Kw": np.ones(384, dtype=np.float32)})
    X = feats.fit_transform([text])  # served from the cache: no model is loaded
    assert X.shape == (1, 384) and float(X[0, 0]) == 1.0


@pytest.mark.parametrize("name", [DEFAULT_MODEL, "tfidf-svm"])
def test_fused_and_plain_rankers_do_not_take_turns(name):
    assert not get_model(name).takes_turns


def _with_ranker(directory: Path, url: str, ranker: str) -> Review:
    review = make_review(directory, url)
    review.close()
    proto = directory / "protocol.toml"
    proto.write_text(proto.read_text().replace("[screening]\n", f'[screening]\nranker = "{ranker}"\n', 1))
    return Review.open(directory, db_url=url)


def test_protocol_ranker_orders_every_reviewers_queue(tmp_path: Path, store_url: str) -> None:
    clear_cache()
    review = _with_ranker(tmp_path / "rv", store_url, "fields-turns-svm")
    assert review.protocol.screening.ranker == "fields-turns-svm"
    sd.decide(review, 1, "ana", "include")
    sd.decide(review, 3, "ana", "exclude")
    for cache in (True, False):
        nxt = next_record(review, "ana", cache=cache)
        assert nxt is not None and nxt.trained and nxt.model == "fields-turns-svm"
    # an explicit --model still wins over the protocol's
    assert next_record(review, "ana", model="tfidf-svm", cache=False).model == "tfidf-svm"
    review.close()


def test_protocol_ranker_unknown_name_is_refused(tmp_path: Path, store_url: str) -> None:
    clear_cache()
    review = _with_ranker(tmp_path / "rv", store_url, "no-such-ranker")
    with pytest.raises(InputError, match="unknown model 'no-such-ranker'.*fields-turns-svm"):
        next_record(review, "ana")
    review.close()
