"""``metareview meta FILE --by GROUP --json`` end to end (whole process: start-up, CSV parse, fits, JSON)
on 50,000 groups of 5 effects, against a metafor ``rma()`` loop timed inside R in the same run.
metafor is timed on the first R_GROUPS groups (its per-fit time is flat in the number of groups) and
both are reported per fit, as wall-clock time and as CPU time (user + system: ours from the child
process's rusage, R's from ``system.time``), because the shared machine's load moves wall time a lot.
Writes bench/results/meta_cli.md.

    PYTHONPATH=src nice -n 10 .venv/bin/python bench/bench_meta_cli.py [GROUPS] [R_GROUPS] \
        [--baseline=OLD/src]
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _run_cli(src: Path, csv: Path) -> tuple[float, float]:
    """Wall and CPU seconds of the whole ``metareview meta --by --json`` process with the code in ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONWARNINGS": "ignore"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "from metareview.cli import main; main()", "meta", str(csv), "--yi", "yi",
         "--vi", "vi", "--by", "g", "--json"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--baseline=")]
    baseline = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--baseline=")), None)
    groups = int(args[0]) if len(args) > 0 else 50_000
    r_groups = int(args[1]) if len(args) > 1 else 2_000
    k = 5
    load = os.getloadavg()[0]
    rng = np.random.default_rng(11)
    vi = rng.uniform(0.01, 0.2, groups * k)
    yi = rng.normal(0.3, 0.2, groups).repeat(k) + rng.normal(0, np.sqrt(vi))
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "effects.csv"
        with csv.open("w") as fh:
            fh.write("g,yi,vi\n")
            for i in range(groups * k):
                fh.write(f"g{i // k},{yi[i]:.6f},{vi[i]:.6f}\n")
        ours, ours_cpu = _run_cli(ROOT / "src", csv)
        base = _run_cli(Path(baseline), csv) if baseline else None
        script = (
            "suppressMessages(library(metafor)); d <- read.csv(commandArgs(TRUE)[1]);"
            f"d <- d[d$g %in% unique(d$g)[1:{r_groups}], ]; s <- split(d, d$g);"
            "t <- system.time(for (x in s) rma(x$yi, x$vi, method='REML'));"
            "cat(t[['user.self']] + t[['sys.self']], t[['elapsed']])"
        )
        out = subprocess.run(["Rscript", "-e", script, str(csv)], check=True, capture_output=True, text=True)
        r_cpu, r_time = (float(x) for x in out.stdout.strip().split()[-2:])
    ours_per, r_per = ours / groups, r_time / r_groups
    ours_cpu_per, r_cpu_per = ours_cpu / groups, r_cpu / r_groups
    lines = [
        "# `metareview meta --by --json` vs a metafor rma() loop",
        "",
        f"{groups} groups of {k} effects (REML). metareview: whole process (start-up, CSV, fits, JSON),",
        f"all {groups} groups. metafor: `rma()` loop timed inside R with `system.time` on the first "
        f"{r_groups} groups. Written by `bench/bench_meta_cli.py`.",
        "",
        "| | fits | wall s | wall ms per fit | CPU s | CPU ms per fit |",
        "|---|---:|---:|---:|---:|---:|",
        f"| metareview CLI | {groups} | {ours:.2f} | {1000 * ours_per:.4f} | {ours_cpu:.2f} | "
        f"{1000 * ours_cpu_per:.4f} |",
        f"| metafor rma() loop | {r_groups} | {r_time:.2f} | {1000 * r_per:.4f} | {r_cpu:.2f} | "
        f"{1000 * r_cpu_per:.4f} |",
        *(
            [
                f"| metareview CLI, baseline code | {groups} | {base[0]:.2f} | "
                f"{1000 * base[0] / groups:.4f} | {base[1]:.2f} | {1000 * base[1] / groups:.4f} |"
            ]
            if base
            else []
        ),
        "",
        f"Speed-up per fit: **{r_per / ours_per:.0f}x** wall-clock, **{r_cpu_per / ours_cpu_per:.0f}x** CPU "
        f"time (target 100x). Load average at the start: {load:.1f}, at the end: {os.getloadavg()[0]:.1f}, "
        f"on {os.cpu_count()} cores."
        + (
            f" The baseline code (`{baseline}`) in the same run: {r_per / (base[0] / groups):.0f}x wall, "
            f"{r_cpu_per / (base[1] / groups):.0f}x CPU."
            if base
            else ""
        ),
        "",
    ]
    (ROOT / "bench" / "results" / "meta_cli.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
