"""Bench: 10^6 REML fits (a simulation study) through Dask with two worker processes against one process.

Run by hand, on an idle machine for the wall-clock speed-up (one command; prints the table and writes
``bench/results/dask.md``)::

    PYTHONPATH=src .venv/bin/python bench/bench_dask.py            # 10^6 fits, 3 rounds
    PYTHONPATH=src nice -n 10 .venv/bin/python bench/bench_dask.py --repeat 1   # on a shared machine

The work is :func:`metareview.simulation.run_study` on one condition (generic normal-normal model,
k = 10, tau^2 = 0.1), REML with the z test, in chunks of 10,000 meta-analyses: generation plus a full
``meta_many`` fit per chunk (estimate, SE, CI, Q, I^2, Q-profile CI of tau^2, PI), each chunk reduced
to its sums where it ran. Each round runs the single process (a fresh interpreter, timed from after its
imports), twice: with glibc's default allocator and with the ``MALLOC`` settings the workers get (the
like-for-like comparison), and the cluster (:func:`~metareview.simulation.distributed.cluster_client`:
LocalCluster of 2 processes x 1 thread, Dask's monitoring turned down; timed after a warm-up that
imports everything in the workers); the summaries must be identical, bit for bit. Reported per round:
wall seconds, CPU microseconds per fit of every process involved (the single process; for Dask the
client and scheduler process, the nannies and the workers, read with psutil), which stay meaningful
when other jobs share the cores, and their ratio; peak RSS of the single process and of each worker;
the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("results") / "dask.md"


def _condition() -> Any:
    from metareview.simulation import Condition

    return Condition(k=10, tau2=0.1)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _cpu_tree() -> float:
    """CPU seconds of this process and all its descendants still alive (the cluster's processes)."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for p in [me, *me.children(recursive=True)]:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def _summary(study: Any) -> list[dict[str, Any]]:
    """The summary rows as JSON gives them back (floats round-trip exactly)."""
    return json.loads(json.dumps(study.summary().to_dict(orient="records")))


def _single(reps: int, chunk: int) -> None:
    """Child process: the single-process run; prints one JSON line."""
    from metareview.simulation import run_study

    run_study([_condition()], reps=200, chunk=100, seed=0)  # imports before timing
    t0, c0 = time.perf_counter(), _cpu_self()
    study = run_study([_condition()], reps=reps, methods=("REML",), seed=1, chunk=chunk)
    secs, cpu = time.perf_counter() - t0, _cpu_self() - c0
    print(json.dumps({"wall": secs, "cpu": cpu, "rss": _peak_mib(), "summary": _summary(study)}))


def _run_single(reps: int, chunk: int, malloc: bool) -> dict[str, Any]:
    """The single-process run in a fresh interpreter, with the workers' glibc malloc settings (the
    like-for-like comparison) or with the default allocator (what a plain ``python`` gets)."""
    from metareview.simulation.distributed import MALLOC

    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    if malloc:
        env.update({k: str(v) for k, v in MALLOC.items()})
    cmd = [sys.executable, __file__, "--single", "--reps", str(reps), "--chunk", str(chunk)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def _run_dask(client: Any, reps: int, chunk: int) -> dict[str, Any]:
    from metareview.simulation import run_study

    c_tree, c_workers = _cpu_tree(), sum(client.run(_cpu_self).values())
    t0 = time.perf_counter()
    study = run_study([_condition()], reps=reps, methods=("REML",), seed=1, chunk=chunk, client=client)
    wall = time.perf_counter() - t0
    return {
        "wall": wall,
        "cpu": _cpu_tree() - c_tree,
        "cpu_workers": sum(client.run(_cpu_self).values()) - c_workers,
        "rss": list(client.run(_peak_mib).values()),
        "summary": _summary(study),
    }


def _load() -> str:
    a, b, c = os.getloadavg()
    return f"{a:.2f} {b:.2f} {c:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3, help="rounds of (one process, Dask)")
    ap.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--note", default="", help="a line added to the results (e.g. how it was run)")
    a = ap.parse_args()
    if a.single:
        _single(a.reps, a.chunk)
        return

    from metareview.simulation import run_study
    from metareview.simulation.distributed import cluster_client

    load_before = _load()
    rounds = []
    with cluster_client(n_workers=2, threads_per_worker=1, processes=True) as client:
        run_study([_condition()], reps=400, methods=("REML",), seed=0, chunk=100, client=client)  # warm-up
        for r in range(a.repeat):
            plain = _run_single(a.reps, a.chunk, malloc=False)
            one = _run_single(a.reps, a.chunk, malloc=True)
            dsk = _run_dask(client, a.reps, a.chunk)
            same = one["summary"] == dsk["summary"] == plain["summary"]
            rounds.append({"plain": plain, "one": one, "dask": dsk, "same": same, "load": _load()})
            print(
                f"round {r + 1}: one process {plain['wall']:.1f} s / {plain['cpu']:.1f} CPU-s (default "
                f"malloc), {one['wall']:.1f} s / {one['cpu']:.1f} CPU-s (MALLOC); Dask {dsk['wall']:.1f} s "
                f"/ {dsk['cpu']:.1f} CPU-s; identical {same}; load {rounds[-1]['load']}",
                flush=True,
            )
    load_after = _load()
    identical = all(r["same"] for r in rounds)
    us = 1e6 / a.reps
    rows = []
    for i, r in enumerate(rounds, 1):
        plain, one, dsk = r["plain"], r["one"], r["dask"]
        rows += [
            f"| {i} | one process, default malloc | {plain['wall']:.1f} | {plain['cpu'] * us:.2f} | "
            f"{plain['rss']:.0f} | {r['load']} |",
            f"| {i} | one process, MALLOC settings | {one['wall']:.1f} | {one['cpu'] * us:.2f} | "
            f"{one['rss']:.0f} | |",
            f"| {i} | Dask, 2 workers x 1 thread | {dsk['wall']:.1f} | {dsk['cpu'] * us:.2f} (workers "
            f"{dsk['cpu_workers'] * us:.2f}) | " + " / ".join(f"{m:.0f}" for m in dsk["rss"]) + " | |",
        ]

    def median(xs: list[float]) -> float:
        return sorted(xs)[len(xs) // 2]

    best_one = min(r["one"]["wall"] for r in rounds)
    best_dsk = min(r["dask"]["wall"] for r in rounds)
    cpu_ratio = median([r["dask"]["cpu"] / r["one"]["cpu"] for r in rounds])
    worker_ratio = median([r["dask"]["cpu_workers"] / r["one"]["cpu"] for r in rounds])
    malloc_ratio = median([r["one"]["cpu"] / r["plain"]["cpu"] for r in rounds])
    s = rounds[-1]["dask"]["summary"][0]
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    lines = [
        "# 10^6 REML fits through Dask (bench/bench_dask.py)",
        "",
        f"Simulation study, one condition (generic normal-normal, k = 10, tau^2 = 0.1), {a.reps:,} "
        f"meta-analyses per run, REML + z test, chunks of {a.chunk:,}, each a full `meta_many` fit (incl. "
        "Q-profile CI of tau^2 and PI) reduced to its sums where it ran. One process (a fresh interpreter, "
        "timed after its imports; with glibc's default allocator, and with the `MALLOC` settings the "
        "workers get) against a LocalCluster of 2 worker processes x 1 thread (`cluster_client`: Dask "
        "monitoring turned down, `MALLOC` settings; timed after a warm-up). CPU = user + system seconds "
        "of every process involved (for Dask: client and scheduler process, nannies, workers). Machine: "
        f"{os.cpu_count()} cores; load average (1, 5, 15 min) {load_before} before, {load_after} after "
        f"(`uptime` at the end: {uptime}).",
        "",
        "| round | run | wall (s) | CPU us per fit | peak RSS (MiB) | load after round |",
        "|---:|---|---:|---:|---:|---|",
        *rows,
        "",
        f"Summaries identical, bit for bit, in all three runs of every round: **{identical}** "
        f"(coverage of the REML z interval here {s['coverage']:.4f}, MC SE {s['coverage_mcse']:.4f}).",
        "",
        f"CPU time (median over rounds): Dask used **{cpu_ratio:.3f}x** the CPU seconds of one process "
        f"with the same allocator settings (its workers alone {worker_ratio:.3f}x), so on two free cores "
        f"its speed-up is at most about {2 / cpu_ratio:.2f}x. The `MALLOC` settings alone cut a single "
        f"process's CPU time to {malloc_ratio:.2f}x.",
        "",
        f"Wall clock (best of rounds): one process (MALLOC) {best_one:.1f} s, Dask {best_dsk:.1f} s: "
        f"speed-up **{best_one / best_dsk:.2f}x** (goal >= 1.7x on 2 cores). Meaningful only on an "
        "otherwise idle machine (load average well under 1 before and after); on a shared machine read "
        "the CPU ratio instead.",
        *(["", a.note] if a.note else []),
    ]
    a.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
