"""``metareview meta FILE --by GROUP --json`` end to end (whole process: start-up, CSV parse, fits, JSON)
on 50,000 groups of 5 effects, against a metafor ``rma()`` loop timed inside R in the same run.
metafor is timed on the first R_GROUPS groups (its per-fit time is flat in the number of groups) and
both are reported per fit. Writes bench/results/meta_cli.md.

    PYTHONPATH=src .venv/bin/python bench/bench_meta_cli.py [GROUPS] [R_GROUPS]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    groups = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    r_groups = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000
    k = 5
    rng = np.random.default_rng(11)
    vi = rng.uniform(0.01, 0.2, groups * k)
    yi = rng.normal(0.3, 0.2, groups).repeat(k) + rng.normal(0, np.sqrt(vi))
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "effects.csv"
        with csv.open("w") as fh:
            fh.write("g,yi,vi\n")
            for i in range(groups * k):
                fh.write(f"g{i // k},{yi[i]:.6f},{vi[i]:.6f}\n")
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from metareview.cli import main; main()",
                "meta",
                str(csv),
                "--yi",
                "yi",
                "--vi",
                "vi",
                "--by",
                "g",
                "--json",
            ],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        ours = time.perf_counter() - start
        script = (
            "suppressMessages(library(metafor)); d <- read.csv(commandArgs(TRUE)[1]);"
            f"d <- d[d$g %in% unique(d$g)[1:{r_groups}], ]; s <- split(d, d$g);"
            "t <- system.time(for (x in s) rma(x$yi, x$vi, method='REML'))[['elapsed']]; cat(t)"
        )
        out = subprocess.run(["Rscript", "-e", script, str(csv)], check=True, capture_output=True, text=True)
        r_time = float(out.stdout.strip().split()[-1])
    ours_per, r_per = ours / groups, r_time / r_groups
    lines = [
        "# `metareview meta --by --json` vs a metafor rma() loop",
        "",
        f"{groups} groups of {k} effects (REML). metareview: whole process (start-up, CSV, fits, JSON),",
        f"all {groups} groups. metafor: `rma()` loop timed inside R with `system.time` on the first "
        f"{r_groups} groups. Written by `bench/bench_meta_cli.py`.",
        "",
        "| | total s | fits | ms per fit |",
        "|---|---:|---:|---:|",
        f"| metareview CLI | {ours:.2f} | {groups} | {1000 * ours_per:.4f} |",
        f"| metafor rma() loop | {r_time:.2f} | {r_groups} | {1000 * r_per:.4f} |",
        "",
        f"Speed-up per fit: **{r_per / ours_per:.0f}x** (target 100x).",
        "",
    ]
    (ROOT / "bench" / "results" / "meta_cli.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
