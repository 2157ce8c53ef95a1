"""Benchmark: permutation tests, ``permutest()`` vs metafor's ``permutest()`` (timed inside R, same run).

Four scenarios on simulated data (seed 2026), REML, fits prefitted on each side, only the permutation
test timed; the rate is permutation refits per second (τ² is re-estimated in every refit on both sides):

* intercept-only, k = 8, exact (all 2^8 = 256 sign flips);
* intercept-only, k = 30, ``iter=1000`` random sign flips;
* one continuous moderator, k = 20, ``iter=1000`` random row permutations;
* one continuous moderator, k = 6, exact (all 6! = 720 row permutations).

Exact mode is deterministic, so its p-values (per coefficient and for QM) must equal metafor's up to
floating point. Random mode draws from different generators (numpy vs R's ``set.seed``), so there the two
p-values are two Monte Carlo estimates of the same exact p: their difference is reported in units of its
standard deviation √(2p(1−p)/iter). Wall-clock and CPU (user + system) rates are both reported: the machine
is shared, and CPU time is the less load-dependent of the two. One BLAS thread on both sides. Run by hand::

    nice -n 10 .venv/bin/python bench/bench_permutest.py      # writes bench/results/permutest.md
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core for both sides (R inherits it); before numpy is imported

import numpy as np  # noqa: E402

from metareview.stats import meta, meta_reg, permutest  # noqa: E402

OUT = Path(__file__).parent / "results" / "permutest.md"


@dataclass(frozen=True)
class Scenario:
    name: str
    k: int
    reg: bool
    iter: int
    n: int  # data sets
    exact: bool


SCENARIOS = [
    Scenario("intercept-only, k = 8, exact (256 sign flips)", 8, False, 1000, 10, True),
    Scenario("intercept-only, k = 30, iter = 1000 (random sign flips)", 30, False, 1000, 5, False),
    Scenario("one moderator, k = 20, iter = 1000 (random row permutations)", 20, True, 1000, 5, False),
    Scenario("one moderator, k = 6, exact (720 row permutations)", 6, True, 1000, 3, True),
]

R_LOOP = r"""
suppressMessages({library(metafor); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
scen <- fromJSON(args[1], simplifyVector = TRUE, simplifyDataFrame = FALSE)
set.seed(2026)  # R's random permutations reproducible too (its draws are not numpy's)
out <- lapply(scen, function(sc) {
  fits <- lapply(sc$data, function(d) {
    if (sc$reg) { x <- d$x; rma(d$yi, d$vi, mods = ~ x, method = "REML") }
    else rma(d$yi, d$vi, method = "REML")
  })
  res <- vector("list", length(fits))
  t0 <- proc.time()
  for (i in seq_along(fits)) res[[i]] <- permutest(fits[[i]], iter = sc$iter, progbar = FALSE)
  t <- proc.time() - t0
  list(elapsed = t[["elapsed"]], cpu = t[["user.self"]] + t[["sys.self"]],
       refits = sum(sapply(res, function(r) nrow(r$zval.perm))),
       exact_iter = sapply(res, function(r) r$exact.iter),
       pval = lapply(res, function(r) as.numeric(r$pval)),
       QMp = sapply(res, function(r) r$QMp))
})
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE), args[2])
"""


def simulate(sc: Scenario, rng: np.random.Generator) -> list[dict[str, list[float]]]:
    data = []
    for _ in range(sc.n):
        vi = rng.uniform(0.01, 0.3, sc.k)
        x = rng.normal(size=sc.k)
        yi = 0.15 + (0.2 * x if sc.reg else 0.0) + rng.normal(0, np.sqrt(vi + 0.05))
        d = {"yi": yi.round(10).tolist(), "vi": vi.round(10).tolist()}
        if sc.reg:
            d["x"] = x.round(10).tolist()
        data.append(d)
    return data


def run_ours(sc: Scenario, data: list[dict[str, list[float]]]) -> dict[str, Any]:
    fits = [meta_reg(d["yi"], d["vi"], {"x": d["x"]}) if sc.reg else meta(d["yi"], d["vi"]) for d in data]
    w0, c0 = time.perf_counter(), time.process_time()
    res = [permutest(f, iter=sc.iter, seed=100 + i) for i, f in enumerate(fits)]
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    assert all(r.exact == sc.exact for r in res), sc.name
    return {"elapsed": wall, "cpu": cpu, "refits": sum(r.iterations for r in res), "res": res}


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()


def main() -> None:
    load_before = uptime()
    rng = np.random.default_rng(2026)
    datasets = [simulate(sc, rng) for sc in SCENARIOS]
    ours = [run_ours(sc, d) for sc, d in zip(SCENARIOS, datasets, strict=True)]
    payload = [{"reg": sc.reg, "iter": sc.iter, "data": d} for sc, d in zip(SCENARIOS, datasets, strict=True)]
    with tempfile.TemporaryDirectory() as tmp:
        inp, res, script = Path(tmp, "in.json"), Path(tmp, "out.json"), Path(tmp, "loop.R")
        inp.write_text(json.dumps(payload))
        script.write_text(R_LOOP)
        subprocess.run(["Rscript", str(script), str(inp), str(res)], check=True, capture_output=True)
        theirs = json.loads(res.read_text())
    load_after = uptime()

    rows, notes = [], []
    for sc, o, r in zip(SCENARIOS, ours, theirs, strict=True):
        refits_r = int(r["refits"])
        a_wall, b_wall = o["refits"] / o["elapsed"], refits_r / r["elapsed"]
        a_cpu, b_cpu = o["refits"] / o["cpu"], refits_r / max(r["cpu"], 1e-9)
        rows.append(
            f"| {sc.name} | {sc.n} | {o['refits']:,} / {refits_r:,} | {a_wall:,.0f} | {b_wall:,.0f} | "
            f"{a_wall / b_wall:.0f}× | {a_cpu:,.0f} | {b_cpu:,.0f} | {a_cpu / b_cpu:.0f}× |"
        )
        ps_o = [np.append(x.pvalue, x.qm_pvalue) for x in o["res"]]
        qmp_r = np.atleast_1d(np.asarray(r["QMp"], dtype=float))
        ps_r = [
            np.append(np.atleast_1d(np.asarray(p, dtype=float)), q)
            for p, q in zip(r["pval"], qmp_r, strict=True)
        ]
        diffs = [np.abs(a - b) for a, b in zip(ps_o, ps_r, strict=True)]
        if sc.exact:
            n_exact = {int(x) for x in np.atleast_1d(r["exact_iter"])} | {x.iterations for x in o["res"]}
            notes.append(
                f"- {sc.name}: permutations per data set {sorted(n_exact)} on both sides; largest |p-value "
                f"difference| (coefficients and QM, {sum(d.size for d in diffs)} p-values) "
                f"{max(float(d.max()) for d in diffs):.1e}."
            )
        else:
            z = []
            for a, b, d in zip(ps_o, ps_r, diffs, strict=True):
                p = (a + b) / 2
                sd = np.sqrt(np.maximum(2 * p * (1 - p), 2 / sc.iter) / sc.iter)
                z.append(d / sd)
            notes.append(
                f"- {sc.name}: largest |p-value difference| {max(float(d.max()) for d in diffs):.3f}, "
                f"largest in Monte Carlo standard deviations {max(float(x.max()) for x in z):.2f} "
                f"({sum(d.size for d in diffs)} p-values; different generators, so not expected to be 0)."
            )
    lines = [
        "# permutest(): permutation refits per second vs metafor's permutest()",
        "",
        "Simulated data (seed 2026), REML, fits prefitted on each side, only the permutation test timed "
        "(metafor timed inside R with `proc.time()`, same run); τ² re-estimated in every refit on both "
        "sides. One BLAS thread.",
        f"Python {platform.python_version()}, {platform.machine()}; metafor "
        f"{_r_version()}; `nice -n 10 {' '.join([Path(sys.executable).name, *sys.argv])}`.",
        "",
        f"Load before: `{load_before}`",
        f"Load after: `{load_after}`",
        "",
        "The machine has 2 cores shared by several engineers: wall-clock rates are pessimistic for both "
        "sides; the CPU-time rates (user + system) depend less on the load.",
        "",
        "| scenario | data sets | refits (ours / R) | ours refits/s (wall) | metafor refits/s (wall) | ratio "
        "| ours refits/s (CPU) | metafor refits/s (CPU) | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "p-values (each coefficient's and the QM test's):",
        "",
        *notes,
        "",
    ]
    OUT.write_text("\n".join(lines))
    sys.stdout.write("\n".join(lines))


def _r_version() -> str:
    cmd = ["Rscript", "-e", 'cat(as.character(packageVersion("metafor")))']
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


if __name__ == "__main__":
    main()
