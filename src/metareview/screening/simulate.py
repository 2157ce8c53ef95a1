"""Simulated screening: replay a labelled data set with the labels as the oracle.

Each run starts from ``prior`` relevant and ``prior`` irrelevant records drawn at random (seeded), then
repeatedly refits the ranker and screens the top of the ranking. To keep it affordable the classifier is
refitted after every decision for the first ``every_decision_until`` records, then after every
``step_fraction`` of the corpus (1% by default) — the top of one ranking is screened in between. Once all
relevant records are found the rest are appended unranked (recall can no longer change). The
statistical stopping rule (:mod:`metareview.screening.stopping`) is checked at every refit.

Metrics (prior records count as screened):

* WSS@r (work saved over sampling at recall r; Cohen et al. 2006, JAMIA 13:206):
  ``(N - n_r) / N - (1 - r)`` with ``n_r`` the records screened when recall first reaches r;
* ATD (average time to discovery; Ferdinands et al. 2023, Systematic Reviews 12:100): the mean, over the
  relevant records found after the priors, of the fraction of the corpus screened when each was found;
* RRF@10 (relevant records found after screening 10% of the records, in %);
* ``stop_screened`` / ``stop_recall``: records screened when the stopping rule fired, and the recall
  actually reached then.

Example::

    from metareview.screening.simulate import simulate
    res = simulate(texts, labels, model="tfidf-svm", seeds=2, prior=1)
    print(res)                    # metrics per seed and their mean
    res.plot("recall.png"); res.curve_frame().to_csv("recall.csv")
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metareview.cells import neutralise_frame
from metareview.errors import InputError
from metareview.filemodes import make_dir, restrict
from metareview.progress import track
from metareview.screening.models import DEFAULT_MODEL, get_model, ranking_text
from metareview.screening.prioritise import Prioritiser
from metareview.screening.stopping import stop_p_value

RANDOM = "random"


@dataclass(frozen=True)
class Run:
    """One simulated screening: the corpus positions in the order screened, and when the rule fired."""

    model: str
    seed: int
    order: np.ndarray
    labels: np.ndarray
    n_prior: int
    stop_at: int | None  # number screened when the stopping rule fired (None: never)

    def found(self) -> np.ndarray:
        """Cumulative relevant records found after each screened record."""
        return np.cumsum(self.labels[self.order])

    def metrics(self) -> dict[str, float]:
        """WSS@95, WSS@100, ATD, RRF@10 and the stopping point (see the module docstring)."""
        n = self.order.size
        total = int(self.labels.sum())
        found = self.found()

        def screened_at(recall: float) -> int:
            return int(np.searchsorted(found, math.ceil(recall * total - 1e-9))) + 1

        hits = np.flatnonzero(self.labels[self.order])
        hits = hits[hits >= self.n_prior]
        return {
            "wss95": (n - screened_at(0.95)) / n - 0.05,
            "wss100": (n - screened_at(1.0)) / n,
            "atd": float(np.mean((hits + 1) / n)) if hits.size else float("nan"),
            "rrf10": 100.0 * found[math.ceil(0.10 * n) - 1] / total,
            "stop_screened": float(self.stop_at) if self.stop_at is not None else float("nan"),
            "stop_recall": found[self.stop_at - 1] / total if self.stop_at is not None else float("nan"),
        }


def _priors(labels: np.ndarray, prior: int, rng: np.random.Generator) -> list[int]:
    pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    if pos.size < prior or neg.size < prior:
        raise InputError(f"need at least {prior} relevant and {prior} irrelevant records for the prior")
    return [*rng.choice(pos, prior, replace=False).tolist(), *rng.choice(neg, prior, replace=False).tolist()]


def _step(screened: int, n: int, every_decision_until: int, step_fraction: float) -> int:
    return 1 if screened < every_decision_until else max(1, math.ceil(step_fraction * n))


def run_active(
    prioritiser: Prioritiser,
    labels: np.ndarray,
    seed: int,
    prior: int = 1,
    every_decision_until: int = 100,
    step_fraction: float = 0.01,
    target_recall: float = 0.95,
    confidence: float = 0.95,
) -> Run:
    """One active-learning replay (see the module docstring for the schedule)."""
    rng = np.random.default_rng(seed)
    n, total = labels.size, int(labels.sum())
    order = _priors(labels, prior, rng)
    remaining = np.ones(n, dtype=bool)
    remaining[order] = False
    stop_at: int | None = None
    checked = n  # records screened when the rule was last checked during the loop
    bar = track(f"simulating {prioritiser.ranker.name}, seed {seed}", n, "records")
    while len(order) < n:
        bar.update(len(order))
        if labels[order].sum() == total:  # all found: the rest cannot change recall
            checked = len(order)
            order.extend(rng.permutation(np.flatnonzero(remaining)).tolist())
            break
        ranking = prioritiser.rank(order, labels[order], random_state=seed)
        take = ranking.order[: _step(len(order), n, every_decision_until, step_fraction)]
        order.extend(take.tolist())
        remaining[take] = False
        if stop_at is None and stop_p_value(labels[order], n, target_recall) < 1 - confidence:
            stop_at = len(order)
    bar.finish()
    arr = np.asarray(order)
    if stop_at is None:
        stop_at = _first_stop(
            labels[arr], n, checked, every_decision_until, step_fraction, target_recall, confidence
        )
    return Run(prioritiser.ranker.name, seed, arr, labels, 2 * prior, stop_at)


def _first_stop(
    y: np.ndarray, n: int, start: int, every: int, frac: float, tau: float, confidence: float
) -> int | None:
    """Where the rule fires on a finished order, checked on the refit schedule from ``start`` on."""
    m = 2
    while m < n:
        m += _step(m, n, every, frac)
        m = min(m, n)
        if m >= start and stop_p_value(y[:m], n, tau) < 1 - confidence:
            return m
    return None


def run_random(
    labels: np.ndarray, seed: int, prior: int = 1, target_recall: float = 0.95, confidence: float = 0.95
) -> Run:
    """Screening in random order after the same kind of prior (the baseline)."""
    rng = np.random.default_rng(seed)
    first = _priors(labels, prior, rng)
    rest = np.setdiff1d(np.arange(labels.size), first)
    order = np.concatenate([first, rng.permutation(rest)])
    stop = _first_stop(labels[order], labels.size, 0, 100, 0.01, target_recall, confidence)
    return Run(RANDOM, seed, order, labels, 2 * prior, stop)


@dataclass
class SimulationResult:
    """All runs of one simulation; ``to_frame()`` has one row of metrics per run."""

    name: str
    runs: list[Run] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """Metrics, one row per (model, seed)."""
        return pd.DataFrame(
            [{"dataset": self.name, "model": r.model, "seed": r.seed, **r.metrics()} for r in self.runs]
        )

    def summary(self) -> pd.DataFrame:
        """Mean metrics per model over seeds."""
        return (
            self.to_frame()
            .drop(columns="seed")
            .groupby(["dataset", "model"], sort=False)
            .mean()
            .reset_index()
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain values: the per-run metrics."""
        return {"dataset": self.name, "runs": self.to_frame().drop(columns="dataset").to_dict("records")}

    def curve_frame(self) -> pd.DataFrame:
        """Recall curve: records screened vs recall, per model and seed (long form)."""
        frames = []
        for r in self.runs:
            found = r.found()
            frames.append(
                pd.DataFrame(
                    {
                        "model": r.model,
                        "seed": r.seed,
                        "screened": np.arange(1, found.size + 1),
                        "recall": found / found[-1],
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def plot(self, path: str | Path) -> Path:
        """Recall curves (one line per model and seed) with the stopping points, saved to ``path``."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.5))
        colours: dict[str, str] = {}
        for r in self.runs:
            found = r.found()
            x = np.arange(1, found.size + 1)
            label = None if r.model in colours else r.model
            colour = colours.setdefault(r.model, f"C{len(colours)}")
            ax.plot(x, found / found[-1], color=colour, lw=1.2, label=label)
            if r.stop_at is not None:
                ax.plot(r.stop_at, found[r.stop_at - 1] / found[-1], "v", color=colour, ms=7)
        ax.axhline(0.95, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("records screened")
        ax.set_ylabel("recall")
        ax.set_title(f"{self.name}: recall curve (▼ stopping rule fired)")
        ax.set_ylim(0, 1.02)
        ax.legend(loc="lower right")
        fig.tight_layout()
        out = Path(path)
        fig.savefig(out, dpi=120)
        plt.close(fig)
        restrict(out)
        return out

    def __str__(self) -> str:
        s = self.summary().drop(columns="dataset").set_index("model")
        return (
            f"Simulation of {self.name} ({len(self.runs)} runs), mean over seeds:\n{s.round(3).to_string()}"
        )


def simulate(
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    model: str = DEFAULT_MODEL,
    seeds: int = 1,
    prior: int = 1,
    name: str = "simulation",
    features: Any | None = None,
    with_random: bool = True,
    **schedule: Any,
) -> SimulationResult:
    """Replay screening of ``texts`` with ``labels`` as oracle for ``seeds`` seeds (0, 1, …).

    ``features`` may hold a precomputed matrix for the model's extractor; ``with_random`` adds random-order
    runs with the same seeds; ``schedule`` passes ``every_decision_until`` / ``step_fraction`` /
    ``target_recall`` / ``confidence`` to :func:`run_active`.
    """
    y = np.asarray(labels, dtype=int)
    if y.size != len(texts):
        raise InputError(f"{len(texts)} texts but {y.size} labels")
    if seeds < 1:
        raise InputError("seeds must be at least 1", field="seeds")
    prioritiser = Prioritiser(texts, get_model(model), features=features)
    result = SimulationResult(name)
    for seed in range(seeds):
        result.runs.append(run_active(prioritiser, y, seed, prior, **schedule))
    if with_random:
        keep = {k: v for k, v in schedule.items() if k in ("target_recall", "confidence")}
        result.runs.extend(run_random(y, seed, prior, **keep) for seed in range(seeds))
    return result


def read_labelled_csv(path: str | Path, label: str) -> tuple[list[str], np.ndarray]:
    """Ranking texts (:func:`~metareview.screening.models.ranking_text`: title, abstract and ``;``-separated
    keywords where present) and 0/1 labels from a CSV such as the Cohen 2006 files."""
    p = Path(path)
    try:
        df = pd.read_csv(p)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read CSV: {exc}", file=p) from None
    for col in ("title", label):
        if col not in df.columns:
            raise InputError(
                f"column {col!r} not found (columns: {', '.join(df.columns)})", file=p, field=col
            )
    raw = pd.to_numeric(df[label], errors="coerce")
    bad = np.flatnonzero(~raw.isin([0, 1]).to_numpy())
    if bad.size:
        raise InputError(
            f"label must be 0 or 1, got {df[label].iloc[bad[0]]!r}", file=p, line=int(bad[0]) + 2, field=label
        )
    def column(name: str) -> list[str]:
        if name not in df.columns:
            return [""] * len(df)
        return [str(v) for v in df[name].astype("string").fillna("")]

    fields = zip(column("title"), column("abstract"), column("keywords"), strict=True)
    texts = [ranking_text(t, a, [k.strip() for k in kw.split(";")]) for t, a, kw in fields]
    return texts, raw.to_numpy(dtype=int)


def simulate_file(
    path: str | Path,
    label: str,
    model: str = DEFAULT_MODEL,
    seeds: int = 1,
    prior: int = 1,
    out: str | Path | None = None,
) -> SimulationResult:
    """:func:`simulate` on a CSV; with ``out`` writes ``recall_curve.png``, ``recall_curve.csv`` and
    ``metrics.csv`` there."""
    texts, y = read_labelled_csv(path, label)
    res = simulate(texts, y, model=model, seeds=seeds, prior=prior, name=Path(path).stem)
    if out is not None:
        d = make_dir(out)
        res.plot(d / "recall_curve.png")
        for name, frame in (("recall_curve.csv", res.curve_frame()), ("metrics.csv", res.to_frame())):
            neutralise_frame(frame).to_csv(d / name, index=False)
            restrict(d / name)
    return res
