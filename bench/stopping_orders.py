"""Screening orders for the stopping-rule benchmark: simulate once, cache, reuse.

Replays screening of the 14 Cohen et al. 2006 reviews (JAMIA 13:206, doi 10.1197/jamia.M1929; CSVs read from
../shared/data/screening/cohen2006/, never copied) with the current default ranker through
:func:`metareview.screening.simulate.run_active` (its default schedule: refit after every decision for the
first 100 records, then after every 1% of the corpus; prior 1 relevant + 1 irrelevant at random), label
``label_included``, seeds 0..S-1. Each order is cached as ``bench/_work/stopping/<review>_s<seed>.npz``
(ignored by git) with the corpus labels, so the rules are evaluated on orders computed once.

    nice -n 5 .venv/bin/python bench/stopping_orders.py --seeds 20
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from bench_screening import DATA  # type: ignore[import-not-found]

from metareview.screening.models import DEFAULT_MODEL, get_model
from metareview.screening.prioritise import Prioritiser
from metareview.screening.simulate import read_labelled_csv, run_active

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "bench" / "_work" / "stopping"
LABEL = "label_included"


def cache_path(review: str, seed: int) -> Path:
    """Where the order of one (review, seed) run is cached."""
    return WORK / f"{review}_s{seed}.npz"


def load_orders(
    seeds: int, only: list[str] | None = None
) -> dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]:
    """(review, seed) -> (corpus labels, screening order); simulates what is not cached yet."""
    WORK.mkdir(parents=True, exist_ok=True)
    out = {}
    for f in sorted(DATA.glob("*.csv")):
        if only and f.stem not in only:
            continue
        missing = [s for s in range(seeds) if not cache_path(f.stem, s).exists()]
        if missing:
            texts, y = read_labelled_csv(f, LABEL)
            prioritiser = Prioritiser(texts, get_model(DEFAULT_MODEL))
            for s in missing:
                t0 = time.perf_counter()
                run = run_active(prioritiser, y, s)
                np.savez(cache_path(f.stem, s), labels=y, order=run.order, model=DEFAULT_MODEL)
                print(f"{f.stem:24s} seed {s:2d} {time.perf_counter() - t0:5.1f}s", flush=True)
        for s in range(seeds):
            z = np.load(cache_path(f.stem, s))
            out[(f.stem, s)] = (z["labels"], z["order"])
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    load_orders(ap.parse_args().seeds)
