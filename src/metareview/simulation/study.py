"""Simulation studies of meta-analytic methods: fit every generated meta-analysis with the chosen
τ² estimators and tests/interval methods (through :func:`metareview.stats.meta_many`, all replicates of a
chunk in one vectorised call) and summarise bias, RMSE, coverage, rejection rate and interval width per
condition.

Replicates are generated and fitted in chunks of ``chunk`` meta-analyses; chunk ``j`` of condition ``i``
draws from its own generator (:func:`~metareview.simulation.generate.rng_for`). Each chunk is reduced
where it ran to a few sums (:data:`SUMS`), and the sums of the chunks are added in chunk order, so a
study gives the same numbers, bit for bit, in one process and on a Dask cluster
(:mod:`metareview.simulation.distributed`), and a cluster sends back a few numbers per chunk, not the
replicates. ``replicates=True`` also keeps the per-replicate results (:data:`FIELDS`) in
:attr:`SimulationStudy.results`.

Example::

    from metareview.simulation import Condition, run_study
    study = run_study([Condition(k=3, tau2=0.1), Condition(k=10, tau2=0.1)], reps=2000,
                      methods=("DL", "REML"), tests=("z", "knha"), seed=1)
    print(study)                     # one row per condition x method x test
    study.plot("coverage.png")
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metareview.errors import InputError
from metareview.filemodes import restrict
from metareview.progress import track
from metareview.simulation.generate import Condition, generate, rng_for

FIELDS = ("estimate", "ci_lower", "ci_upper", "tau2", "converged")
# Per chunk and (method, test): replicates; replicates with a finite estimate (n); over those n: sum of
# the errors (estimate - mu) and of their squares, CIs covering mu, sum of CI widths, sum of tau2 errors,
# CIs excluding 0 (rejections of H0: effect = 0); and converged fits over all replicates.
SUMS = ("total", "n", "err", "err2", "cover", "width", "tau2_err", "reject", "converged")

Key = tuple[str, str]


@dataclass(frozen=True)
class ChunkTask:
    """One chunk of replicates of one condition, fitted with every method and test."""

    condition_index: int
    chunk_index: int
    condition: Condition
    reps: int
    methods: tuple[str, ...]
    tests: tuple[str, ...]
    seed: int
    level: float = 95.0
    replicates: bool = False


@dataclass(frozen=True)
class ChunkResult:
    """What a chunk sends back: the :data:`SUMS` per (method, test), and the per-replicate arrays of
    :data:`FIELDS` only when the study keeps replicates."""

    sums: dict[Key, np.ndarray]
    replicates: dict[Key, dict[str, np.ndarray]] | None = None


def chunk_sums(c: Condition, r: dict[str, np.ndarray]) -> np.ndarray:
    """The :data:`SUMS` of one chunk's per-replicate results ``r`` (arrays of :data:`FIELDS`)."""
    est, lo, hi = r["estimate"], r["ci_lower"], r["ci_upper"]
    ok = np.isfinite(est)
    err = est[ok] - c.mu
    lo, hi = lo[ok], hi[ok]
    return np.array(
        [
            est.size,
            ok.sum(),
            err.sum(),
            (err * err).sum(),
            ((lo <= c.mu) & (c.mu <= hi)).sum(),
            (hi - lo).sum(),
            (r["tau2"][ok] - c.tau2).sum(),
            ((lo > 0) | (hi < 0)).sum(),
            np.asarray(r["converged"], dtype=float).sum(),
        ],
        dtype=float,
    )


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Generate and fit one chunk; reduce it to its sums (and keep the replicates if asked)."""
    import warnings

    from metareview.stats import meta_many

    c = task.condition
    y, v = generate(c, task.reps, rng_for(task.seed, task.condition_index, task.chunk_index))
    groups = np.repeat(np.arange(task.reps), c.k)
    sums: dict[Key, np.ndarray] = {}
    kept: dict[Key, dict[str, np.ndarray]] = {}
    with warnings.catch_warnings():  # non-converged fits are expected here: counted in ``converged``
        warnings.simplefilter("ignore", RuntimeWarning)
        for method in task.methods:
            for test in task.tests:
                res = meta_many(y.ravel(), v.ravel(), groups, method=method, test=test, level=task.level)
                arrays = {f: res.column(f) for f in FIELDS}
                sums[(method, test)] = chunk_sums(c, arrays)
                if task.replicates:
                    kept[(method, test)] = arrays
    return ChunkResult(sums, kept if task.replicates else None)


def plan(
    conditions: Sequence[Condition],
    reps: int,
    methods: Sequence[str],
    tests: Sequence[str],
    seed: int,
    chunk: int,
    level: float = 95.0,
    replicates: bool = False,
) -> list[ChunkTask]:
    """The chunk tasks of a study, in the order their results are combined."""
    if reps < 1 or chunk < 1:
        raise InputError("reps and chunk must be at least 1", field="reps")
    if not conditions or not methods or not tests:
        raise InputError("a study needs at least one condition, method and test", field="conditions")
    tasks = []
    for i, c in enumerate(conditions):
        for j, start in enumerate(range(0, reps, chunk)):
            tasks.append(
                ChunkTask(
                    i, j, c, min(chunk, reps - start), tuple(methods), tuple(tests), seed, level, replicates
                )
            )
    return tasks


def _mcse(p: float, n: float) -> float:
    return math.sqrt(p * (1 - p) / n) if n else math.nan


@dataclass
class SimulationStudy:
    """Results of :func:`run_study`: the summed chunk results (:data:`SUMS`) per condition/method/test,
    the summary computed from them, and (with ``replicates=True``) the per-replicate results."""

    conditions: list[Condition]
    reps: int
    seed: int
    level: float
    totals: dict[tuple[int, str, str], np.ndarray] = field(repr=False)
    results: dict[tuple[int, str, str], dict[str, np.ndarray]] = field(default_factory=dict, repr=False)
    chunk: int = 10_000

    def summary(self) -> pd.DataFrame:
        """Bias, RMSE, coverage, rejection rate (share of CIs excluding 0: the power when μ ≠ 0, the
        type I error rate when μ = 0) and mean CI width of the pooled estimate, bias of τ² and the share
        of converged fits, with Monte Carlo standard errors (``*_mcse``), per condition × method × test.
        Replicates without a finite estimate are left out (``reps`` counts the others)."""
        rows = []
        for (i, method, test), t in self.totals.items():
            c = self.conditions[i]
            s = dict(zip(SUMS, (float(x) for x in t), strict=True))
            n = s["n"]
            bias = s["err"] / n if n else math.nan
            var = (s["err2"] - s["err"] * bias) / (n - 1) if n > 1 else math.nan
            cov = s["cover"] / n if n else math.nan
            rej = s["reject"] / n if n else math.nan
            rows.append(
                {
                    **{f"cond_{k}": val for k, val in c.to_dict().items()},
                    "condition": c.label(),
                    "method": method,
                    "test": test,
                    "reps": int(n),
                    "bias": bias,
                    "bias_mcse": math.sqrt(max(var, 0.0) / n) if n > 1 else math.nan,
                    "rmse": math.sqrt(s["err2"] / n) if n else math.nan,
                    "coverage": cov,
                    "coverage_mcse": _mcse(cov, n),
                    "rejection": rej,
                    "rejection_mcse": _mcse(rej, n),
                    "width": s["width"] / n if n else math.nan,
                    "tau2_bias": s["tau2_err"] / n if n else math.nan,
                    "converged": s["converged"] / s["total"],
                }
            )
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """The summary (one row per condition × method × test)."""
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """Settings and the summary rows."""
        return {
            "reps": self.reps,
            "seed": self.seed,
            "chunk": self.chunk,
            "level": self.level,
            "summary": self.summary().to_dict(orient="records"),
        }

    def plot(self, path: str | Path, metrics: Sequence[str] = ("coverage", "bias", "rmse", "width")) -> Path:
        """One panel per metric: the metric per condition for each method/test (MC SE error bars where
        known); the nominal level is marked on the coverage panel."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        s = self.summary()
        labels = [c.label() for c in self.conditions]
        x = np.arange(len(labels))
        fig, axes = plt.subplots(
            len(metrics), 1, figsize=(max(6, 0.9 * len(labels) + 3), 2.6 * len(metrics)), squeeze=False
        )
        for ax, metric in zip(axes[:, 0], metrics, strict=True):
            for (method, test), g in s.groupby(["method", "test"], sort=False):
                g = g.set_index("condition").reindex(labels)
                err = g[f"{metric}_mcse"] if f"{metric}_mcse" in g else None
                ax.errorbar(x, g[metric], yerr=err, marker="o", capsize=3, label=f"{method}, {test}")
            if metric == "coverage":
                ax.axhline(self.level / 100, color="grey", ls="--", lw=0.8)
            ax.set_ylabel(metric)
            ax.set_xticks(
                x, labels if ax is axes[-1, 0] else [""] * len(labels), rotation=30, ha="right", fontsize=7
            )
        axes[0, 0].legend(fontsize=8)
        fig.tight_layout()
        out = Path(path)
        fig.savefig(out, dpi=130)
        plt.close(fig)
        restrict(out)
        return out

    def __str__(self) -> str:
        cols = [
            "condition",
            "method",
            "test",
            "reps",
            "bias",
            "rmse",
            "coverage",
            "coverage_mcse",
            "rejection",
            "width",
            "tau2_bias",
        ]
        return (
            f"Simulation study: {len(self.conditions)} conditions x {self.reps} replicates "
            f"(seed {self.seed}; {self.level:g}% intervals)\n"
            + self.summary()[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}")
        )


def combine(
    tasks: Sequence[ChunkTask], outputs: Sequence[ChunkResult]
) -> tuple[dict[tuple[int, str, str], np.ndarray], dict[tuple[int, str, str], dict[str, np.ndarray]]]:
    """Add the chunks' sums per (condition, method, test) in task order (and join kept replicates)."""
    totals: dict[tuple[int, str, str], np.ndarray] = {}
    parts: dict[tuple[int, str, str], dict[str, list[np.ndarray]]] = {}
    for task, out in zip(tasks, outputs, strict=True):
        for (method, test), sums in out.sums.items():
            key = (task.condition_index, method, test)
            totals[key] = totals[key] + sums if key in totals else sums.copy()
        for (method, test), arrays in (out.replicates or {}).items():
            slot = parts.setdefault((task.condition_index, method, test), {f: [] for f in FIELDS})
            for f in FIELDS:
                slot[f].append(arrays[f])
    replicates = {key: {f: np.concatenate(v) for f, v in d.items()} for key, d in parts.items()}
    return totals, replicates


def run_study(
    conditions: Sequence[Condition],
    reps: int = 1000,
    methods: Sequence[str] = ("REML",),
    tests: Sequence[str] = ("z",),
    *,
    seed: int = 0,
    chunk: int = 10_000,
    level: float = 95.0,
    replicates: bool = False,
    client: Any | None = None,
) -> SimulationStudy:
    """Run a simulation study: ``reps`` meta-analyses per condition, fitted with each method and test.

    ``client``: a :class:`dask.distributed.Client` to spread the chunks over its workers (same numbers
    as without; see :mod:`metareview.simulation.distributed`), or None for this process.
    ``replicates``: also keep every replicate's estimate, CI, τ² and convergence flag
    (:attr:`SimulationStudy.results`; 40 bytes per replicate and method/test, sent back by the workers).
    The numbers depend on ``seed`` and ``chunk`` (each chunk has its own random stream), not on where
    the chunks run.
    """
    tasks = plan(conditions, reps, methods, tests, seed, chunk, level, replicates)
    if client is None:
        outputs = []
        total = sum(t.reps for t in tasks)
        with track("simulation study", total, "meta-analyses") as bar:
            for t in tasks:
                outputs.append(run_chunk(t))
                bar.update(bar.done + t.reps)
    else:
        from metareview.simulation.distributed import map_tasks

        outputs = map_tasks(client, run_chunk, tasks)
    totals, kept = combine(tasks, outputs)
    return SimulationStudy(list(conditions), reps, seed, level, totals, kept, chunk)
