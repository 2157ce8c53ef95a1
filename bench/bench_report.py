"""Benchmark: build the full report for 30 meta-analyses x 10 outcomes (synthetic), target < 60 s.

What is built (everything the worked example builds, at a larger scale):
- 30 meta-analyses, each pooling 6-14 trials in each of 10 outcomes (300 meta-analytic findings) drawn from a
  pool of 400 trials (so the reviews overlap);
- the vote count of the 300 findings by outcome and by support provider (Wilson CIs, exact tests);
- the 300 findings graded for credibility (each: random-effects pool, Egger, excess significance);
- the overlap of the 30 reviews (CCA, pairwise 435 pairs, heatmap);
- the re-pooled primary effects per outcome, guided vs unguided (three-level model, meta-regression,
  forest and funnel plots for 10 outcomes), and the evidence map;
- one self-contained HTML file + CSV/XLSX tables.

Run: ``.venv/bin/python bench/bench_report.py`` (writes bench/results/report.md).
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from metareview.extraction.direction import Direction
from metareview.report import sections
from metareview.report.html import Report, Section, write_report
from metareview.report.review_report import effect_sections
from metareview.synthesis.credibility import assess
from metareview.synthesis.overlap import CitationMatrix, cca
from metareview.synthesis.votes import vote_table

HERE = Path(__file__).resolve().parent
N_REVIEWS, N_OUTCOMES, N_TRIALS = 30, 10, 400
OUTCOMES = [f"outcome {i + 1}" for i in range(N_OUTCOMES)]
PROVIDERS = ["Clinically trained", "Mixed", "Lay", "Unclear"]


def synthetic(seed: int = 2023) -> tuple[pd.DataFrame, list[tuple[str, str]], pd.DataFrame]:
    """Primary effects (one to three per trial and outcome), review inclusions, review x outcome findings."""
    rng = np.random.default_rng(seed)
    trial_guided = rng.random(N_TRIALS) < 0.55
    trial_n = rng.integers(30, 300, N_TRIALS)
    effects = []
    for o, outcome in enumerate(OUTCOMES):
        for t in rng.choice(N_TRIALS, 120, replace=False):
            for e in range(int(rng.integers(1, 4))):
                n = int(trial_n[t])
                vi = 4 / n + rng.uniform(0, 0.01)
                guided = bool(trial_guided[t])
                effects.append({
                    "outcome": outcome, "trial": f"trial {t}", "study": f"Trial {t}, {2000 + t % 24}",
                    "effect_id": f"{o}.{t}.{e}", "guidance": "guided" if guided else "unguided",
                    "guided": int(guided), "yi": rng.normal(0.45 + 0.1 * guided, 0.25), "vi": vi,
                    "n_arm1": n / 2, "n_arm2": n / 2, "instrument": f"scale {e}", "arm2": "wl",
                    "db": "synthetic", "multi_arm1": "", "multi_arm2": "", "full_ref": ""})
    eff = pd.DataFrame(effects)
    inclusions, findings = [], []
    for r in range(N_REVIEWS):
        provider = PROVIDERS[r % len(PROVIDERS)]
        for outcome in OUTCOMES:
            pool = eff[eff.outcome == outcome].drop_duplicates("trial")
            chosen = pool.sample(int(rng.integers(6, 15)), random_state=int(rng.integers(1 << 30)))
            inclusions += [(f"Review {r + 1:02d}", t) for t in chosen["trial"]]
            findings.append({"review": f"Review {r + 1:02d}", "outcome": outcome, "provider": provider,
                             "yi": chosen["yi"].to_numpy() - 0.45, "vi": chosen["vi"].to_numpy(),
                             "n": chosen["n_arm1"].to_numpy() * 2})
    return eff, inclusions, pd.DataFrame(findings)


def build(out_dir: Path) -> dict[str, float]:
    """Build the report; return the time of each stage in seconds."""
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    eff, inclusions, findings = synthetic()
    times["synthetic data"] = time.perf_counter() - t0

    t = time.perf_counter()
    graded = [assess(f.yi, f.vi, n_cases=f.n, name=f"{f.review}: {f.outcome}").to_dict()
              for f in findings.itertuples()]
    cred = pd.DataFrame(graded)
    directions = [Direction.NO_DIFFERENCE.value if lo <= 0 <= hi else
                  (Direction.BETTER.value if est > 0 else Direction.WORSE.value)
                  for est, lo, hi in zip(cred.estimate, cred.ci_lower, cred.ci_upper, strict=True)]
    votes = {"Outcome": vote_table(directions, list(findings.outcome), moderator="Outcome"),
             "Support provider": vote_table(directions, list(findings.provider),
                                            moderator="Support provider")}
    overlap = cca(CitationMatrix.from_inclusions(inclusions))
    times["umbrella synthesis (300 credibility gradings, votes, CCA)"] = time.perf_counter() - t

    t = time.perf_counter()
    pooled, _ = effect_sections(eff)
    times["re-pooling 10 outcomes + forest/funnel/evidence figures"] = time.perf_counter() - t

    t = time.perf_counter()
    cells = findings.assign(direction=directions).groupby(["outcome", "provider", "direction"]).size()
    cells = cells.reset_index(name="k").rename(columns={"outcome": "column", "provider": "row"})
    cells = cells.sort_values("k").drop_duplicates(["column", "row"], keep="last")
    report = Report(
        title="Benchmark: 30 meta-analyses x 10 outcomes", sections=[
            sections.votes_section(votes, title="Vote count"),
            sections.evidence_map_section(cells, title="Evidence map of the meta-analyses"),
            sections.overlap_section(overlap),
            sections.credibility_section(cred, title="Credibility of the 300 findings"),
            *pooled,
            Section("Note", paragraphs=["Synthetic data."]),
        ], methods=sections.methods_paragraphs())
    times["other figures + sections"] = time.perf_counter() - t

    t = time.perf_counter()
    files = write_report(report, out_dir)
    times["HTML + CSV/XLSX writing"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - t0
    times["html_mb"] = files.html.stat().st_size / 1e6
    return times


def main() -> None:
    times = build(HERE / "_work" / "report")
    lines = ["# Report build benchmark (bench/bench_report.py)", "",
             f"30 meta-analyses x 10 outcomes (synthetic; 300 findings, {N_TRIALS} trials in the pool). "
             f"Machine: {platform.machine()}, Python {platform.python_version()}, shared 2-core host.", "",
             "| stage | seconds |", "|---|---|"]
    lines += [f"| {k} | {v:.2f} |" for k, v in times.items() if k != "html_mb"]
    lines += ["", f"HTML file: {times['html_mb']:.1f} MB (self-contained). Target: total < 60 s."]
    text = "\n".join(lines) + "\n"
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "report.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
