"""Re-pooling the randomised trials behind the reviews: guided vs unguided digital self-help, per outcome.

Werntz et al. 2023 could only count significant results. Here the primary-study effects in the Metapsy
databases (:mod:`metareview.datasets.metapsy`) are re-pooled:

1. :func:`select_digital_selfhelp` keeps digital (internet, app, computer) self-help arms compared with an
   inactive control at post-test, guided (``gsh``) or unguided (``ush``), and removes the rows coded twice
   (the same trial, arm and instrument present in two databases, often guided in one and unguided in the
   other: the selfguided database's explicit coding of support wins, see :data:`DB_PREFERENCE`);
2. :func:`repool` pools guided and unguided effects separately per outcome with the three-level model
   (effects nested in trials, REML), tests the difference by meta-regression on ``guided`` in the same
   model, and pools head-to-head contrasts from trials with both a guided and an unguided arm.

Example::

    from metareview.datasets import metapsy
    from metareview.synthesis.repool import repool, select_digital_selfhelp
    effects = select_digital_selfhelp(metapsy.load_all())
    res = repool(effects)
    print(res)            # one line per outcome x guidance, then the tests of difference
    res.to_frame()        # the same as a table
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from metareview.errors import InputError
from metareview.stats import meta, meta_mv, meta_reg

OUTCOMES: tuple[str, ...] = ("depression", "GAD", "social anxiety", "panic", "PTSD", "transdiagnostic")
GUIDANCE: tuple[str, str] = ("guided", "unguided")
#: when the same effect is coded in two databases, the copy from the earlier database here is kept
DB_PREFERENCE: tuple[str, ...] = (
    "data-depression-selfguided-psyctr", "data-gad-psyctr", "data-sad-psyctr", "data-panic-psyctr",
    "data-ptsd-psyctr", "data-depression-psyctr", "data-depression-anxiety-transdiagnostic",
)
EFFECT_COLUMNS = [
    "outcome", "db", "trial", "study", "effect_id", "guidance", "guided", "yi", "vi", "n_arm1", "n_arm2",
    "instrument", "arm2", "multi_arm1", "multi_arm2", "full_ref",
]


def select_digital_selfhelp(harmonised: pd.DataFrame, *, deduplicate: bool = True) -> pd.DataFrame:
    """Digital guided/unguided self-help vs inactive control at post-test, one row per effect, de-duplicated.

    ``harmonised`` is :func:`metareview.datasets.metapsy.load_all` output. The result has
    :data:`EFFECT_COLUMNS`; ``yi`` is Hedges' g (positive favours self-help) and ``vi`` its variance.
    ``attrs["duplicates_removed"]`` counts the rows dropped as copies of a row in another database
    (``deduplicate=False`` keeps them, e.g. to measure the overlap between databases).
    """
    missing = {"db", "trial", "g", "g_se", "guidance", "digital", "control", "time"} - set(harmonised.columns)
    if missing:
        raise InputError(f"not a harmonised Metapsy table: missing {sorted(missing)}",
                         field=sorted(missing)[0])
    df = harmonised
    keep = df["digital"] & df["guidance"].notna() & df["control"] & df["time"].isin(["post", ""])
    keep &= (df["db"] != "data-depression-selfguided-psyctr") | (df["outcome_domain"] == "depression")
    sel = df.loc[keep].copy()
    sel["rank"] = sel["db"].map({d: i for i, d in enumerate(DB_PREFERENCE)}).fillna(len(DB_PREFERENCE))
    sel["instrument"] = sel["instrument"].map(instrument_key)
    sel = sel.sort_values(["rank", "row"])
    n_before = len(sel)
    if not deduplicate:
        return _effects(sel, 0)
    # the same effect coded in two databases: same trial, outcome and g (to 3 decimals; two effects of one
    # database that share g are distinct, e.g. Ebert 2018's QIDS mean difference and response rate) ...
    sel = sel.drop(index=_copies(sel.assign(g3=sel["g"].round(3)), ["outcome", "trial", "g3"]))
    # ... or the same trial, outcome and instrument in two databases with no multi-arm label and no
    # contradicting arm-1 size (one arm; Vazquez 2023's app arm, n=58, and app + calls arm, n=53, are two)
    single = sel[sel["multi_arm1"].eq("")]
    sel = sel.drop(index=_copies(single, ["outcome", "trial", "instrument"], same_size=True))
    return _effects(sel, n_before - len(sel))


def _copies(sel: pd.DataFrame, keys: list[str], *, same_size: bool = False) -> pd.Index:
    """Rows of ``sel`` sharing ``keys`` with a row of a preferred database (lower ``rank``); with
    ``same_size`` only where the two arm-1 sizes agree or one is unknown."""
    rows = sel.rename_axis("index").reset_index()
    pairs = rows.merge(rows, on=keys, suffixes=("", "_other"))
    copy = pairs["rank"] > pairs["rank_other"]
    if same_size:
        n, other = pairs["n_arm1"], pairs["n_arm1_other"]
        copy &= n.isna() | other.isna() | (n == other)
    found: pd.Index = pd.Index(pairs.loc[copy, "index"].unique())
    return found


def _effects(sel: pd.DataFrame, removed: int) -> pd.DataFrame:
    out = pd.DataFrame({
        "outcome": sel["outcome"], "db": sel["db"], "trial": sel["trial"], "study": sel["study"],
        "effect_id": sel["db"].str.removeprefix("data-") + ":" + sel["row"].astype(str),
        "guidance": sel["guidance"], "guided": (sel["guidance"] == "guided").astype(int),
        "yi": sel["g"], "vi": sel["g_se"] ** 2, "n_arm1": sel["n_arm1"], "n_arm2": sel["n_arm2"],
        "instrument": sel["instrument"], "arm2": sel["arm2"], "multi_arm1": sel["multi_arm1"],
        "multi_arm2": sel["multi_arm2"], "full_ref": sel["full_ref"],
    })
    order = {o: i for i, o in enumerate(OUTCOMES)}
    out = out.sort_values(["outcome", "guidance", "study"], key=lambda s: s.map(order) if s.name == "outcome"
                          else s).reset_index(drop=True)
    out.attrs["duplicates_removed"] = removed
    return out


@dataclass(frozen=True)
class Pooled:
    """A three-level pooled effect for one outcome and one kind of support (or a head-to-head pool)."""

    outcome: str
    group: str
    model: str
    k_trials: int
    k_effects: int
    n_participants: int
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    pvalue: float
    pi_lower: float
    pi_upper: float
    sigma2_trial: float
    sigma2_effect: float
    effects: pd.DataFrame = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Scalars only (the effects table is left out)."""
        d = asdict(self)
        d.pop("effects")
        return d

    def to_frame(self) -> pd.DataFrame:
        """One-row table of :meth:`to_dict`."""
        return pd.DataFrame([self.to_dict()])

    def __str__(self) -> str:
        return (f"{self.outcome:<16} {self.group:<12} "
                f"k={self.k_trials:>3} trials/{self.k_effects:>3} effects  "
                f"g={self.estimate:6.3f} [{self.ci_lower:6.3f}, {self.ci_upper:6.3f}]  p={_p(self.pvalue)}  "
                f"PI [{self.pi_lower:6.3f}, {self.pi_upper:6.3f}]")


@dataclass(frozen=True)
class Difference:
    """Meta-regression of the effect on ``guided`` (1 guided, 0 unguided) in one three-level model."""

    outcome: str
    model: str
    k_trials: int
    k_effects: int
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    pvalue: float

    def to_dict(self) -> dict[str, Any]:
        """All fields."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One-row table."""
        return pd.DataFrame([self.to_dict()])

    def __str__(self) -> str:
        return (f"{self.outcome:<16} guided - unguided = {self.estimate:6.3f} "
                f"[{self.ci_lower:6.3f}, {self.ci_upper:6.3f}]  p={_p(self.pvalue)}  "
                f"({self.k_trials} trials, {self.k_effects} effects)")


@dataclass(frozen=True)
class RepoolResult:
    """Everything :func:`repool` found: subgroup pools, tests of difference, head-to-head pools."""

    effects: pd.DataFrame = field(repr=False)
    pooled: list[Pooled]
    differences: list[Difference]
    head_to_head: list[Pooled]
    contrasts: pd.DataFrame = field(repr=False)
    method: str = "REML"
    level: float = 95.0

    def pooled_for(self, outcome: str, group: str) -> Pooled | None:
        """The pool for an outcome and group (``"guided"``, ``"unguided"``), if there was one."""
        return next((p for p in self.pooled if p.outcome == outcome and p.group == group), None)

    def difference_for(self, outcome: str) -> Difference | None:
        """The test of guided vs unguided for an outcome, if both groups had enough trials."""
        return next((d for d in self.differences if d.outcome == outcome), None)

    def to_dict(self) -> dict[str, Any]:
        """Plain values: lists of pools, differences and head-to-head pools."""
        return {
            "method": self.method, "level": self.level,
            "pooled": [p.to_dict() for p in self.pooled],
            "differences": [d.to_dict() for d in self.differences],
            "head_to_head": [p.to_dict() for p in self.head_to_head],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per outcome x group, with the test of difference (``diff_*``) merged on the outcome."""
        pools = pd.DataFrame([p.to_dict() for p in [*self.pooled, *self.head_to_head]])
        if pools.empty:
            return pools
        diffs = pd.DataFrame([d.to_dict() for d in self.differences])
        if diffs.empty:
            return pools
        diffs = diffs.drop(columns=["model", "k_trials", "k_effects"]).add_prefix("diff_").rename(
            columns={"diff_outcome": "outcome"})
        return pools.merge(diffs, on="outcome", how="left")

    def __str__(self) -> str:
        lines = [f"Three-level random-effects pools (effects in trials; {self.method}; Hedges' g > 0 favours "
                 f"self-help; {self.level:g}% CI and PI)", ""]
        lines += [str(p) for p in self.pooled] or ["(no pool)"]
        lines += ["", "Test of difference (meta-regression on guided):"]
        lines += [str(d) for d in self.differences] or ["(no outcome with both guided and unguided trials)"]
        lines += ["", "Head-to-head (guided minus unguided arm, same trial):"]
        lines += [str(p) for p in self.head_to_head] or ["(none)"]
        return "\n".join(lines)


def repool(
    effects: pd.DataFrame, *, method: str = "REML", level: float = 95.0, min_trials: int = 2,
) -> RepoolResult:
    """Pool guided and unguided effects per outcome, test their difference, pool head-to-head contrasts.

    ``effects`` has :data:`EFFECT_COLUMNS` (from :func:`select_digital_selfhelp`). A group needs
    ``min_trials`` trials to be pooled; the test of difference needs it in both groups.
    """
    outcomes = [o for o in OUTCOMES if o in set(effects["outcome"])]
    outcomes += sorted(set(effects["outcome"]) - set(outcomes))
    pooled: list[Pooled] = []
    diffs: list[Difference] = []
    for outcome in outcomes:
        sub = effects[effects["outcome"] == outcome]
        enough = {g: sub.loc[sub["guidance"] == g, "trial"].nunique() >= min_trials for g in GUIDANCE}
        pooled += [pool_three_level(sub[sub["guidance"] == g], outcome, g, method=method, level=level)
                   for g in GUIDANCE if enough[g]]
        if all(enough.values()):
            diffs.append(_difference(sub, outcome, method=method, level=level))
    contrasts = head_to_head_contrasts(effects)
    h2h = [
        pool_three_level(c, str(outcome), "head-to-head", method=method, level=level)
        for outcome, c in contrasts.groupby("outcome", sort=False)
        if c["trial"].nunique() >= min_trials
    ]
    return RepoolResult(effects, pooled, diffs, h2h, contrasts, method, level)


def pool_three_level(
    effects: pd.DataFrame, outcome: str, group: str, *, method: str = "REML", level: float = 95.0,
) -> Pooled:
    """Three-level pool (``yi``, ``vi`` with effects nested in ``trial``) as a :class:`Pooled`.

    Where every trial contributes a single effect the model is the usual two-level one (``meta``).
    """
    fit = _fit(effects, None, method=method, level=level)
    n = (effects["n_arm1"].fillna(0) + effects["n_arm2"].fillna(0)).groupby(effects["trial"]).max()
    return Pooled(
        outcome=outcome, group=group, model=fit.model, k_trials=int(effects["trial"].nunique()),
        k_effects=len(effects), n_participants=int(n.sum()), estimate=fit.coef[0], se=fit.se[0],
        ci_lower=fit.ci_lower[0], ci_upper=fit.ci_upper[0], pvalue=fit.pvalue[0], pi_lower=fit.pi[0],
        pi_upper=fit.pi[1], sigma2_trial=fit.sigma2[0], sigma2_effect=fit.sigma2[1],
        effects=effects.reset_index(drop=True),
    )


def _difference(sub: pd.DataFrame, outcome: str, *, method: str, level: float) -> Difference:
    """Guided minus unguided: the ``guided`` coefficient of a meta-regression (three-level where a trial
    has several effects, else the two-level ``meta_reg``)."""
    fit = _fit(sub, sub["guided"].to_numpy(float), method=method, level=level)
    return Difference(outcome, fit.model, int(sub["trial"].nunique()), len(sub), fit.coef[1], fit.se[1],
                      fit.ci_lower[1], fit.ci_upper[1], fit.pvalue[1])


@dataclass(frozen=True)
class _Fit:
    model: str
    coef: list[float]
    se: list[float]
    ci_lower: list[float]
    ci_upper: list[float]
    pvalue: list[float]
    sigma2: tuple[float, float]
    pi: tuple[float, float]


def _fit(effects: pd.DataFrame, mods: np.ndarray | None, *, method: str, level: float) -> _Fit:
    """meta_mv (effects in trials); ``meta``/``meta_reg`` when no trial has more than one effect."""
    yi, vi = effects["yi"].to_numpy(float), effects["vi"].to_numpy(float)
    if effects["trial"].nunique() < len(effects):
        mv = meta_mv(yi, vi, effects["trial"].to_numpy(), mods=mods, method=method, level=level)
        return _Fit("three-level", _floats(mv.coef), _floats(mv.se_coef), _floats(mv.ci_lower_coef),
                    _floats(mv.ci_upper_coef), _floats(mv.pvalue_coef), (mv.sigma2_cluster, mv.sigma2_effect),
                    (mv.pi_lower, mv.pi_upper))
    if mods is not None:
        r = meta_reg(yi, vi, mods=mods, method=method, level=level)
        return _Fit("two-level", _floats(r.estimates), _floats(r.se), _floats(r.ci_lower),
                    _floats(r.ci_upper), _floats(r.pvalue), (r.tau2, 0.0), (math.nan, math.nan))
    m = meta(yi, vi, method=method, level=level)
    return _Fit("two-level", [m.estimate], [m.se], [m.ci_lower], [m.ci_upper], [m.pvalue], (m.tau2, 0.0),
                (m.pi_lower, m.pi_upper))


def _floats(values: Any) -> list[float]:
    return [float(x) for x in np.asarray(values, dtype=float)]


def instrument_key(name: str) -> str:
    """Instrument names made comparable across databases: ``"BDI-II"``, ``"bdi-2"`` -> ``"bdi2"``.

    Example::

        >>> instrument_key("BDI-II") == instrument_key("bdi-2")
        True
    """
    roman = re.sub(r"[\s_-]+ii$", "2", str(name).strip().lower())
    return "".join(ch for ch in roman if ch.isalnum())


def head_to_head_contrasts(effects: pd.DataFrame) -> pd.DataFrame:
    """Guided minus unguided g for each trial with both arms on the same instrument and control.

    The two g share the control group, so their covariance is taken as ``1/n_c + g1*g2 / (2N)``
    (Gleser & Olkin 2009, the Handbook of Research Synthesis, multiple-treatment SMDs; ``N`` = all three
    arms); where a control size is missing the covariance is set to 0 (a conservative variance).
    """
    keys = ["outcome", "trial", "instrument", "arm2"]
    g = effects[effects["guidance"] == "guided"]
    u = effects[effects["guidance"] == "unguided"]
    pairs = g.merge(u, on=keys, suffixes=("_g", "_u"))
    if pairs.empty:
        return pd.DataFrame(columns=[*keys, "study", "yi", "vi", "n_arm1", "n_arm2", "effect_id"])
    nc = pairs["n_arm2_g"].fillna(pairs["n_arm2_u"])
    total = pairs["n_arm1_g"] + pairs["n_arm1_u"] + nc
    cov = (1 / nc + pairs["yi_g"] * pairs["yi_u"] / (2 * total)).fillna(0.0)
    vi = pairs["vi_g"] + pairs["vi_u"] - 2 * cov
    vi = vi.where(vi > 0, pairs["vi_g"] + pairs["vi_u"])
    return pd.DataFrame({
        **{k: pairs[k] for k in keys}, "study": pairs["study_g"], "guidance": "head-to-head",
        "yi": pairs["yi_g"] - pairs["yi_u"], "vi": vi,
        "n_arm1": pairs["n_arm1_g"], "n_arm2": pairs["n_arm1_u"],
        "effect_id": pairs["effect_id_g"] + " - " + pairs["effect_id_u"],
    }).reset_index(drop=True)


def trial_level(effects: pd.DataFrame) -> pd.DataFrame:
    """One effect per trial (mean g, variance assuming effects within a trial correlate fully: mean SE²).

    For tests that assume independent effects (Egger, excess significance, credibility criteria).
    """
    grouped = effects.assign(se=np.sqrt(effects["vi"]), n=effects["n_arm1"] + effects["n_arm2"]).groupby(
        "trial", sort=False)
    out = grouped.agg(study=("study", "first"), yi=("yi", "mean"), se=("se", "mean"), n=("n", "max"))
    out["vi"] = out["se"] ** 2
    return out.reset_index()


def _p(p: float) -> str:
    return "<.0001" if p < 1e-4 else f"{p:.4f}"
