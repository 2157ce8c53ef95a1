"""Worked example 2: risk factors for PTSD, an umbrella review taken through metareview from extraction on.

1. A review folder with this example's ``protocol.toml`` (outcome domain, the type-of-factor moderator, the
   extraction fields) and ``report.toml`` (how effect sizes make up findings, conventions, references).
2. The extraction forms, derived at run time from metaumbrella's ``df.radua2019`` table (read from
   ``../shared/data`` or ``$METAREVIEW_SHARED_DATA``; never copied into the repository): one included review
   per ``meta_review``, one effect size per primary-study effect, the primary-study list of each review.
   Rows the forms cannot hold (no estimate with a CI, no counts, no means) are listed, not dropped silently.
3. The forms imported with the package's extraction import (validated against the protocol, one transaction).
4. ``metareview report``'s function: HTML, DOCX, tables (CSV/XLSX) and figures (SVG/PDF/PNG).

Run: ``python examples/ptsd-risk-factors/run.py [OUTPUT_DIR]`` (``make demo`` runs it after the first
example).
"""

from __future__ import annotations

import math
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

from metareview.datasets._fetch import resolve
from metareview.extraction.templates import import_forms, store_forms
from metareview.protocol import Protocol
from metareview.report.review_report import write_review_report
from metareview.review import Review
from metareview.stats import escalc

HERE = Path(__file__).resolve().parent
DATA = "umbrella/metaumbrella/df.radua2019.csv"
#: the type of each risk factor (this example's reading; the moderator's levels are in protocol.toml)
FACTOR_TYPE = {"Age": "sociodemographic", "Female": "sociodemographic", "Ethnic minority": "sociodemographic",
               "Low SES": "sociodemographic", "Low education": "sociodemographic",
               "Cumulative trauma": "trauma exposure", "Psychotic disorder": "psychiatric history"}
RAW = ["n_cases", "n_controls", "n_exp", "n_nexp", "n_cases_exp", "n_cases_nexp", "n_controls_exp",
       "n_controls_nexp", "mean_cases", "sd_cases", "mean_controls", "sd_controls"]
Z95 = 1.959963984540054


def _key(meta_review: str) -> str:
    return meta_review.replace(" ", "").replace("-", "").lower()


def _name(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in str(text).split())


def _estimate(row: pd.Series) -> tuple[float, float, float] | None:
    """The estimate with its 95% CI as the review reported it, else computed from the 2x2 counts or the means
    and SDs (the effect size an extractor would type); ``None`` when the row has none of these."""
    if all(pd.notna(row[c]) for c in ("value", "ci_lo", "ci_up")):
        return float(row["value"]), float(row["ci_lo"]), float(row["ci_up"])
    m = row["measure"]
    es = None
    if m == "OR" and row[["n_cases_exp", "n_controls_exp", "n_cases_nexp", "n_controls_nexp"]].notna().all():
        es = escalc("OR", ai=[row["n_cases_exp"]], bi=[row["n_controls_exp"]], ci=[row["n_cases_nexp"]],
                    di=[row["n_controls_nexp"]])
    elif m == "RR" and row[["n_cases_exp", "n_exp", "n_cases_nexp", "n_nexp"]].notna().all():
        es = escalc("RR", ai=[row["n_cases_exp"]], n1i=[row["n_exp"]], ci=[row["n_cases_nexp"]],
                    n2i=[row["n_nexp"]])
    elif m in ("SMD", "MD") and row[["mean_cases", "sd_cases", "mean_controls", "sd_controls"]].notna().all():
        es = escalc(m, m1i=[row["mean_cases"]], sd1i=[row["sd_cases"]], n1i=[row["n_cases"]],
                    m2i=[row["mean_controls"]], sd2i=[row["sd_controls"]], n2i=[row["n_controls"]])
    if es is None:
        return None
    y, se = float(es.yi[0]), math.sqrt(float(es.vi[0]))
    lo, hi = y - Z95 * se, y + Z95 * se
    return (math.exp(y), math.exp(lo), math.exp(hi)) if m in ("OR", "RR") else (y, lo, hi)


def derive_forms(source: Path, out: Path) -> tuple[Path, pd.DataFrame]:
    """Write the extraction forms (a folder of ``reports.csv``, ``effect_sizes.csv``, ``primary_studies.csv``)
    from the metaumbrella table; return the folder and the rows left out with why."""
    df = pd.read_csv(source)
    out.mkdir(parents=True, exist_ok=True)
    df["study"] = df["author"].map(_name)
    df["label"] = df["study"] + " " + df["year"].astype(str)
    reports = (df.groupby("meta_review", sort=False)
               .agg(year=("meta_review", lambda s: int(str(s.iloc[0]).split()[-1][:4])),
                    n_studies=("label", "nunique"), amstar_score=("amstar", "first")).reset_index())
    reports.insert(0, "id", reports["meta_review"].map(_key))
    reports["citation"] = reports["meta_review"].map(_name)
    reports = reports[["id", "citation", "year", "n_studies", "amstar_score"]]
    effects, left_out = [], []
    for i, row in df.iterrows():
        est = _estimate(row)
        if est is None:
            left_out.append({"row": i + 2, "review": row["meta_review"], "factor": row["factor"],
                             "study": row["label"], "reason": "no 95% CI, 2x2 counts or means/SDs to give an "
                                                              "effect size with its CI"})
            continue
        n = row["n_cases"] + row["n_controls"]
        effects.append({
            "report_id": _key(row["meta_review"]), "outcome_domain": "PTSD", "comparison": row["factor"],
            "measure": row["measure"], "estimate": est[0], "ci_lower": est[1], "ci_upper": est[2],
            "n": int(n) if pd.notna(n) else None, "factor_type": FACTOR_TYPE[row["factor"]],
            "study": row["study"], "study_year": int(row["year"]),
            **{c: row[c] for c in RAW}, "multiple_es": row["multiple_es"]})
    pd.DataFrame(effects).to_csv(out / "effect_sizes.csv", index=False)
    reports.to_csv(out / "reports.csv", index=False)
    lists = df.drop_duplicates(["meta_review", "label"])
    pd.DataFrame({"report_id": lists["meta_review"].map(_key), "label": lists["label"],
                  "year": lists["year"]}).to_csv(out / "primary_studies.csv", index=False)
    return out, pd.DataFrame(left_out, columns=["row", "review", "factor", "study", "reason"])


def main(out_dir: Path) -> Path:
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    review_dir = out_dir / "review"
    if review_dir.exists():
        shutil.rmtree(review_dir)
    Review.init(review_dir).close()
    for name in ("protocol.toml", "report.toml"):
        shutil.copyfile(HERE / name, review_dir / name)
    forms, left_out = derive_forms(resolve(DATA, None), out_dir / "extraction")
    left_out.to_csv(forms / "left_out.csv", index=False)
    bundle = import_forms(forms, protocol=Protocol.load(review_dir / "protocol.toml"))
    counts = store_forms(bundle, review_dir)
    print(f"stored {counts['reports']} reviews, {counts['effect_sizes']} effect sizes, "
          f"{counts['primary_studies']} primary-study entries; {len(left_out)} rows of the table left out "
          f"(listed in {forms / 'left_out.csv'})")
    files = write_review_report(review_dir, out=out_dir / "report")
    print(f"Report: {files.html}\nWord: {files.docx}\nTables: {files.tables.workbook} "
          f"(+ {len(files.tables.csv)} CSV files)\nFigures: {len(files.figures)} files in "
          f"{files.html.parent / 'figures'}\nBuilt in {time.perf_counter() - t0:.1f} s")
    return files.html


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "output")
