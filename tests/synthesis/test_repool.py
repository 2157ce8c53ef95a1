"""Re-pooling guided vs unguided self-help: selection, de-duplication, pools and tests against metafor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rharness import run_r

from metareview.errors import InputError
from metareview.synthesis import repool as rp

SG = "data-depression-selfguided-psyctr"
DEP = "data-depression-psyctr"


def _row(db: str, study: str, g: float, guidance: str, instrument: str = "bdi", **kw: object) -> dict:
    base = {
        "db": db, "row": kw.pop("row", 1), "study": study, "trial": study.lower().replace(", ", "_"),
        "year": 2010, "outcome": "depression", "outcome_domain": "depression", "instrument": instrument,
        "time": "post", "arm1": "cbt", "arm2": "wl", "multi_arm1": "", "multi_arm2": "", "n_arm1": 40.0,
        "n_arm2": 40.0, "g": g, "g_se": 0.2, "guidance": guidance, "guidance_basis": "", "digital": True,
        "digital_basis": "", "control": True, "support_unguided": "", "full_ref": "",
    }
    base.update(kw)
    return base


def test_selection_filters_and_removes_cross_database_copies() -> None:
    rows = [
        _row(DEP, "Ann, 2010", 0.5, "guided", row=1),
        _row(SG, "Ann, 2010", 0.5, "unguided", instrument="BDI", row=2),       # same g: a copy -> SG kept
        _row(DEP, "Bo, 2011", 0.4, "guided", row=3),
        _row(SG, "Bo, 2011", 0.45, "unguided", row=4),  # same instrument, no arm label
        _row(DEP, "Cy, 2012", 0.3, "guided", multi_arm1="cbt (guided)", row=5),
        _row(SG, "Cy, 2012", 0.1, "unguided", row=6),                           # real multi-arm contrast
        _row(DEP, "Di, 2013", 0.9, "guided", digital=False, row=7),             # a book: out
        _row(DEP, "Ed, 2014", 0.9, "guided", control=False, row=8),             # active comparator: out
        _row(SG, "Fa, 2015", 0.9, "unguided", time="FU1", row=9),               # follow-up: out
        _row(SG, "Ga, 2016", 0.9, "unguided", outcome_domain="QoL", row=10),    # not depression: out
    ]
    eff = rp.select_digital_selfhelp(pd.DataFrame(rows))
    assert sorted(zip(eff["trial"], eff["guidance"], strict=True)) == [
        ("ann_2010", "unguided"), ("bo_2011", "unguided"), ("cy_2012", "guided"), ("cy_2012", "unguided")]
    assert eff.attrs["duplicates_removed"] == 2
    assert eff.loc[eff.trial == "ann_2010", "vi"].iloc[0] == pytest.approx(0.04)
    assert list(eff.columns) == rp.EFFECT_COLUMNS


def test_selection_keeps_distinct_effects_and_arms_that_only_look_alike() -> None:
    rows = [
        # two effects of one database with the same g (mean difference and response rate): both kept
        _row(SG, "Eb, 2018", 0.3997, "unguided", instrument="qids", row=1),
        _row(SG, "Eb, 2018", 0.3996, "unguided", instrument="qids", n_arm1=np.nan, row=2),
        # a three-arm trial without arm labels (Vazquez 2023): app arm n=58 unguided, app + calls n=53
        # guided, same control and instrument; the arm sizes differ, so these are two arms
        _row(SG, "Va, 2023", 0.66, "unguided", instrument="ces-d", n_arm1=58.0, row=3),
        _row(DEP, "Va, 2023", 1.49, "guided", instrument="cesd", n_arm1=53.0, row=4),
        # the same instrument with an unknown arm size in one database (Gold 2023): one arm, SG kept
        _row(SG, "Go, 2023", 0.48, "unguided", instrument="madrs", n_arm1=np.nan, row=5),
        _row(DEP, "Go, 2023", 0.44, "guided", instrument="madrs", n_arm1=np.nan, row=6),
    ]
    eff = rp.select_digital_selfhelp(pd.DataFrame(rows))
    assert sorted(eff["effect_id"]) == [
        "depression-psyctr:4", "depression-selfguided-psyctr:1", "depression-selfguided-psyctr:2",
        "depression-selfguided-psyctr:3", "depression-selfguided-psyctr:5"]
    assert eff.attrs["duplicates_removed"] == 1
    contrast = rp.head_to_head_contrasts(eff)
    assert list(contrast["trial"]) == ["va_2023"]
    assert contrast["yi"].iloc[0] == pytest.approx(1.49 - 0.66)


def test_selection_rejects_a_table_that_is_not_harmonised() -> None:
    with pytest.raises(InputError, match="harmonised"):
        rp.select_digital_selfhelp(pd.DataFrame({"g": [0.1]}))


def test_instrument_key() -> None:
    assert rp.instrument_key("BDI-II") == rp.instrument_key("bdi-2") == rp.instrument_key("BDI 2") == "bdi2"
    assert rp.instrument_key("PHQ-9") == "phq9"


def test_head_to_head_variance_uses_the_shared_control() -> None:
    eff = pd.DataFrame([
        {"outcome": "d", "trial": "t", "study": "T", "instrument": "x", "arm2": "wl", "guidance": "guided",
         "yi": 0.5, "vi": 0.04, "n_arm1": 50.0, "n_arm2": 50.0, "effect_id": "a"},
        {"outcome": "d", "trial": "t", "study": "T", "instrument": "x", "arm2": "wl", "guidance": "unguided",
         "yi": 0.3, "vi": 0.05, "n_arm1": 50.0, "n_arm2": 50.0, "effect_id": "b"},
    ])
    c = rp.head_to_head_contrasts(eff)
    # Gleser & Olkin (2009): cov = 1/n_c + g1*g2/(2N) = 1/50 + 0.15/300 = 0.0205
    assert c["yi"].iloc[0] == pytest.approx(0.2)
    assert c["vi"].iloc[0] == pytest.approx(0.04 + 0.05 - 2 * 0.0205)


def _synthetic(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(14):
        guidance = "guided" if t < 8 else "unguided"
        for e in range(1 + t % 3):
            vi = rng.uniform(0.02, 0.09)
            rows.append({"outcome": "depression", "db": "x", "trial": f"t{t}", "study": f"T{t}",
                         "effect_id": f"{t}.{e}", "guidance": guidance, "guided": int(guidance == "guided"),
                         "yi": rng.normal(0.6 if guidance == "guided" else 0.35, 0.25), "vi": vi,
                         "n_arm1": 40.0, "n_arm2": 40.0, "instrument": f"i{e}", "arm2": "wl",
                         "multi_arm1": "", "multi_arm2": "", "full_ref": ""})
    return pd.DataFrame(rows)


@pytest.mark.metafor
def test_pools_and_difference_match_metafor_rma_mv(rscript: str) -> None:
    eff = _synthetic()
    res = rp.repool(eff)
    out = run_r(rscript, """
      fit <- function(d) rma.mv(yi, vi, random = ~ 1 | trial/effect_id, data = d)
      g <- fit(dat[dat$guided == 1, ]); u <- fit(dat[dat$guided == 0, ])
      pg <- predict(g)
      m <- rma.mv(yi, vi, mods = ~ guided, random = ~ 1 | trial/effect_id, data = dat)
      out <- list(g = c(g$b), g_ci = c(g$ci.lb, g$ci.ub), g_s2 = g$sigma2, g_pi = c(pg$pi.lb, pg$pi.ub),
                  u = c(u$b), u_p = u$pval, d = c(m$b)[2], d_se = m$se[2], d_p = m$pval[2])
    """, data={c: eff[c].tolist() for c in ("yi", "vi", "trial", "effect_id", "guided")})
    g, u, d = res.pooled_for("depression", "guided"), res.pooled_for("depression", "unguided"), \
        res.difference_for("depression")
    assert g is not None and u is not None and d is not None
    assert g.estimate == pytest.approx(out["g"], abs=1e-4)
    assert [g.ci_lower, g.ci_upper] == pytest.approx(out["g_ci"], abs=1e-4)
    assert [g.sigma2_trial, g.sigma2_effect] == pytest.approx(out["g_s2"], abs=1e-4)
    assert [g.pi_lower, g.pi_upper] == pytest.approx(out["g_pi"], abs=1e-4)
    assert u.estimate == pytest.approx(out["u"], abs=1e-4)
    assert u.pvalue == pytest.approx(out["u_p"], abs=1e-4)
    assert d.estimate == pytest.approx(out["d"], abs=1e-4)
    assert d.se == pytest.approx(out["d_se"], abs=1e-4)
    assert d.pvalue == pytest.approx(out["d_p"], abs=1e-4)


def test_result_objects_print_and_tabulate() -> None:
    res = rp.repool(_synthetic())
    text = str(res)
    assert "depression" in text and "guided - unguided" in text
    frame = res.to_frame()
    assert set(frame["group"]) == {"guided", "unguided"}
    assert frame["diff_pvalue"].notna().all()
    assert res.to_dict()["pooled"][0]["k_trials"] == 8


def test_groups_with_too_few_trials_are_not_pooled() -> None:
    eff = _synthetic()
    eff = eff[(eff.guidance == "guided") | (eff.trial == "t9")]
    res = rp.repool(eff)
    assert res.pooled_for("depression", "unguided") is None
    assert res.difference_for("depression") is None


def test_real_metapsy_selection_has_no_double_coded_effects(shared_data: Path) -> None:
    from metareview.datasets import metapsy

    eff = rp.select_digital_selfhelp(metapsy.load_all())
    # the nine trials the shared-data README lists as coded in both depression databases
    nine = ["ebert_2018", "harrer_2021", "milgrom_2016", "milgrom_2021", "mohr_2013", "selmi_1990",
            "smith_2017", "stilesshields_2018", "titov_2010"]
    sub = eff[eff.trial.isin(nine)].assign(g3=lambda d: d.yi.round(3))
    # no effect is kept from both databases (two effects of one database may share g: Ebert 2018's QIDS
    # mean difference and response rate, both g = 0.400 in the selfguided database, are two effects)
    assert (sub.groupby(["trial", "g3"])["db"].nunique() == 1).all()
    assert eff["effect_id"].is_unique
    assert {"depression-selfguided-psyctr:67", "depression-selfguided-psyctr:71"} <= set(eff["effect_id"])
    assert set(eff["outcome"]) == set(rp.OUTCOMES)
    assert (eff["vi"] > 0).all()


@pytest.mark.metafor
def test_single_effect_trials_use_two_level_models_like_metafor(rscript: str) -> None:
    eff = _synthetic().groupby("trial").head(1)
    res = rp.repool(eff)
    out = run_r(rscript, """
      g <- rma(yi, vi, data = dat[dat$guided == 1, ])
      m <- rma(yi, vi, mods = ~ guided, data = dat)
      out <- list(g = c(g$b), g_tau2 = g$tau2, d = c(m$b)[2], d_p = m$pval[2])
    """, data={c: eff[c].tolist() for c in ("yi", "vi", "guided")})
    g, d = res.pooled_for("depression", "guided"), res.difference_for("depression")
    assert g is not None and d is not None and g.model == d.model == "two-level"
    assert g.estimate == pytest.approx(out["g"], abs=1e-4)
    assert g.sigma2_trial == pytest.approx(out["g_tau2"], abs=1e-4)
    assert d.estimate == pytest.approx(out["d"], abs=1e-4)
    assert d.pvalue == pytest.approx(out["d_p"], abs=1e-4)
