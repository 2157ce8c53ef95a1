"""The race runner shared by the screening and extraction race tests: spawned processes, released at the
same instant by a ``multiprocessing.Barrier`` round after round, each running ``act(directory, url,
barrier, results, plan)`` (a function of an importable worker module) and reporting ``(round, kind,
message)`` per step; a crash in any worker fails the test."""

from __future__ import annotations

import multiprocessing as mp
import queue
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def run_race(act: Callable[..., None], directory: Path, url: str, plans: list[list[Any]]
             ) -> dict[int, list[tuple[str, str]]]:
    """Run one process per plan; the outcomes per round, ``[(kind, message), ...]``."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(plans))
    results = ctx.Queue()
    procs = [ctx.Process(target=act, args=(str(directory), url, barrier, results, p)) for p in plans]
    for p in procs:
        p.start()
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    try:
        for _ in range(sum(len(p) for p in plans)):
            rnd, kind, msg = results.get(timeout=300)
            out[rnd].append((kind, msg))
    except queue.Empty:
        pytest.fail("a worker process stopped reporting")
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
    crashes = [m for res in out.values() for k, m in res if k == "crash"]
    assert not crashes, crashes[0]
    return out
