"""Worked example 2: risk factors for PTSD, an umbrella review taken through metareview from extraction on.

1. A review folder with this example's ``protocol.toml`` (outcome domain, the type-of-factor moderator, the
   extraction fields) and ``report.toml`` (how effect sizes make up findings, conventions, references).
2. The extraction forms, derived at run time from metaumbrella's ``df.radua2019`` table (read from
   ``../shared/data`` or ``$METAREVIEW_SHARED_DATA``; never copied into the repository): one included review
   per ``meta_review``, one effect size per primary-study effect (computed by the library's own
   ``row_effects``, metaumbrella's SMD, Cohen's d, stored as Hedges' g with its SE), the primary-study list of
   each review. Rows without an effect are listed with why, not dropped silently.
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
from metareview.synthesis.umbrella_input import row_effects

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


def derive_forms(source: Path, out: Path) -> tuple[Path, pd.DataFrame]:
    """Write the extraction forms (a folder of ``reports.csv``, ``effect_sizes.csv``, ``primary_studies.csv``)
    from the metaumbrella table; return the folder and the rows left out with why.

    Each row's effect is computed by the library, exactly as ``read_umbrella`` computes it
    (:func:`metareview.synthesis.umbrella_input.row_effects`: the reported estimate with its CI first, else
    the 2x2 counts or the means and SDs). The forms use metafor's measure codes, so a metaumbrella SMD
    (Cohen's d) is stored as an SMD in metafor's sense, Hedges' g, converted with J; every row keeps its
    standard error in the ``se`` field (it wins over one derived from the CI) and its 95% CI as a Wald
    interval (ratios: the reported CI, or exp(log ratio ± 1.96 SE)).
    """
    df = pd.read_csv(source)
    effect = row_effects(source)
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
    for (_, row), (_, eff) in zip(df.iterrows(), effect.iterrows(), strict=True):
        if eff["reason"]:
            left_out.append({"row": int(eff["row"]), "review": row["meta_review"], "factor": row["factor"],
                             "study": row["label"], "reason": eff["reason"]})
            continue
        if eff["scale"] == "log":
            estimate, lo, hi = (math.exp(eff[c]) for c in ("yi", "ci_lower", "ci_upper"))
        else:  # Hedges' g with a Wald (z) 95% CI, metafor's SMD
            estimate, lo, hi = eff["yi"], eff["yi"] - Z95 * eff["se"], eff["yi"] + Z95 * eff["se"]
        n = row["n_cases"] + row["n_controls"]
        effects.append({
            "report_id": _key(row["meta_review"]), "outcome_domain": "PTSD", "comparison": row["factor"],
            "measure": "SMD" if row["measure"] in ("SMD", "G") else row["measure"], "estimate": estimate,
            "ci_lower": lo, "ci_upper": hi, "se": eff["se"], "n": int(n) if pd.notna(n) else None,
            "factor_type": FACTOR_TYPE[row["factor"]], "study": row["study"], "study_year": int(row["year"]),
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
