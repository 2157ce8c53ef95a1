"""Simulation studies of meta-analytic methods: fit every generated meta-analysis with the chosen
τ² estimators and tests/interval methods (through :func:`metareview.stats.meta_many`, all replicates of a
chunk in one vectorised call) and summarise bias, RMSE, coverage and interval width per condition.

Replicates are generated and fitted in chunks of ``chunk`` meta-analyses; chunk ``j`` of condition ``i``
draws from its own generator (:func:`~metareview.simulation.generate.rng_for`), and the summaries are
computed from the chunks' results concatenated in order, so a study gives the same numbers in one
process and on a Dask cluster (:mod:`metareview.simulation.distributed`).

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


def run_chunk(task: ChunkTask) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    """Generate and fit one chunk: (method, test) -> per-replicate arrays of :data:`FIELDS`."""
    import warnings

    from metareview.stats import meta_many

    c = task.condition
    y, v = generate(c, task.reps, rng_for(task.seed, task.condition_index, task.chunk_index))
    groups = np.repeat(np.arange(task.reps), c.k)
    out: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    with warnings.catch_warnings():  # non-converged fits are expected here: counted in ``converged``
        warnings.simplefilter("ignore", RuntimeWarning)
        for method in task.methods:
            for test in task.tests:
                res = meta_many(y.ravel(), v.ravel(), groups, method=method, test=test, level=task.level)
                out[(method, test)] = {f: res.column(f) for f in FIELDS}
    return out


def plan(
    conditions: Sequence[Condition],
    reps: int,
    methods: Sequence[str],
    tests: Sequence[str],
    seed: int,
    chunk: int,
    level: float = 95.0,
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
                ChunkTask(i, j, c, min(chunk, reps - start), tuple(methods), tuple(tests), seed, level)
            )
    return tasks


@dataclass
class SimulationStudy:
    """Results of :func:`run_study`: per-replicate results and the summary per condition/method/test."""

    conditions: list[Condition]
    reps: int
    seed: int
    level: float
    results: dict[tuple[int, str, str], dict[str, np.ndarray]] = field(repr=False)

    def summary(self) -> pd.DataFrame:
        """Bias, RMSE, coverage and mean CI width of the pooled estimate, bias of τ², with Monte Carlo
        standard errors (``*_mcse``), per condition × method × test."""
        rows = []
        for (i, method, test), r in self.results.items():
            c = self.conditions[i]
            est, lo, hi = r["estimate"], r["ci_lower"], r["ci_upper"]
            ok = np.isfinite(est)
            n = int(ok.sum())
            err = est[ok] - c.mu
            cover = (lo[ok] <= c.mu) & (c.mu <= hi[ok])
            cov = float(cover.mean()) if n else math.nan
            width = hi[ok] - lo[ok]
            rows.append(
                {
                    **{f"cond_{k}": val for k, val in c.to_dict().items()},
                    "condition": c.label(),
                    "method": method,
                    "test": test,
                    "reps": n,
                    "bias": float(err.mean()),
                    "bias_mcse": float(err.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
                    "rmse": float(np.sqrt(np.mean(err**2))),
                    "coverage": cov,
                    "coverage_mcse": math.sqrt(cov * (1 - cov) / n) if n else math.nan,
                    "width": float(width.mean()),
                    "tau2_bias": float(np.mean(r["tau2"][ok] - c.tau2)),
                    "converged": float(np.mean(r["converged"])),
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
            "width",
            "tau2_bias",
        ]
        return (
            f"Simulation study: {len(self.conditions)} conditions x {self.reps} replicates "
            f"(seed {self.seed}; {self.level:g}% intervals)\n"
            + self.summary()[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}")
        )


def combine(
    tasks: Sequence[ChunkTask], outputs: Sequence[dict[tuple[str, str], dict[str, np.ndarray]]]
) -> dict[tuple[int, str, str], dict[str, np.ndarray]]:
    """Concatenate the chunk outputs per (condition, method, test), in task order."""
    parts: dict[tuple[int, str, str], dict[str, list[np.ndarray]]] = {}
    for task, out in zip(tasks, outputs, strict=True):
        for (method, test), arrays in out.items():
            slot = parts.setdefault((task.condition_index, method, test), {f: [] for f in FIELDS})
            for f in FIELDS:
                slot[f].append(arrays[f])
    return {key: {f: np.concatenate(v) for f, v in d.items()} for key, d in parts.items()}


def run_study(
    conditions: Sequence[Condition],
    reps: int = 1000,
    methods: Sequence[str] = ("REML",),
    tests: Sequence[str] = ("z",),
    *,
    seed: int = 0,
    chunk: int = 10_000,
    level: float = 95.0,
    client: Any | None = None,
) -> SimulationStudy:
    """Run a simulation study: ``reps`` meta-analyses per condition, fitted with each method and test.

    ``client``: a :class:`dask.distributed.Client` to spread the chunks over its workers (same numbers
    as without; see :mod:`metareview.simulation.distributed`), or None for this process.
    """
    tasks = plan(conditions, reps, methods, tests, seed, chunk, level)
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
    return SimulationStudy(list(conditions), reps, seed, level, combine(tasks, outputs))
