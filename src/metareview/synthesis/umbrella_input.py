"""Input in metaumbrella's "well-formatted" layout (CSV or Excel), read as metaumbrella 1.1.0 reads it.

metaumbrella (Gosling et al., R package, CRAN) takes one row per primary-study effect with the columns
``meta_review, factor, author, year, measure`` and, depending on the measure, ``value`` with ``ci_lo,
ci_up`` and/or ``se``, ``n_cases, n_controls``, 2x2 counts (``n_cases_exp, n_cases_nexp,
n_controls_exp, n_controls_nexp``; for RR ``n_exp, n_nexp``), means and SDs (``mean_cases, sd_cases,
mean_controls, sd_controls``), and optionally ``multiple_es``, ``r``, ``rob``, ``rob1_report`` /
``rob2_report``, ``indirectness``, ``amstar``, ``reverse_es``, ``discard``. :func:`read_umbrella` turns
such a table (``.csv``, or ``.xlsx`` like ``umbrella.xls``) into one :class:`UmbrellaFactor` per
``factor``, on metaumbrella's analysis scale::

    >>> data = read_umbrella("df.OR.csv")                    # doctest: +SKIP
    >>> [f.name for f in data.factors]                        # doctest: +SKIP
    ['ADHD', 'ASD', 'dyslexia', 'ID']

What metaumbrella does, and so what is done here (metaumbrella's R/functions_effectsize.R,
R/check_data.R, R/functions_multilevel.R; its vignette "Details on calculations"):

- **Which numbers a row's effect comes from.** A reported ``value`` with its 95% CI or SE comes first;
  the raw data (2x2 counts, means and SDs) only where it is missing. Ratios (OR, RR, HR, IRR) are
  analysed on the log scale, their SE taken from the CI as (log up − log low)/(2·1.959964).
- **Standardised mean differences are Hedges' g.** A ``value`` of measure SMD is Cohen's d: it is
  multiplied by the exact small-sample factor J(n_cases + n_controls − 2), and so is its SE; means and
  SDs give d with SE sqrt(N/(n1 n2) + d²/(2N)), then g = J d (Borenstein et al. 2009, eqs 4.18-4.24).
- **MD factors are pooled on the g scale** (metaumbrella's default ``summary(raw_md = FALSE)``): g from
  the means and SDs (else from the MD and its CI); the raw mean differences are kept in ``md_yi``/``md_vi``
  (SE sqrt(sd1²/n1 + sd2²/n2)) for a pooled MD.
- **Mixed measures in a factor**: any SMD/MD with OR/HR → the g scale (log OR × √3/π, Chinn 2000,
  then J); OR with RR/HR → log OR (HR taken as an OR; an RR row needs its 2x2 counts). Rows that cannot
  be used are listed in :attr:`UmbrellaData.dropped` with the reason.
- **What metaumbrella estimates when a row has less** (its manual's "Required information" tables; the
  vignette "Details on calculations", 2.2 and 2.4): an OR (or an HR pooled as one) with only its value and
  the numbers of cases and controls gets the mean variance of the 2x2 tables compatible with them; an RR in
  an OR factor without its 2x2 counts is converted through the 2x2 table that best matches the RR, its
  variance and those numbers; an SMD (or G) with only its value and the group sizes gets d's SE
  √(1/n1 + 1/n2), as does an OR or HR converted to g from its value and the group sizes alone.
- **Several effects of one study** (same ``author`` and ``year`` in a factor; ``multiple_es`` must say
  which kind, as metaumbrella requires): ``outcomes`` (or time points) are averaged with the variance of
  a mean of correlated effects, (Σv_i + 2 Σ_{i<j} r √(v_i v_j))/m², with the study's ``r`` column or the
  ``r`` argument (default 0.5; Borenstein et al. 2009, ch. 24), keeping the largest sample sizes;
  ``groups`` (independent subgroups) are pooled by inverse variance (ch. 23) and their sizes summed.
- ``compat="metaumbrella-1.1.0"`` reproduces three quirks of metaumbrella 1.1.0's aggregation so that its
  published numbers can be matched exactly: every aggregated ``outcomes`` (resp. ``groups``) study carries
  the 95% CI of the first such study of its factor (an ``ifelse`` on a scalar), aggregated ``outcomes``
  studies whose cases and controls differ get the factor's total of those studies as their sample size,
  and one ``r`` (the first given) is used for all ``outcomes`` studies of a factor. These change only
  which study is "the largest" and its CI (and the share of contradicting studies), never the pooled
  estimate; by default each aggregated study keeps its own CI and size.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from metareview.errors import InputError
from metareview.stats import escalc
from metareview.stats.errors import StatsInputError

REQUIRED = ("meta_review", "factor", "author", "year", "measure")
RATIO = frozenset({"OR", "RR", "HR", "IRR"})
SUPPORTED = frozenset({"OR", "RR", "HR", "IRR", "SMD", "MD", "G"})
_G_FAMILY = frozenset({"SMD", "MD", "G"})
_NUMERIC = ("value", "ci_lo", "ci_up", "se", "var", "n_cases", "n_controls", "n_sample", "n_exp", "n_nexp",
            "n_cases_exp", "n_cases_nexp", "n_controls_exp", "n_controls_nexp", "mean_cases", "sd_cases",
            "mean_controls", "sd_controls", "amstar", "r")
_LOG_OR_PER_D = math.pi / math.sqrt(3)  # Chinn 2000, Stat Med 19:3127
_Z975 = 1.959963984540054
COMPAT = ("metaumbrella-1.1.0",)


def hedges_j(df: Any) -> Any:
    """The exact small-sample correction J(df) = Γ(df/2) / (√(df/2) Γ((df − 1)/2)) (NaN for df ≤ 1)."""
    from scipy.special import gammaln

    d = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        j = np.exp(gammaln(d / 2) - 0.5 * np.log(d / 2) - gammaln((d - 1) / 2))
    return np.where(d > 1, j, np.nan)


@dataclass(frozen=True)
class UmbrellaFactor:
    """One meta-analysis (a ``factor``): one effect per study on the analysis scale, sizes, labels.

    ``measure`` is the analysis scale: OR/RR/HR/IRR (``yi`` is the log) or SMD (``yi`` is Hedges' g);
    ``input_measure`` the measure of the rows when it differs (``"MD"`` pooled on the g scale).
    ``ci_lower``/``ci_upper`` are each study's 95% CI as metaumbrella uses it (the largest study, studies
    contradicting the pooled effect); ``rob``/``report_rob`` each study's overall / selective-reporting
    risk of bias (1 low, 0 not low, NaN not given); ``rob_low_pct`` the % of participants in studies at
    low risk (the earlier summary; metaumbrella weights by meta-analytic weight, see credibility).
    """

    name: str
    meta_review: str
    measure: str
    yi: np.ndarray
    vi: np.ndarray
    n_cases: np.ndarray
    n_controls: np.ndarray
    studies: tuple[str, ...]
    rob_low_pct: float | None = None
    amstar: float | None = None
    ci_lower: np.ndarray | None = None
    ci_upper: np.ndarray | None = None
    n_sample: np.ndarray | None = None
    rob: np.ndarray | None = None
    report_rob: np.ndarray | None = None
    indirectness: str | None = None
    input_measure: str = ""
    md_yi: np.ndarray | None = None
    md_vi: np.ndarray | None = None

    @property
    def k(self) -> int:
        return len(self.yi)

    def to_frame(self) -> pd.DataFrame:
        nan = np.full(self.k, np.nan)
        return pd.DataFrame({
            "factor": self.name, "study": list(self.studies), "yi": self.yi, "vi": self.vi,
            "ci_lower": self.ci_lower if self.ci_lower is not None else nan,
            "ci_upper": self.ci_upper if self.ci_upper is not None else nan,
            "n_cases": self.n_cases, "n_controls": self.n_controls,
            "rob": self.rob if self.rob is not None else nan,
        })


@dataclass(frozen=True)
class UmbrellaData:
    """All factors of a well-formatted table, and the rows left out (with why)."""

    factors: tuple[UmbrellaFactor, ...]
    dropped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "factor", "reason"]))

    def factor(self, name: str) -> UmbrellaFactor:
        for f in self.factors:
            if f.name == name:
                return f
        raise KeyError(name)

    def to_frame(self) -> pd.DataFrame:
        return pd.concat([f.to_frame() for f in self.factors], ignore_index=True)

    def __str__(self) -> str:
        lines = [f"{len(self.factors)} factors, {sum(f.k for f in self.factors)} effects"
                 f" ({len(self.dropped)} rows left out)"]
        lines += [f"  {f.name:<30} {f.measure:<4} k={f.k:<4} cases={np.nansum(f.n_cases):g}"
                  for f in self.factors]
        return "\n".join(lines)


def read_umbrella(source: str | Path | pd.DataFrame, *, r: float = 0.5, sheet: int | str = 0,
                  compat: Literal["metaumbrella-1.1.0"] | None = None) -> UmbrellaData:
    """Read a metaumbrella well-formatted table (``.csv``/``.xlsx`` path or data frame).

    ``r``: the within-study correlation for studies with several ``outcomes`` and no ``r`` value
    (metaumbrella's ``umbrella(r = 0.5)``); ``sheet``: the Excel sheet (index or name); ``compat``: see
    the module docstring. Errors name the file, row (the spreadsheet row, header = 1) and column.
    """
    if not -1 <= r <= 1:
        raise InputError(f"r must be within [-1, 1], not {r}", field="r")
    if compat is not None and compat not in COMPAT:
        raise InputError(f"compat must be one of {COMPAT}", field="compat")
    name, frame, dropped = _prepare(source, sheet)
    factors: list[UmbrellaFactor] = []
    for fac, sub in frame.groupby("factor", sort=False):
        fac_rows, lost = _effects(sub, name)
        dropped += lost
        if fac_rows.empty:
            continue
        factors.append(_factor(str(fac), fac_rows, sub, name, r, compat))
    return UmbrellaData(tuple(factors), pd.DataFrame(dropped, columns=["row", "factor", "reason"]))


def row_effects(source: str | Path | pd.DataFrame, *, sheet: int | str = 0) -> pd.DataFrame:
    """Each row's effect on its own measure's analysis scale, computed as :func:`read_umbrella` computes it
    before a study's several effects are merged: so that a table of these effects (value and SE), read back
    with :func:`read_umbrella`, pools to the same numbers.

    One row per input row (spreadsheet order): ``row`` (the spreadsheet row, header = 1), ``factor``,
    ``measure`` (the input measure), ``scale`` (``"log"`` for OR/RR/HR/IRR: ``yi`` is the log ratio;
    ``"g"`` for SMD, G and MD: ``yi`` is Hedges' g, so a metaumbrella SMD, Cohen's d, comes out converted
    with J and its SE with it), ``yi``, ``vi``, ``se``, ``ci_lower``/``ci_upper`` (the 95% CI on that scale:
    t-based for g as metaumbrella's, z-based for ratios) and ``reason`` (why no effect, else empty; ``yi`` is
    then NaN). An OR or HR in a factor pooled as g gets the log OR and SE that give, by Chinn's formula and
    J, the g and SE the factor pools (where the row has only its value and group sizes, metaumbrella's SE
    for that scale)::

        >>> eff = row_effects("df.radua2019.csv")             # doctest: +SKIP
        >>> eff.loc[eff.measure == "SMD", ["yi", "se"]]        # Hedges' g and its SE  # doctest: +SKIP
    """
    name, frame, _ = _prepare(source, sheet)
    found: dict[int, dict[str, Any]] = {}
    why: dict[int, str] = {}
    for _, sub in frame.groupby("measure", sort=False):  # each row on its own measure's scale
        rows, lost = _effects(sub, name)
        why |= {int(x["row"]): str(x["reason"]) for x in lost}
        for x in rows.to_dict("records"):
            found[int(x["_row"])] = {"yi": float(x["yi"]), "vi": float(x["vi"]),
                                     "ci_lower": float(x["ci_lower"]), "ci_upper": float(x["ci_upper"])}
    for _, sub in frame.groupby("factor", sort=False):  # ORs and HRs of a factor pooled as g
        if _target(set(sub["measure"])) != "SMD" or not sub["measure"].isin(["OR", "HR"]).any():
            continue
        rows, _ = _effects(sub, name)
        for x in rows.to_dict("records"):
            if x["input"] not in ("OR", "HR"):
                continue
            j = float(hedges_j(float(x["n_cases"]) + float(x["n_controls"]) - 2))
            y, se_ = float(x["yi"]) / j * _LOG_OR_PER_D, math.sqrt(float(x["vi"])) / j * _LOG_OR_PER_D
            found[int(x["_row"])] = {"yi": y, "vi": se_**2, "ci_lower": y - _Z975 * se_,
                                     "ci_upper": y + _Z975 * se_}
            why.pop(int(x["_row"]), None)
    out = []
    for r_, fac, measure in zip(frame["_row"], frame["factor"], frame["measure"], strict=True):
        rec: dict[str, Any] = {"row": int(r_), "factor": str(fac), "measure": str(measure),
                               "scale": "log" if measure in RATIO else "g"}
        got = found.get(int(r_))
        if got is not None:
            rec |= got | {"se": math.sqrt(got["vi"]), "reason": ""}
        else:
            rec |= dict.fromkeys(("yi", "vi", "se", "ci_lower", "ci_upper"), math.nan)
            rec["reason"] = why.get(int(r_), "not usable")
        out.append(rec)
    cols = ["row", "factor", "measure", "scale", "yi", "vi", "se", "ci_lower", "ci_upper", "reason"]
    return pd.DataFrame(out, columns=cols)


def read_table(source: str | Path | pd.DataFrame, sheet: int | str = 0) -> pd.DataFrame:
    """The raw well-formatted table of a ``.csv``/``.xlsx`` file (checked like :func:`read_umbrella`)."""
    return _load(source, sheet)[1]


# --- reading -------------------------------------------------------------------------------------


def _prepare(source: str | Path | pd.DataFrame, sheet: int | str) -> tuple[str, pd.DataFrame,
                                                                          list[dict[str, Any]]]:
    """The table checked and typed (name, frame with ``_row``, rows discarded by the ``discard`` column)."""
    name, frame = _load(source, sheet)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(f"missing required column(s) {missing}", file=name, line=1, field=missing[0])
    frame = frame.reset_index(drop=True)
    frame["_row"] = np.arange(2, len(frame) + 2)  # spreadsheet row (header = 1)
    dropped: list[dict[str, Any]] = []
    if "discard" in frame.columns:
        gone = frame["discard"].astype(str).str.strip().str.lower().isin(["yes", "remove", "removed", "true"])
        dropped += [{"row": int(r_), "factor": str(f), "reason": "discard column"}
                    for r_, f in zip(frame.loc[gone, "_row"], frame.loc[gone, "factor"], strict=True)]
        frame = frame[~gone].reset_index(drop=True)
    frame["measure"] = frame["measure"].astype(str).str.strip().str.upper()
    bad = ~frame["measure"].isin(SUPPORTED)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"unsupported measure {frame['measure'].iloc[i]!r} (supported: {sorted(SUPPORTED)})",
                         file=name, line=int(frame["_row"].iloc[i]), field="measure")
    frame["author"] = frame["author"].map(_text)
    frame["year"] = frame["year"].map(_text)
    frame["factor"] = frame["factor"].map(_text)
    for col in _NUMERIC:
        if col in frame.columns:
            frame[col] = _numeric(frame[col], col, frame["_row"], name)
    return name, frame, dropped


def _load(source: str | Path | pd.DataFrame, sheet: int | str) -> tuple[str, pd.DataFrame]:
    if isinstance(source, pd.DataFrame):
        return "<data frame>", source.copy()
    path = Path(source)
    if not path.is_file():
        raise InputError("file not found", file=path)
    try:
        if path.suffix.lower() in {".xlsx", ".xlsm"}:
            from metareview.records.table_reader import check_xlsx

            check_xlsx(path)
            frame = pd.read_excel(path, sheet_name=sheet, engine="openpyxl")
        elif path.suffix.lower() == ".xls":
            raise InputError("the old .xls format is not read: save the workbook as .xlsx", file=path)
        else:
            frame = pd.read_csv(path)
    except InputError:
        raise
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"cannot read: {exc}", file=path) from exc
    return str(path), frame


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _numeric(col: pd.Series, name: str, rows: pd.Series, file: str) -> pd.Series:
    out = pd.to_numeric(col, errors="coerce")
    blank = col.astype(str).str.strip().str.upper().isin(["", "NA", "NAN", "N/A", "NONE"])
    bad = out.isna() & col.notna() & ~blank
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"not a number: {col.iloc[i]!r}", file=file, line=int(rows.iloc[i]), field=name)
    return out.astype(float)


def _col(sub: pd.DataFrame, column: str) -> np.ndarray:
    if column not in sub.columns:
        return np.full(len(sub), np.nan)
    return sub[column].to_numpy(dtype=float)


def _have(*arrays: np.ndarray) -> np.ndarray:
    ok = np.ones(len(arrays[0]), dtype=bool)
    for a in arrays:
        ok &= np.isfinite(a)
    return ok


def _target(measures: set[str]) -> str | None:
    """metaumbrella's analysis measure for a factor mixing ``measures`` (None: cannot be combined)."""
    if len(measures) == 1:
        m = next(iter(measures))
        return "SMD" if m in _G_FAMILY else m
    if measures & _G_FAMILY and not measures & {"RR", "IRR"}:
        return "SMD" if measures <= _G_FAMILY | {"OR", "HR"} else None
    if measures <= {"OR", "RR", "HR"}:
        return "OR"
    return None


def _effects(sub: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Per-row yi, vi, CI, sizes on the factor's scale; rows that cannot be used, with why."""
    measure = sub["measure"].to_numpy()
    target = _target(set(measure))
    n = len(sub)
    c = {k: _col(sub, k) for k in _NUMERIC}
    rows_ = sub["_row"].to_numpy()
    if target is None:
        return pd.DataFrame(), [{"row": int(r_), "factor": str(sub["factor"].iloc[0]),
                                 "reason": f"measures {sorted(set(measure))} cannot be combined"}
                                for r_ in rows_]
    # sample sizes (metaumbrella R/check_data.R: marginals as sums, then complements)
    n_cases = np.where(np.isfinite(c["n_cases"]), c["n_cases"], c["n_cases_exp"] + c["n_cases_nexp"])
    n_controls = np.where(np.isfinite(c["n_controls"]), c["n_controls"],
                          c["n_controls_exp"] + c["n_controls_nexp"])
    n_exp = np.where(np.isfinite(c["n_exp"]), c["n_exp"], c["n_cases_exp"] + c["n_controls_exp"])
    n_nexp = np.where(np.isfinite(c["n_nexp"]), c["n_nexp"], c["n_cases_nexp"] + c["n_controls_nexp"])
    n_controls = np.where(np.isfinite(n_controls), n_controls, n_exp + n_nexp - n_cases)
    n_sample = np.where(np.isfinite(c["n_sample"]), c["n_sample"],
                        np.where(measure == "IRR", n_cases, n_cases + n_controls))
    se = np.where(np.isfinite(c["se"]), c["se"], np.sqrt(c["var"]))
    yi, vi = np.full(n, np.nan), np.full(n, np.nan)
    lo, hi = np.full(n, np.nan), np.full(n, np.nan)
    md_y, md_v = np.full(n, np.nan), np.full(n, np.nan)
    reason = np.full(n, "", dtype=object)
    reverse = (sub["reverse_es"].astype(str).str.strip().str.lower().str.startswith("revers").to_numpy()
               if "reverse_es" in sub.columns else np.zeros(n, dtype=bool))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(n):
            try:
                got = _row_effect(measure[i], target, i, c, se, n_cases, n_controls, n_exp, n_nexp)
            except StatsInputError as exc:
                raise InputError(exc.message, file=file, line=int(rows_[i]),
                                 field=exc.field or "value") from exc
            if isinstance(got, str):
                reason[i] = got
                continue
            y, v, ci, md = got
            if reverse[i]:
                y, ci, md = -y, (-ci[1], -ci[0]), (-md[0], md[1])
            yi[i], vi[i], (lo[i], hi[i]), (md_y[i], md_v[i]) = y, v, ci, md
    usable = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
    lost = [{"row": int(rows_[i]), "factor": str(sub["factor"].iloc[i]),
             "reason": reason[i] or "no counts, means/SDs, CI or SE to compute an effect from"}
            for i in np.flatnonzero(~usable)]
    out = pd.DataFrame({
        "_row": rows_, "meta_review": sub["meta_review"].astype(str).to_numpy(),
        "author": sub["author"].to_numpy(), "year": sub["year"].to_numpy(), "yi": yi, "vi": vi,
        "ci_lower": lo, "ci_upper": hi, "n_cases": n_cases, "n_controls": n_controls, "n_sample": n_sample,
        "md_yi": md_y, "md_vi": md_v, "measure": target, "input": measure,
        "multiple_es": sub["multiple_es"].map(_text).str.lower().to_numpy() if "multiple_es" in sub else "",
        "r": c["r"], "rob": _rob(sub, "rob"), "report_rob": _report_rob(sub), "amstar": c["amstar"],
    })[usable]
    return out, lost


def _rob(sub: pd.DataFrame, column: str) -> np.ndarray:
    """1 where the judgement is "low", 0 for any other judgement, NaN where none is given."""
    if column not in sub.columns:
        return np.full(len(sub), np.nan)
    text = sub[column].map(_text).str.lower()
    return np.where(text == "", np.nan, (text == "low").astype(float))


def _report_rob(sub: pd.DataFrame) -> np.ndarray:
    two, one = _rob(sub, "rob2_report"), _rob(sub, "rob1_report")
    return np.where(np.isfinite(two), two, one)


def _ci_se(value: float, low: float, high: float, se: float, *, log: bool, df: float) -> tuple[float, float,
                                                                                          float, float]:
    """(y, se, ci_low, ci_high) on the analysis scale from a reported value with its CI and/or SE."""
    crit = float(_t975(df)) if np.isfinite(df) else _Z975
    if log:
        if not value > 0 or (np.isfinite(low) and not low > 0):
            raise StatsInputError("a ratio and its CI must be > 0", field="value")
        value, low, high = math.log(value), math.log(low) if np.isfinite(low) else low, \
            math.log(high) if np.isfinite(high) else high
        crit = _Z975
    if np.isfinite(low) and not np.isfinite(high):
        high = 2 * value - low
    if np.isfinite(high) and not np.isfinite(low):
        low = 2 * value - high
    if not np.isfinite(se) and np.isfinite(low):
        if high < low:
            raise StatsInputError("ci_up is below ci_lo", field="ci_up")
        se = (high - low) / (2 * crit)
    if np.isfinite(se) and not np.isfinite(low):
        low, high = value - crit * se, value + crit * se
    return value, se, low, high


def _t975(df: Any) -> Any:
    from scipy import stats

    return stats.t.ppf(0.975, df)


def _g_from_d(d: float, d_se: float | None, n1: float, n2: float) -> tuple[float, float, float, float]:
    """Hedges' g, its variance and 95% CI (t, n1 + n2 − 2 df) from d (SE from the formula if not given)."""
    big_n = n1 + n2
    if d_se is None:
        d_se = math.sqrt(big_n / (n1 * n2) + d * d / (2 * big_n))
    j = float(hedges_j(big_n - 2))
    g, g_se = d * j, d_se * j
    crit = float(_t975(big_n - 2))
    return g, g_se**2, g - crit * g_se, g + crit * g_se


def _sizes_ok(n1: float, n2: float) -> bool:
    return bool(np.isfinite(n1) and np.isfinite(n2) and n1 >= 2 and n2 >= 2)


def _var_from_or(odds_ratio: float, n_cases: float, n_controls: float) -> float:
    """The variance of log OR from the OR and the numbers of cases and controls alone, as metaumbrella 1.1.0
    estimates it (R/estimate_or.R, ``.estimate_se_from_or``; its vignette "Details on calculations", 2.2.1):
    for every split of the cases into exposed (1 to n_cases − 1) and non-exposed, the exposed controls that
    give this OR (rounded; splits with fewer than 1 or more than n_controls − 1 dropped), and the mean of the
    tables' variances 1/a + 1/b + 1/c + 1/d."""
    ca_ex = np.arange(1.0, n_cases)  # R: 1:(n_cases - 1)
    ca_ne = n_cases - ca_ex
    co_ex = np.round(n_controls / (1 + ca_ne * odds_ratio / ca_ex))
    co_ex[(co_ex < 1) | (co_ex > n_controls - 1)] = np.nan
    co_ne = n_controls - co_ex
    v = 1 / ca_ex + 1 / ca_ne + 1 / co_ex + 1 / co_ne
    return float(np.nanmean(v)) if np.isfinite(v).any() else math.nan


def _counts_from_rr(rr: float, var: float, n_cases: float, n_controls: float
                    ) -> tuple[float, float, float, float] | None:
    """The 2x2 table (cases exposed, cases non-exposed, controls exposed, controls non-exposed) metaumbrella
    1.1.0 takes for a risk ratio with its variance and the numbers of cases and controls, to convert it to
    an OR (R/estimate_n_from_es.R, ``.estimate_n_from_rr``; vignette "Details on calculations", 2.4,
    situation 4): among the tables giving this RR (for each number of non-exposed cases, the non-exposed
    controls, rounded, all four cells positive; and the unrounded 0.5-corrected ones with an empty but no
    negative cell), the first whose 1/a + 1/n_exp + 1/c + 1/n_nexp is closest to ``var`` (metaumbrella's
    own expression, with plus signs, is kept so that the same table is chosen)."""
    big_n = n_cases + n_controls
    nce = np.arange(0.0, n_cases + 1)  # R: 0:n_cases
    with np.errstate(divide="ignore", invalid="ignore"):
        nco1 = np.round(nce * ((rr * big_n) / (n_cases + (rr - 1) * nce) - 1))
        keep1 = (nce > 0) & (nco1 > 0) & (n_cases - nce > 0) & (n_controls - nco1 > 0)
        nco2 = ((big_n - nce + 1)
                - (big_n + 2) * (n_cases - nce + 0.5) / ((nce + 0.5) * rr + n_cases - nce + 0.5))
        ce2, co2 = n_cases - nce, n_controls - nco2
        keep2 = (((nce == 0) | (nco2 == 0) | (ce2 == 0) | (co2 == 0))
                 & (nce >= 0) & (nco2 >= 0) & (ce2 >= 0) & (co2 >= 0))
        cases_ne = np.concatenate([nce[keep1], nce[keep2]])
        controls_ne = np.concatenate([nco1[keep1], nco2[keep2]])
        var_sim = (1 / (n_cases - cases_ne) + 1 / (big_n - (cases_ne + controls_ne)) + 1 / cases_ne
                   + 1 / (cases_ne + controls_ne))
        gap = (var_sim - var) ** 2
    if gap.size == 0:
        return None
    best = int(np.argmin(np.where(np.isnan(gap), np.inf, gap)))
    a_ne, c_ne = float(cases_ne[best]), float(controls_ne[best])
    return n_cases - a_ne, a_ne, n_controls - c_ne, c_ne


def _row_effect(m: str, target: str, i: int, c: dict[str, np.ndarray], se: np.ndarray, n_cases: np.ndarray,
                n_controls: np.ndarray, n_exp: np.ndarray, n_nexp: np.ndarray
                ) -> tuple[float, float, tuple[float, float], tuple[float, float]] | str:
    """One row's effect on the ``target`` scale: (yi, vi, (ci_low, ci_high), (md, md variance)) or why not."""
    nan2 = (math.nan, math.nan)
    val, low, high, s = c["value"][i], c["ci_lo"][i], c["ci_up"][i], se[i]
    n1, n2 = n_cases[i], n_controls[i]
    has_value = np.isfinite(val) and (np.isfinite(s) or np.isfinite(low) or np.isfinite(high))
    if not np.isfinite(val) and np.isfinite(low) and np.isfinite(high):  # metaumbrella: the CI's midpoint
        val = math.exp((math.log(low) + math.log(high)) / 2) if m in RATIO and low > 0 else (low + high) / 2
        has_value = True
    counts = _have(*(c[k][i:i + 1] for k in ("n_cases_exp", "n_cases_nexp", "n_controls_exp",
                                           "n_controls_nexp")))[0]
    means = _have(*(c[k][i:i + 1] for k in ("mean_cases", "sd_cases", "mean_controls", "sd_controls")))[0] \
        and np.isfinite(n1) and np.isfinite(n2)
    if target == "SMD":
        df = n1 + n2 - 2 if np.isfinite(n1 + n2) else math.nan
        if m == "MD":
            md: tuple[float, float] = nan2
            if means:
                md_se = math.sqrt(c["sd_cases"][i] ** 2 / n1 + c["sd_controls"][i] ** 2 / n2)
                md = (c["mean_cases"][i] - c["mean_controls"][i], md_se**2)
                pooled = math.sqrt(((n1 - 1) * c["sd_cases"][i] ** 2 + (n2 - 1) * c["sd_controls"][i] ** 2)
                                   / (n1 + n2 - 2))
                g, v, lo_, hi_ = _g_from_d(md[0] / pooled, None, n1, n2)
                return g, v, (lo_, hi_), md
            if has_value and np.isfinite(df):
                y, y_se, _, _ = _ci_se(val, low, high, s, log=False, df=df)
                g, v, lo_, hi_ = _g_from_d(y / (y_se / math.sqrt(1 / n1 + 1 / n2)), None, n1, n2)
                return g, v, (lo_, hi_), (y, y_se**2)
            return "an MD needs means and SDs, or a value with its CI or SE and both group sizes"
        if m in {"SMD", "G"}:
            if has_value:
                y, y_se, _, _ = _ci_se(val, low, high, s, log=False, df=df)
                if not np.isfinite(df):  # metaumbrella: N from d and its SE, split in two
                    big_n = round((2 + y * y / 4) / y_se**2) * 2
                    n1 = n2 = round(big_n / 2)
                if m == "G":
                    crit = float(_t975(n1 + n2 - 2))
                    return y, y_se**2, (y - crit * y_se, y + crit * y_se), nan2
                g, v, lo_, hi_ = _g_from_d(y, y_se, n1, n2)
                return g, v, (lo_, hi_), nan2
            if means:
                pooled = math.sqrt(((n1 - 1) * c["sd_cases"][i] ** 2 + (n2 - 1) * c["sd_controls"][i] ** 2)
                                   / (n1 + n2 - 2))
                d = (c["mean_cases"][i] - c["mean_controls"][i]) / pooled
                g, v, lo_, hi_ = _g_from_d(d, None, n1, n2)
                return g, v, (lo_, hi_), nan2
            if np.isfinite(val) and _sizes_ok(n1, n2):  # metaumbrella: value + sizes, d's SE √(1/n1+1/n2)
                d = val if m == "SMD" else val / float(hedges_j(n1 + n2 - 2))
                g, v, lo_, hi_ = _g_from_d(d, math.sqrt(1 / n1 + 1 / n2), n1, n2)
                return g, v, (lo_, hi_), nan2
            return "no value with CI or SE or both group sizes, nor means and SDs"
        # an OR or HR in a factor pooled as g: log OR → d (Chinn 2000), then J
        if (m in {"OR", "HR"} and not has_value and not counts and np.isfinite(val) and val > 0
                and _sizes_ok(n1, n2)):  # metaumbrella: value + group sizes, then d's SE √(1/n1+1/n2)
            g, gv, lo_, hi_ = _g_from_d(math.log(val) / _LOG_OR_PER_D, math.sqrt(1 / n1 + 1 / n2), n1, n2)
            return g, gv, (lo_, hi_), nan2
        got = _row_effect(m, "OR", i, c, se, n_cases, n_controls, n_exp, n_nexp)
        if isinstance(got, str):
            return got
        y, v, _, _ = got
        if not np.isfinite(n1 + n2):
            return "an OR converted to g needs n_cases and n_controls"
        g, gv, lo_, hi_ = _g_from_d(y / _LOG_OR_PER_D, math.sqrt(v) / _LOG_OR_PER_D, n1, n2)
        return g, gv, (lo_, hi_), nan2
    # ratio scales
    if m == target or (target == "OR" and m == "HR"):
        if has_value:
            y, y_se, lo_, hi_ = _ci_se(val, low, high, s, log=True, df=math.nan)
            return y, y_se**2, (lo_, hi_), nan2
    if target in {"OR", "RR"} and m in {"OR", "RR"} and counts:
        es = escalc(target, ai=c["n_cases_exp"][i:i + 1], bi=c["n_controls_exp"][i:i + 1],
                    ci=c["n_cases_nexp"][i:i + 1], di=c["n_controls_nexp"][i:i + 1]) if target == "OR" else \
            escalc("RR", ai=c["n_cases_exp"][i:i + 1], n1i=n_exp[i:i + 1], ci=c["n_cases_nexp"][i:i + 1],
                   n2i=n_nexp[i:i + 1])
        y, v = float(es.yi[0]), float(es.vi[0])
        return y, v, (y - _Z975 * math.sqrt(v), y + _Z975 * math.sqrt(v)), nan2
    if target == "OR" and m in {"OR", "HR"} and np.isfinite(val) and val > 0 and _sizes_ok(n1, n2):
        # metaumbrella's OR "value + n_cases + n_controls": the mean variance of the compatible 2x2 tables
        v = _var_from_or(val, n1, n2)
        if np.isfinite(v) and v > 0:
            y = math.log(val)
            return y, v, (y - _Z975 * math.sqrt(v), y + _Z975 * math.sqrt(v)), nan2
    if target == "OR" and m == "RR" and has_value and _sizes_ok(n1, n2):
        # metaumbrella's RR -> OR without the 2x2 counts: the table that best matches RR and its variance
        y, y_se, _, _ = _ci_se(val, low, high, s, log=True, df=math.nan)
        cells = _counts_from_rr(math.exp(y), y_se**2, n1, n2)
        if cells is not None:
            es = escalc("OR", ai=[cells[0]], bi=[cells[2]], ci=[cells[1]], di=[cells[3]])
            y, v = float(es.yi[0]), float(es.vi[0])
            return y, v, (y - _Z975 * math.sqrt(v), y + _Z975 * math.sqrt(v)), nan2
    if target == "RR" and m == "RR" and _have(c["n_cases_exp"][i:i + 1], n_exp[i:i + 1],
                                              c["n_cases_nexp"][i:i + 1], n_nexp[i:i + 1])[0]:
        es = escalc("RR", ai=c["n_cases_exp"][i:i + 1], n1i=n_exp[i:i + 1], ci=c["n_cases_nexp"][i:i + 1],
                    n2i=n_nexp[i:i + 1])
        y, v = float(es.yi[0]), float(es.vi[0])
        return y, v, (y - _Z975 * math.sqrt(v), y + _Z975 * math.sqrt(v)), nan2
    if m != target and not (target == "OR" and m == "HR"):
        return f"measure {m} cannot be combined with {target} without its 2x2 counts"
    return "no value with CI or SE, nor counts to compute an effect from"


# --- one factor: several effects per study -------------------------------------------------------


def _factor(name: str, rows: pd.DataFrame, sub: pd.DataFrame, file: str, r: float,
            compat: str | None) -> UmbrellaFactor:
    rows = _merge_multiple(rows, file, r, compat, name)
    indirect = None
    if "indirectness" in sub.columns:
        levels = {_text(v).lower() for v in sub["indirectness"]} - {""}
        if len(levels) > 1:
            raise InputError(f"indirectness must be constant within factor {name!r}, got {sorted(levels)}",
                             file=file, line=int(sub["_row"].iloc[0]), field="indirectness")
        if levels:
            indirect = next(iter(levels))
            indirect = "no" if indirect in {"no indirectness", "no"} else indirect
            if indirect not in {"no", "serious", "very serious"}:
                raise InputError("indirectness must be 'no indirectness', 'serious' or 'very serious'",
                                 file=file, line=int(sub["_row"].iloc[0]), field="indirectness")
    rob = rows["rob"].to_numpy(dtype=float)
    n_total = (rows["n_cases"].fillna(0) + rows["n_controls"].fillna(0)).to_numpy()
    rob_pct = None
    known = np.isfinite(rob)
    if known.any() and n_total[known].sum() > 0:
        rob_pct = float(100 * np.sum(n_total[known] * rob[known]) / n_total[known].sum())
    amstar = rows["amstar"].dropna()
    input_measure = "MD" if set(rows["input"]) == {"MD"} else ""
    md_yi = rows["md_yi"].to_numpy(dtype=float) if input_measure == "MD" else None
    return UmbrellaFactor(
        name=name, meta_review=str(rows["meta_review"].iloc[0]), measure=str(rows["measure"].iloc[0]),
        yi=rows["yi"].to_numpy(dtype=float), vi=rows["vi"].to_numpy(dtype=float),
        n_cases=rows["n_cases"].to_numpy(dtype=float), n_controls=rows["n_controls"].to_numpy(dtype=float),
        studies=tuple(f"{a} {y}".strip() for a, y in zip(rows["author"], rows["year"], strict=True)),
        rob_low_pct=rob_pct, amstar=float(amstar.iloc[0]) if len(amstar) else None,
        ci_lower=rows["ci_lower"].to_numpy(dtype=float), ci_upper=rows["ci_upper"].to_numpy(dtype=float),
        n_sample=rows["n_sample"].to_numpy(dtype=float), rob=rob,
        report_rob=rows["report_rob"].to_numpy(dtype=float), indirectness=indirect,
        input_measure=input_measure, md_yi=md_yi,
        md_vi=rows["md_vi"].to_numpy(dtype=float) if input_measure == "MD" else None,
    )


def _merge_multiple(rows: pd.DataFrame, file: str, r: float, compat: str | None, name: str) -> pd.DataFrame:
    """One row per study (metaumbrella's order: aggregated groups, aggregated outcomes, single effects)."""
    key = rows["author"] + "\x00" + rows["year"]
    dup = key.duplicated(keep=False).to_numpy()
    if not dup.any():
        return rows.reset_index(drop=True)
    kind = rows["multiple_es"].replace({"outcome": "outcomes", "group": "groups"})
    bad = dup & ~kind.isin(["outcomes", "groups"]).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"study {rows['author'].iloc[i]} ({rows['year'].iloc[i]}) appears several times in "
                         f"factor {name!r}: say in multiple_es whether "
                         "its effects are 'outcomes' or 'groups'", file=file, line=int(rows["_row"].iloc[i]),
                         field="multiple_es")
    rows = rows.assign(_kind=kind.where(dup, ""), _key=key)
    groups_out, outcomes_out = [], []
    first_r = None
    for _, g in rows[dup].groupby("_key", sort=False):
        kinds = set(g["_kind"])
        if len(kinds) > 1:
            raise InputError(f"study {g['author'].iloc[0]} ({g['year'].iloc[0]}) mixes 'outcomes' and "
                             "'groups' in multiple_es", file=file, line=int(g["_row"].iloc[0]),
                             field="multiple_es")
        rs = set(g["r"].dropna())
        if len(rs) > 1:
            raise InputError(f"study {g['author'].iloc[0]} ({g['year'].iloc[0]}) has several r values",
                             file=file, line=int(g["_row"].iloc[0]), field="r")
        if kinds == {"groups"}:
            groups_out.append(_pool_groups(g))
        else:
            study_r = next(iter(rs)) if rs else r
            if compat and first_r is None:
                first_r = study_r
            outcomes_out.append(_mean_outcomes(g, first_r if compat and first_r is not None else study_r))
    grouped, outcomes = pd.DataFrame(groups_out), pd.DataFrame(outcomes_out)
    if compat == "metaumbrella-1.1.0":
        for part in (grouped, outcomes):
            if len(part):
                part["ci_lower"], part["ci_upper"] = part["ci_lower"].iloc[0], part["ci_upper"].iloc[0]
        if len(outcomes):
            unequal = outcomes["n_cases"] != outcomes["n_controls"]
            total = float((outcomes["n_cases"] + outcomes["n_controls"]).sum())
            outcomes.loc[unequal, "n_sample"] = total
    single = rows[~dup]
    return pd.concat([grouped, outcomes, single], ignore_index=True).drop(columns=["_kind", "_key"])


def _ci_of(y: float, v: float, n1: float, n2: float, measure: str) -> tuple[float, float]:
    crit = float(_t975(n1 + n2 - 2)) if measure == "SMD" and np.isfinite(n1 + n2) else _Z975
    return y - crit * math.sqrt(v), y + crit * math.sqrt(v)


def _pool_groups(g: pd.DataFrame) -> dict[str, Any]:
    """Independent subgroups of one study: the inverse-variance (fixed-effect) mean; sizes summed."""
    w = 1 / g["vi"].to_numpy()
    y = float(np.sum(w * g["yi"]) / w.sum())
    v = float(1 / w.sum())
    out: dict[str, Any] = {str(k_): v_ for k_, v_ in g.iloc[0].to_dict().items()}
    n1, n2 = float(g["n_cases"].sum()), float(g["n_controls"].sum())
    out |= {"yi": y, "vi": v, "n_cases": n1, "n_controls": n2, "n_sample": float(g["n_sample"].sum()),
            "rob": _mean_or_nan(g["rob"]), "report_rob": _mean_or_nan(g["report_rob"])}
    out["ci_lower"], out["ci_upper"] = _ci_of(y, v, n1, n2, str(g["measure"].iloc[0]))
    if np.isfinite(g["md_vi"]).all():
        mw = 1 / g["md_vi"].to_numpy()
        out |= {"md_yi": float(np.sum(mw * g["md_yi"]) / mw.sum()), "md_vi": float(1 / mw.sum())}
    return out


def _mean_outcomes(g: pd.DataFrame, r: float) -> dict[str, Any]:
    """Correlated outcomes of one study: their mean, with the variance of a mean of correlated effects."""
    se = np.sqrt(g["vi"].to_numpy())
    m = len(se)
    cov = r * np.outer(se, se)
    np.fill_diagonal(cov, se**2)
    y, v = float(g["yi"].mean()), float(cov.sum() / m**2)
    out: dict[str, Any] = {str(k_): v_ for k_, v_ in g.iloc[0].to_dict().items()}
    n1, n2 = float(g["n_cases"].max()), float(g["n_controls"].max())
    out |= {"yi": y, "vi": v, "n_cases": n1, "n_controls": n2, "n_sample": float(g["n_sample"].max()),
            "rob": _mean_or_nan(g["rob"]), "report_rob": _mean_or_nan(g["report_rob"]), "r": r}
    out["ci_lower"], out["ci_upper"] = _ci_of(y, v, n1, n2, str(g["measure"].iloc[0]))
    if np.isfinite(g["md_vi"]).all():
        mse = np.sqrt(g["md_vi"].to_numpy())
        mcov = r * np.outer(mse, mse)
        np.fill_diagonal(mcov, mse**2)
        out |= {"md_yi": float(g["md_yi"].mean()), "md_vi": float(mcov.sum() / m**2)}
    return out


def _mean_or_nan(s: pd.Series) -> float:
    vals = s.dropna()
    return float(vals.mean()) if len(vals) else math.nan
