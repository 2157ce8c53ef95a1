"""Our rankers against REAL ASReview (3.0.8, default AI "ELAS u4") on the 14 Cohen et al. 2006 reviews
(JAMIA 13:206, doi 10.1197/jamia.M1929; CSVs prepared by the ASReview team, read from
../shared/data/screening/cohen2006/, never copied).

ASReview runs in its own environment (``.venv-asreview``: ``pip install asreview==3.0.8``), called in a
subprocess through ``bench/asreview_driver.py``; it is not re-implemented. For every (review, seed) the
priors are drawn here once, by the same seeded draw our simulation uses (1 relevant + 1 irrelevant record,
``numpy.random.default_rng(seed)``), and given to both tools. ASReview refits after every decision and
stops at the last relevant record; its screened order is cached in ``bench/_work/asreview/`` (json per
review, label and seed) so reruns are free. Our candidates replay with ``metareview.screening.simulate``.
Both orders are scored by ONE formula (``metareview.screening.simulate.Run.metrics``: WSS@95, WSS@100
(Cohen et al. 2006), ATD (Ferdinands et al. 2023, Systematic Reviews 12:100)); records after the last
relevant one cannot change these metrics.

Wall time per run is recorded for both tools (ASReview's is the replay inside its process: feature
extraction + every refit, excluding Python start-up; ours likewise excludes reading the CSV).

    .venv/bin/python bench/bench_asreview_compare.py --seeds 0-9 [--candidates a,b] [--asreview-only] \
        [--timing ACEInhibitors]     # the committed results/asreview_compare.md

Each mean difference comes with a 95% interval from resampling the 14 reviews (:func:`review_ci`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bench_screening import CACHE as EMB_CACHE  # type: ignore[import-not-found]
from bench_screening import DATA, RESULTS, features_for, md_table
from field_rankers import FIELD_RANKERS  # type: ignore[import-not-found]

from metareview.screening.models import DEFAULT_MODEL, get_model, plain_text
from metareview.screening.prioritise import Prioritiser
from metareview.screening.simulate import Run, _priors, read_labelled_csv, run_active

REPO = Path(__file__).resolve().parents[1]
ASR_PY = REPO / ".venv-asreview" / "bin" / "python"
ASR_CACHE = REPO / "bench" / "_work" / "asreview"
OURS_CACHE = REPO / "bench" / "_work" / "ours"
ASREVIEW = "asreview-elas_u4"


def seeds_arg(text: str) -> list[int]:
    """``0-4`` or ``0,1,2`` to a list of seeds."""
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def priors_for(labels: np.ndarray, seed: int) -> list[int]:
    """The priors both tools get: our simulation's own seeded draw (1 relevant, 1 irrelevant)."""
    return _priors(labels, 1, np.random.default_rng(seed))


def asreview_order(
    path: Path, label: str, seed: int, priors: list[int], cached_only: bool = False
) -> tuple[list[int], float] | None:
    """ASReview's screened order (row positions) and replay seconds, from the cache or a fresh run
    (``None`` when ``cached_only`` and not cached)."""
    cache = ASR_CACHE / f"{path.stem}__{label}__{seed}.json"
    if cache.exists():
        got = json.loads(cache.read_text())
        if got["priors"] == priors:
            return got["order"], got["seconds"]
    if cached_only:
        return None
    cmd = [
        "nice",
        "-n",
        "5",
        str(ASR_PY),
        str(REPO / "bench" / "asreview_driver.py"),
        str(path),
        label,
        str(seed),
        *map(str, priors),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    got = json.loads(out)
    ASR_CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"priors": priors, **got}))
    return got["order"], got["seconds"]


def full_order(order: list[int], n: int) -> np.ndarray:
    """``order`` then the records it did not reach (corpus order; they cannot change the metrics)."""
    seen = np.zeros(n, dtype=bool)
    seen[order] = True
    return np.concatenate([np.asarray(order, dtype=int), np.flatnonzero(~seen)])


def metrics_of(order: list[int] | np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """WSS@95, WSS@100 and ATD of a screened order, by our formula (one for both tools)."""
    run = Run("x", 0, full_order(list(order), labels.size), labels, 2, None)
    m = run.metrics()
    return {k: m[k] for k in ("wss95", "wss100", "atd")}


# candidates: name -> (ranker factory, schedule of refits: run_active's default)
DEFAULT_SCHEDULE: dict[str, Any] = {}
CANDIDATES: dict[str, tuple[Callable[[], Any], dict[str, Any]]] = {
    name: (lambda name=name: get_model(name), DEFAULT_SCHEDULE)
    for name in ("tfidf-svm", "tfidf-dual-svm", "tfidf-fused-svm", "tfidf-minilm-svm", "fields-turns-svm")
}
# experimental rankers that read title, abstract and keywords apart (bench/field_rankers.py); not in the
# default candidate list: --candidates fields-ta-rare,fields-mesh,... (the names: FIELD_RANKERS)
FIELD_CANDIDATES = {name: (factory, DEFAULT_SCHEDULE) for name, factory in FIELD_RANKERS.items()}


def run_ours(
    name: str, path: Path, texts: list[str], labels: np.ndarray, seed: int
) -> tuple[list[int], float]:
    """Our candidate ``name``'s screened order and replay seconds (features included, embeddings cached)."""
    factory, schedule = {**CANDIDATES, **FIELD_CANDIDATES}[name]
    ranker = factory()
    for part in getattr(ranker.features, "parts", [ranker.features]):
        if part.name == "minilm":  # the encoding is timed once, separately (see the encode table)
            plain = [plain_text(t) for t in texts]  # what the embeddings read
            part.cache.update(zip(plain, features_for("embed-logreg", path.stem, texts), strict=True))
    t0 = time.perf_counter()
    prio = Prioritiser(texts, ranker)
    run = run_active(prio, labels, seed, 1, **schedule)
    return run.order.tolist(), time.perf_counter() - t0


def timing(path: Path, label: str, candidates: list[str]) -> pd.DataFrame:
    """One fresh (uncached) run of ASReview and of each candidate on ``path`` at seed 0, back to back."""
    texts, y = read_labelled_csv(path, label)
    priors = priors_for(y, 0)
    cmd = ["nice", "-n", "5", str(ASR_PY), str(REPO / "bench" / "asreview_driver.py"), str(path), label, "0"]
    t0 = time.perf_counter()
    out = subprocess.run([*cmd, *map(str, priors)], check=True, capture_output=True, text=True).stdout
    rows = [
        {
            "tool": ASREVIEW,
            "replay s": round(json.loads(out.strip().splitlines()[-1])["seconds"], 2),
            "with start-up s": round(time.perf_counter() - t0, 2),
        }
    ]
    for name in candidates:
        t0 = time.perf_counter()
        _, sec = run_ours(name, path, texts, y, 0)
        rows.append(
            {"tool": name, "replay s": round(sec, 2), "with start-up s": round(time.perf_counter() - t0, 2)}
        )
    return pd.DataFrame(rows)


def review_ci(per_review: pd.Series, level: float = 0.95, resamples: int = 10_000) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over reviews of ``per_review`` (one value per review),
    resampling reviews with replacement (seeded: the table regenerates identically). It says how far a
    mean difference would move on another set of reviews like these; seeds are averaged inside a review."""
    values = per_review.to_numpy(dtype=float)
    rng = np.random.default_rng(0)
    means = values[rng.integers(0, values.size, size=(resamples, values.size))].mean(axis=1)
    lo, hi = np.percentile(means, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


def ci_text(per_review: pd.Series) -> str:
    """:func:`review_ci` as the tables print it, e.g. ``-0.013 to +0.060``."""
    return "{:+.3f} to {:+.3f}".format(*review_ci(per_review))


def markdown(df: pd.DataFrame, seeds: list[int], label: str, timed: str = "") -> str:
    """Per-review WSS@95 table, means per tool, and differences against ELAS u4, on the (review, seed)
    pairs that ASReview ran; then our candidates on all seeds."""
    have = df[df.tool == ASREVIEW][["dataset", "seed"]]
    everything = df
    df = df.merge(have, on=["dataset", "seed"])
    pairs = len(have)
    mean = df.groupby(["dataset", "tool"], sort=True)[["wss95", "wss100", "atd", "seconds"]].mean()
    wide = mean["wss95"].unstack("tool")
    tools = [t for t in wide.columns if t != ASREVIEW]
    out = [
        "# Our rankers against real ASReview 3.0.8 (ELAS u4) on Cohen et al. 2006",
        "",
        f"Generated by `bench/bench_asreview_compare.py`; label `{label}`; seeds {seeds[0]}–{seeds[-1]}"
        f" ({len(seeds)} per review), the same 1 relevant + 1 irrelevant prior record for both tools per",
        "(review, seed). ASReview 3.0.8 from PyPI in its own environment, default AI `elas_u4`, refit after",
        "every decision. WSS@95/WSS@100 (Cohen et al. 2006) and ATD (Ferdinands et al. 2023; fraction of",
        "the corpus, lower is better) computed by one formula (`simulate.Run.metrics`) on both orders.",
        "",
        f"Paired comparison on the {pairs} (review, seed) pairs that ASReview ran (seeds per review:"
        f" {', '.join(f'{k} {v}' for k, v in have.groupby('dataset').size().items())}).",
        "The 95% CI of the mean difference resamples the 14 reviews (percentile bootstrap, 10,000",
        "resamples, seeded): an interval that holds 0 is a difference another set of reviews could reverse.",
        "",
        "## Mean over the 14 reviews",
        "",
    ]
    avg = mean.groupby("tool").mean()
    rows = []
    for tool in [ASREVIEW, *tools]:
        d = wide[tool] - wide[ASREVIEW]
        rows.append(
            {
                "tool": tool,
                "WSS@95": round(avg.loc[tool, "wss95"], 3),
                "WSS@100": round(avg.loc[tool, "wss100"], 3),
                "ATD": round(avg.loc[tool, "atd"], 3),
                "WSS@95 − ELAS u4": round(d.mean(), 3),
                "95% CI (reviews resampled)": "" if tool == ASREVIEW else ci_text(d),
                "worst review (Δ WSS@95)": "" if tool == ASREVIEW else f"{d.idxmin()} ({d.min():+.3f})",
                "reviews ahead": "" if tool == ASREVIEW else int((d > 0).sum()),
                "mean s/run": round(avg.loc[tool, "seconds"], 2),
                "time ÷ ELAS u4": round(avg.loc[tool, "seconds"] / avg.loc[ASREVIEW, "seconds"], 3),
            }
        )
    out += [md_table(pd.DataFrame(rows)), ""]
    if DEFAULT_MODEL in tools and len(tools) > 1:
        versus = []
        for tool in tools:
            if tool != DEFAULT_MODEL:
                d = wide[tool] - wide[DEFAULT_MODEL]
                versus.append(
                    {
                        "tool": tool,
                        "Δ default": round(d.mean(), 3),
                        "95% CI (reviews resampled)": ci_text(d),
                        "reviews ahead": int((d > 0).sum()),
                    }
                )
        title = f"## Against the default ranker ({DEFAULT_MODEL}), WSS@95"
        out += [title, "", md_table(pd.DataFrame(versus)), ""]
    out += ["## WSS@95 per review (mean over seeds)", ""]
    out += [md_table(wide[[ASREVIEW, *tools]].round(3).reset_index()), ""]
    out += ["## WSS@100 per review", "", md_table(mean["wss100"].unstack("tool").round(3).reset_index()), ""]
    out += ["## ATD per review", "", md_table(mean["atd"].unstack("tool").round(3).reset_index()), ""]
    ours = everything[everything.tool != ASREVIEW]
    per = ours.groupby(["dataset", "tool"])[["wss95", "wss100", "atd", "seconds"]].mean()
    out += [
        f"## Our candidates on all seeds {seeds[0]}–{seeds[-1]} (mean over reviews of the mean over seeds)",
        "",
        md_table(per.groupby("tool").mean().round(3).reset_index()),
        "",
    ]
    if timed:
        out += [
            f"## Run time on {timed[: timed.index(chr(10))]}",
            "",
            "The per-run seconds above were measured while other jobs shared the 2 cores (load varied",
            "during the hours the ASReview runs took), so the ratio in the first table is only indicative;",
            "this table times one fresh run of each tool back to back (seed 0; ASReview's start-up =",
            "its Python process and imports):",
            "",
            timed[timed.index(chr(10)) + 1 :],
            "",
        ]
    enc = EMB_CACHE / "encode_seconds.json"
    if enc.exists():
        e = json.loads(enc.read_text())
        total = sum(v["seconds"] for v in e.values())
        texts = sum(v["texts"] for v in e.values())
        out += [
            "## Encoding cost of the MiniLM embeddings (once per corpus, cached)",
            "",
            f"{texts} texts in {total:.0f} s ({texts / total:.1f} texts/s, PyTorch's default threads on the",
            "2-core machine); not in the per-run seconds above. Largest review (ACEInhibitors,",
            f"{e['ACEInhibitors']['texts']} texts): {e['ACEInhibitors']['seconds']:.0f} s.",
            "",
        ]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--candidates", default=",".join(CANDIDATES))
    ap.add_argument("--label", default="label_included")
    ap.add_argument("--only", default="", help="comma-separated review names (default: all 14)")
    ap.add_argument("--asreview-only", action="store_true", help="only fill the ASReview cache")
    ap.add_argument("--cached-only", action="store_true", help="use only ASReview runs already cached")
    ap.add_argument("--reuse-ours", action="store_true", help="reuse our orders saved by an earlier run")
    ap.add_argument(
        "--timing",
        default="",
        help="also time one fresh run of each tool on this review (seed 0), back to back",
    )
    ap.add_argument("--tag", default="", help="suffix of the result files")
    args = ap.parse_args()
    seeds = seeds_arg(args.seeds)
    files = sorted(DATA.glob("*.csv"))
    if args.only:
        files = [f for f in files if f.stem in args.only.split(",")]
    rows = []
    for seed in seeds:
        for f in files:
            texts, y = read_labelled_csv(f, args.label)
            priors = priors_for(y, seed)
            got = asreview_order(f, args.label, seed, priors, args.cached_only)
            if got is not None:
                order, sec = got
                assert order[:2] == priors, (f.stem, seed, order[:2], priors)
                rows.append(
                    {
                        "dataset": f.stem,
                        "seed": seed,
                        "tool": ASREVIEW,
                        **metrics_of(order, y),
                        "seconds": sec,
                    }
                )
                print(
                    f"{f.stem:24s} seed {seed:3d} {ASREVIEW:22s} {sec:6.1f}s wss95={rows[-1]['wss95']:.3f}",
                    flush=True,
                )
            if args.asreview_only:
                continue
            for name in args.candidates.split(","):
                mine = OURS_CACHE / f"{name}__{f.stem}__{args.label}__{seed}.json"
                if args.reuse_ours and mine.exists():
                    order, sec = json.loads(mine.read_text())
                else:
                    order, sec = run_ours(name, f, texts, y, seed)
                    OURS_CACHE.mkdir(parents=True, exist_ok=True)
                    mine.write_text(json.dumps([order, sec]))
                assert order[:2] == priors
                rows.append(
                    {"dataset": f.stem, "seed": seed, "tool": name, **metrics_of(order, y), "seconds": sec}
                )
                print(
                    f"{f.stem:24s} seed {seed:3d} {name:22s} {sec:6.1f}s wss95={rows[-1]['wss95']:.3f}",
                    flush=True,
                )
    if args.asreview_only:
        return
    df = pd.DataFrame(rows)
    timed = ""
    if args.timing:
        path = DATA / f"{args.timing}.csv"
        n = len(read_labelled_csv(path, args.label)[1])
        timed = f"{args.timing} ({n} records)\n" + md_table(
            timing(path, args.label, args.candidates.split(","))
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    df.round(6).to_csv(RESULTS / f"asreview_compare{args.tag}.csv", index=False)
    if ASREVIEW not in set(df.tool):  # --cached-only on seeds ASReview never ran: our candidates alone
        per_review = df.groupby(["tool", "dataset"])[["wss95", "wss100", "atd"]].mean()
        print(per_review.groupby("tool").mean().round(4).to_string())
        return
    (RESULTS / f"asreview_compare{args.tag}.md").write_text(markdown(df, seeds, args.label, timed))


if __name__ == "__main__":
    main()
