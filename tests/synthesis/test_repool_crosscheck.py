"""Independent cross-check of the worked example's re-pooling (digital guided vs unguided self-help).

The selection is rebuilt here from the raw Metapsy CSVs with plain pandas, without calling
:mod:`metareview.datasets.metapsy` or :mod:`metareview.synthesis.repool`: self-help arms (guided ``gsh`` /
unguided ``ush``; panic: ``self-help`` with guidance read from the title; PTSD: ``Technology Assisted``;
the selfguided database: all arms unguided) that are digital (Metapsy's ``format_unguided`` where coded,
else the keyword heuristic of ``../shared/data/metapsy/README.md``) against an inactive control (waitlist,
care as usual, other control) at post-test; depression-domain rows only in the selfguided database. A row
of another database with the same trial and g (3 decimals) as a selfguided row is the same effect coded
twice and dropped (the selfguided coding wins), as is the depression database's Gold 2023 MADRS row (the
same arm as the selfguided row: same instrument and control, arm size unknown in both). Otu 2023 (a
YouTube video blog) is not counted as digital, as in the example (social media; Werntz et al. C2).

The trial counts are pinned, the example's selection must give the same rows, and its pooled estimates
are compared with metafor's ``rma.mv(yi, vi, random = ~ 1 | trial/es)`` fitted to this selection.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rharness import run_r

SG = "data-depression-selfguided-psyctr"
# The keyword heuristic of ../shared/data/metapsy/README.md ("How is_digital is set"), verbatim.
DIGITAL = re.compile(
    r"internet|online|on-line|web|computer|smartphone|smart phone|mobile|\bapps?\b|digital|e-?mail|cd-?rom|"
    r"\bi-?cbt|\bicbt|\bi-ba|\bi-pst|ehealth|e-health|mhealth|m-health|virtual|chat|text messag|\bsms\b|dvd|"
    r"video|telehealth|cyber|self-help program|moodgym|beating the blues|deprexis", re.IGNORECASE)
INACTIVE = {"wl", "wlc", "cau", "other ctr", "waitlist", "tau", "other", "tau/nt"}

# Trials per outcome x guidance in this selection (counted from the CSVs by _selection below, 2026-11-24;
# depression: 76 guided / 69 unguided after the fixes to the de-duplication, was 75 / 69).
TRIALS = {
    ("depression", "guided"): 76, ("depression", "unguided"): 69,
    ("GAD", "guided"): 10, ("GAD", "unguided"): 2,
    ("social anxiety", "guided"): 14, ("social anxiety", "unguided"): 7,
    ("panic", "guided"): 10, ("panic", "unguided"): 1,
    ("PTSD", "guided"): 8, ("transdiagnostic", "guided"): 15,
}


def _trial(study: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", study).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", ascii_)


def _read(root: Path, db: str) -> pd.DataFrame:
    raw = pd.read_csv(root / "metapsy" / db / "data.csv", sep=";", dtype=str)
    raw = raw.rename(columns={raw.columns[0]: "row", "full_reference": "full_ref"})
    for col in (".g", ".g_se", "n_arm1"):
        raw[col] = pd.to_numeric(raw[col].str.replace(",", ".", regex=False), errors="coerce")
    return raw.assign(db=db)


def _text(df: pd.DataFrame, *cols: str) -> pd.Series:
    return pd.concat([df.get(c, pd.Series("", index=df.index)).fillna("") for c in cols], axis=1).agg(
        " ".join, axis=1)


def _selection(root: Path) -> pd.DataFrame:
    parts = []
    for db, outcome, sign in [("data-depression-psyctr", "depression", 1), ("data-gad-psyctr", "GAD", -1),
                              ("data-sad-psyctr", "social anxiety", 1),
                              ("data-depression-anxiety-transdiagnostic", "transdiagnostic", 1)]:
        d = _read(root, db)
        d = d[d["format"].isin(["gsh", "ush"])]
        fields = _text(d, "full_ref", "multi_arm1", "format_details", "descr_ig", "notes")
        digital = fields.str.contains(DIGITAL)
        parts.append(d[digital].assign(outcome=outcome, g=sign * d[".g"],
                                       guidance=d["format"].map({"gsh": "guided", "ush": "unguided"})))
    sg = _read(root, SG)
    sg = sg[sg["format_unguided"].isin(["internet", "mobile", "computer"])
            & sg["outcome_domain"].eq("depression")]
    parts.append(sg.assign(outcome="depression", g=sg[".g"], guidance="unguided"))
    ptsd = _read(root, "data-ptsd-psyctr")
    ptsd = ptsd[ptsd["delivery_method"].eq("Technology Assisted")]
    parts.append(ptsd.assign(outcome="PTSD", g=ptsd[".g"], guidance="guided"))
    panic = _read(root, "data-panic-psyctr")
    panic = panic[panic["format"].eq("self-help")
                  & _text(panic, "full_ref", "multi_arm1").str.contains(DIGITAL)]
    title = panic["full_ref"].fillna("")
    unguided = title.str.contains(r"unguided|self-guided|without support|no therapist|pure self-help",
                                  case=False)
    either = unguided & title.str.contains(r"\bguided|assisted|supported|supplemented", case=False)
    panic = panic[~either].assign(guidance=np.where(unguided[~either], "unguided", "guided"))
    parts.append(panic.assign(outcome="panic", g=-panic[".g"]))
    sel = pd.concat(parts, ignore_index=True)
    sel = sel[sel["condition_arm2"].str.lower().isin(INACTIVE) & sel["time"].eq("post") & (sel[".g_se"] > 0)]
    sel = sel[~sel["study"].isin(["Otu, 2023"])].assign(trial=lambda d: d["study"].map(_trial))
    # the same effect in the selfguided database and another one: same trial and g to 3 decimals
    in_sg = set(zip(sel.loc[sel.db == SG, "trial"], sel.loc[sel.db == SG, "g"].round(3), strict=True))
    copy = [db != SG and (t, g) in in_sg for db, t, g in zip(sel.db, sel.trial, sel.g.round(3), strict=True)]
    gold = sel["study"].eq("Gold, 2023") & sel["db"].ne(SG) & sel["instrument"].str.lower().eq("madrs")
    sel = sel[~np.array(copy) & ~gold]
    return sel.assign(effect_id=sel["db"].str.removeprefix("data-") + ":" + sel["row"], yi=sel["g"],
                      vi=sel[".g_se"] ** 2)


@pytest.fixture(scope="module")
def selections(shared_data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    from metareview.datasets import metapsy
    from metareview.synthesis.repool import select_digital_selfhelp

    return _selection(shared_data), select_digital_selfhelp(metapsy.load_all())


def test_trial_counts_per_outcome_and_guidance(selections: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    own, example = selections
    counts = own.groupby(["outcome", "guidance"])["trial"].nunique().to_dict()
    assert counts == TRIALS
    assert example.groupby(["outcome", "guidance"])["trial"].nunique().to_dict() == TRIALS


def test_the_example_selects_the_same_rows(selections: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    own, example = selections
    assert sorted(own["effect_id"]) == sorted(example["effect_id"])
    merged = own.merge(example, on="effect_id", suffixes=("", "_example"))
    np.testing.assert_allclose(merged["yi_example"], merged["yi"], atol=1e-12)
    assert (merged["guidance"] == merged["guidance_example"]).all()


@pytest.mark.metafor
def test_pooled_estimates_match_metafor_on_the_own_selection(
    selections: tuple[pd.DataFrame, pd.DataFrame], rscript: str,
) -> None:
    from metareview.synthesis.repool import repool

    own, example = selections
    res = repool(example)
    dep = own[own["outcome"] == "depression"]
    out = run_r(rscript, """
      dat$es <- seq_len(nrow(dat))
      fit <- function(d) rma.mv(yi, vi, random = ~ 1 | trial/es, data = d, method = "REML")
      g <- fit(dat[dat$guided == 1, ]); u <- fit(dat[dat$guided == 0, ])
      m <- rma.mv(yi, vi, mods = ~ guided, random = ~ 1 | trial/es, data = dat, method = "REML")
      out <- list(g = c(g$b), g_se = g$se, u = c(u$b), u_se = u$se, d = c(m$b)[2], d_se = m$se[2],
                  d_p = m$pval[2])
    """, data={"yi": dep["yi"].tolist(), "vi": dep["vi"].tolist(), "trial": dep["trial"].tolist(),
               "guided": (dep["guidance"] == "guided").astype(int).tolist()})
    guided, unguided = res.pooled_for("depression", "guided"), res.pooled_for("depression", "unguided")
    diff = res.difference_for("depression")
    assert guided is not None and unguided is not None and diff is not None
    assert guided.estimate == pytest.approx(out["g"], abs=1e-4)
    assert guided.se == pytest.approx(out["g_se"], abs=1e-4)
    assert unguided.estimate == pytest.approx(out["u"], abs=1e-4)
    assert unguided.se == pytest.approx(out["u_se"], abs=1e-4)
    assert diff.estimate == pytest.approx(out["d"], abs=1e-4)
    assert diff.se == pytest.approx(out["d_se"], abs=1e-4)
    assert diff.pvalue == pytest.approx(out["d_p"], abs=1e-4)
    # metafor 3.8.1 on this selection (2026-11-24): guided 0.6080, unguided 0.5811, difference 0.0292
    assert (out["g"], out["u"], out["d"]) == pytest.approx((0.6080, 0.5811, 0.0292), abs=1e-4)
