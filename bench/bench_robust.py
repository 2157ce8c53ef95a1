"""Benchmark: cluster-robust inference, ``robust()`` vs metafor's ``robust()`` / clubSandwich in an R loop,
and ``robu()`` vs robumeta's ``robu()``.

200 meta-regressions (k = 40 effects in 12 clusters, one moderator, REML) are fitted once on each side;
only the robust step is timed: metafor's default (CR1) and ``clubSandwich = TRUE`` (CR2, Satterthwaite,
HTZ), each as fits per second, measured in the same run, with the largest difference of the CR2 SEs and
df from clubSandwich's. On the same 200 datasets, whole ``robu(yi ~ x, studynum = cl, modelweights =
"CORR" | "HIER", small = TRUE)`` fits (weights, moment estimators, CR2 and df) are timed on both sides
(robumeta in an R loop, timed inside R), with the largest difference of the SEs and df. Run by hand::

    .venv/bin/python bench/bench_robust.py            # writes bench/results/robust.md

Simulated data (seed 2026): cluster effects N(0, 0.3²), effect-level N(0, 0.15²), vi ~ U(0.01, 0.3),
slope 0.2 on x ~ N(0, 1). One core.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from metareview.stats import meta_reg, robu, robust

N = 200
K, CLUSTERS = 40, 12
OUT = Path(__file__).parent / "results" / "robust.md"

R_LOOP = r"""
suppressMessages({library(metafor); library(jsonlite); library(clubSandwich)})
args <- commandArgs(trailingOnly = TRUE)
cases <- fromJSON(args[1], simplifyVector = TRUE, simplifyDataFrame = FALSE)
fits <- lapply(cases, function(cs) { x <- cs$x; rma(cs$yi, cs$vi, mods = ~ x, method = "REML") })
cls <- lapply(cases, function(cs) cs$cl)
res <- vector("list", length(fits))
t1 <- system.time(for (i in seq_along(fits)) { cl <- cls[[i]]; robust(fits[[i]], cl) })[["elapsed"]]
t2 <- system.time(for (i in seq_along(fits)) {
  cl <- cls[[i]]; res[[i]] <- robust(fits[[i]], cl, clubSandwich = TRUE) })[["elapsed"]]
suppressMessages(library(robumeta))
frames <- lapply(cases, function(cs) data.frame(yi = cs$yi, vi = cs$vi, x = cs$x, cl = cs$cl))
robus <- list()
for (w in c("CORR", "HIER")) {
  fits <- vector("list", length(frames))
  t <- system.time(for (i in seq_along(frames))
    fits[[i]] <- robu(yi ~ x, data = frames[[i]], studynum = cl, var.eff.size = vi, modelweights = w,
                      small = TRUE))[["elapsed"]]
  robus[[w]] <- list(t = t, se = lapply(fits, function(f) f$reg_table$SE),
                     df = lapply(fits, function(f) f$reg_table$dfs))
}
out <- list(t_cr1 = t1, t_cr2 = t2, se = lapply(res, function(r) r$se), df = lapply(res, function(r) r$dfs),
            robu = robus)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE), args[2])
"""


def main() -> None:
    rng = np.random.default_rng(2026)
    cases = []
    for _ in range(N):
        cl = np.sort(rng.integers(0, CLUSTERS, K))
        cl[:CLUSTERS] = np.arange(CLUSTERS)
        cl = np.sort(cl)
        vi = rng.uniform(0.01, 0.3, K)
        x = rng.normal(size=K)
        yi = 0.3 + 0.2 * x + rng.normal(0, 0.3, CLUSTERS)[cl] + rng.normal(0, 0.15, K)
        yi += rng.normal(0, np.sqrt(vi))
        cases.append({"yi": yi.tolist(), "vi": vi.tolist(), "x": x.tolist(), "cl": cl.tolist()})
    fits = [meta_reg(c["yi"], c["vi"], {"x": c["x"]}) for c in cases]
    t0 = time.perf_counter()
    for f, c in zip(fits, cases, strict=True):
        robust(f, c["cl"])
    t_cr1 = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = [robust(f, c["cl"], clubsandwich=True) for f, c in zip(fits, cases, strict=True)]
    t_cr2 = time.perf_counter() - t0
    robu_ours = {}
    for weights in ("CORR", "HIER"):
        t0 = time.perf_counter()
        fits_r = [
            robu(c["yi"], c["vi"], c["cl"], mods={"x": c["x"]}, modelweights=weights, small=True)
            for c in cases
        ]
        robu_ours[weights] = (time.perf_counter() - t0, fits_r)
    with tempfile.TemporaryDirectory() as tmp:
        inp, res, script = Path(tmp, "in.json"), Path(tmp, "out.json"), Path(tmp, "loop.R")
        inp.write_text(json.dumps(cases))
        script.write_text(R_LOOP)
        subprocess.run(["Rscript", str(script), str(inp), str(res)], check=True, capture_output=True)
        r = json.loads(res.read_text())
    d_se = max(float(np.max(np.abs(o.se - np.asarray(s)))) for o, s in zip(ours, r["se"], strict=True))
    d_df = max(float(np.max(np.abs(o.df - np.asarray(s)))) for o, s in zip(ours, r["df"], strict=True))
    rows = [
        ("CR1 (metafor default)", N / t_cr1, N / r["t_cr1"]),
        ("CR2 + Satterthwaite + HTZ (clubSandwich)", N / t_cr2, N / r["t_cr2"]),
    ]
    robu_diffs = []
    for weights in ("CORR", "HIER"):
        seconds, fits_r = robu_ours[weights]
        theirs = r["robu"][weights]
        rows.append((f"robu {weights}, small = TRUE (robumeta; whole fit)", N / seconds, N / theirs["t"]))
        d_se_r = max(
            float(np.max(np.abs(f.se - np.asarray(s)))) for f, s in zip(fits_r, theirs["se"], strict=True)
        )
        d_df_r = max(
            float(np.max(np.abs(f.df - np.asarray(s)))) for f, s in zip(fits_r, theirs["df"], strict=True)
        )
        robu_diffs.append(f"robu {weights}: SE {d_se_r:.2e}, df {d_df_r:.2e}")
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    lines = [
        "# robust() and robu(): fits per second vs metafor / clubSandwich / robumeta",
        "",
        f"{N} meta-regressions, k = {K}, {CLUSTERS} clusters, REML, one moderator; robust step only "
        "(robu rows: the whole robu() fit on the same data, `yi ~ x`, studynum = cluster).",
        f"Python {platform.python_version()}, {platform.machine()}; `{' '.join(sys.argv)}`.",
        "",
        "| path | metareview fits/s | R fits/s | ratio |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {name} | {a:,.0f} | {b:,.0f} | {a / b:.1f}× |" for name, a, b in rows]
    lines += [
        "",
        f"Largest difference from clubSandwich: SE {d_se:.2e}, Satterthwaite df {d_df:.2e}.",
        f"Largest difference from robumeta: {'; '.join(robu_diffs)}.",
        "",
        f"Machine load during the run (`uptime`): {load}. The machine is shared with other jobs, so absolute "
        "rates vary from run to run; both sides ran in the same run, one after the other.",
        "",
    ]
    OUT.write_text("\n".join(lines))
    sys.stdout.write("\n".join(lines))


if __name__ == "__main__":
    main()
