"""Input in metaumbrella's "well-formatted" layout, accepted as is.

metaumbrella (Gosling et al., R package, CRAN) takes one row per primary-study effect with the columns
``meta_review, factor, author, year, measure`` and, depending on the measure, ``value, ci_lo, ci_up`` or
``se``, ``n_cases, n_controls``, 2x2 counts (``n_cases_exp, n_cases_nexp, n_controls_exp,
n_controls_nexp``; for RR ``n_exp, n_nexp``), means and SDs (``mean_cases, sd_cases, mean_controls,
sd_controls``), ``multiple_es``, ``rob``, ``amstar``. :func:`read_umbrella` turns such a table into one
:class:`UmbrellaFactor` (yi, vi on the analysis scale: log for ratios) per ``factor``::

    >>> data = read_umbrella("df.OR.csv")                    # doctest: +SKIP
    >>> [f.name for f in data.factors]                        # doctest: +SKIP
    ['ADHD', 'ASD', 'dyslexia', 'ID']

Effect sizes come from the rawest data a row has: 2x2 counts (OR, RR) or means and SDs (SMD as Hedges'
g, MD), else ``value`` with its 95% CI, else ``value`` with ``se``. Where a factor mixes SMD and OR rows,
the minority is converted to the majority's scale (log OR = d·π/√3, Chinn 2000); rows that cannot be
used (another measure, nothing to compute from) are listed in :attr:`UmbrellaData.dropped` with the
reason. Several effects of one study (``multiple_es``): "groups" are pooled by inverse variance,
"outcomes" are averaged with their variances averaged too (correlation 1, a conservative bound) — an
approximation of metaumbrella's handling, stated here so results can be compared knowingly.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metareview.errors import InputError
from metareview.stats import escalc
from metareview.stats.convert import from_ci
from metareview.stats.errors import StatsInputError

REQUIRED = ("meta_review", "factor", "author", "year", "measure")
RATIO = frozenset({"OR", "RR", "HR", "IRR"})
SUPPORTED = frozenset({"OR", "RR", "HR", "IRR", "SMD", "MD"})
_NUMERIC = ("value", "ci_lo", "ci_up", "se", "n_cases", "n_controls", "n_exp", "n_nexp", "n_cases_exp",
            "n_cases_nexp", "n_controls_exp", "n_controls_nexp", "mean_cases", "sd_cases", "mean_controls",
            "sd_controls")
_LOG_OR_PER_D = math.pi / math.sqrt(3)  # Chinn 2000, Stat Med 19:3127


@dataclass(frozen=True)
class UmbrellaFactor:
    """One meta-analysis (a ``factor``): effect sizes on the analysis scale, sample sizes, study labels."""

    name: str
    meta_review: str
    measure: str  # OR/RR/HR/IRR (yi is the log) or SMD/MD
    yi: np.ndarray
    vi: np.ndarray
    n_cases: np.ndarray
    n_controls: np.ndarray
    studies: tuple[str, ...]
    rob_low_pct: float | None = None  # % of participants in studies at low risk of bias, if `rob` given
    amstar: float | None = None

    @property
    def k(self) -> int:
        return len(self.yi)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"factor": self.name, "study": list(self.studies), "yi": self.yi, "vi": self.vi,
                             "n_cases": self.n_cases, "n_controls": self.n_controls})


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


def read_umbrella(source: str | Path | pd.DataFrame) -> UmbrellaData:
    """Read a metaumbrella well-formatted table (CSV path or data frame); errors name row and column."""
    name = str(source) if not isinstance(source, pd.DataFrame) else "<data frame>"
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
    else:
        try:
            frame = pd.read_csv(source)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read: {exc}", file=name) from exc
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(f"missing required column(s) {missing}", file=name, line=1, field=missing[0])
    frame["measure"] = frame["measure"].astype(str).str.strip().str.upper()
    frame["_row"] = np.arange(2, len(frame) + 2)  # spreadsheet row (header = 1)
    bad = ~frame["measure"].isin(SUPPORTED)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"unsupported measure {frame['measure'].iloc[i]!r} (supported: {sorted(SUPPORTED)})",
                         file=name, line=i + 2, field="measure")
    factors: list[UmbrellaFactor] = []
    dropped: list[dict[str, Any]] = []
    for fac, sub in frame.groupby("factor", sort=False):
        rows, lost = _effects(sub, name)
        dropped += lost
        if rows.empty:
            continue
        factors.append(_factor(str(fac), rows))
    return UmbrellaData(tuple(factors), pd.DataFrame(dropped, columns=["row", "factor", "reason"]))


# --- internals -----------------------------------------------------------------------------------


def _col(sub: pd.DataFrame, column: str) -> np.ndarray:
    if column not in sub.columns:
        return np.full(len(sub), np.nan)
    return pd.to_numeric(sub[column], errors="coerce").to_numpy(dtype=float)


def _have(*arrays: np.ndarray) -> np.ndarray:
    ok = np.ones(len(arrays[0]), dtype=bool)
    for a in arrays:
        ok &= np.isfinite(a)
    return ok


def _effects(sub: pd.DataFrame, file: str) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Per-row yi, vi, n_cases, n_controls on the factor's scale; rows that cannot be used, with why."""
    target = str(sub["measure"].value_counts().index[0])
    n = len(sub)
    yi, vi = np.full(n, np.nan), np.full(n, np.nan)
    measure = sub["measure"].to_numpy()
    c = {k: _col(sub, k) for k in _NUMERIC}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in set(measure):
            rows = measure == m
            _fill(m, rows, c, yi, vi, sub, file)
    n_cases = np.where(np.isfinite(c["n_cases"]), c["n_cases"], c["n_cases_exp"] + c["n_cases_nexp"])
    n_controls = np.where(np.isfinite(c["n_controls"]), c["n_controls"],
                          c["n_controls_exp"] + c["n_controls_nexp"])
    n_controls = np.where(np.isfinite(n_controls), n_controls,
                          c["n_exp"] + c["n_nexp"] - np.nan_to_num(n_cases))
    # bring SMD and OR onto the factor's scale
    if target in {"OR", "SMD"}:
        other = "SMD" if target == "OR" else "OR"
        conv = measure == other
        factor = _LOG_OR_PER_D if target == "OR" else 1 / _LOG_OR_PER_D
        yi[conv] *= factor
        vi[conv] *= factor**2
    usable = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
    lost = []
    for i in np.flatnonzero(~usable | ~_same_scale(measure, target)):
        why = ("measure " + measure[i] + " cannot be combined with " + target) if not _same_scale(
            measure[i:i + 1], target)[0] else "no counts, means/SDs, CI or SE to compute an effect from"
        lost.append({"row": int(sub["_row"].iloc[i]), "factor": str(sub["factor"].iloc[i]), "reason": why})
    keep = usable & _same_scale(measure, target)
    out = pd.DataFrame({
        "meta_review": sub["meta_review"].astype(str).to_numpy(),
        "author": sub["author"].astype(str).to_numpy(),
        "year": sub["year"].astype(str).to_numpy(), "yi": yi, "vi": vi, "n_cases": n_cases,
        "n_controls": n_controls, "measure": target,
        "multiple_es": sub["multiple_es"].to_numpy() if "multiple_es" in sub else np.nan,
        "rob": sub["rob"].astype(str).str.lower().to_numpy() if "rob" in sub else np.nan,
        "amstar": _col(sub, "amstar"),
    })[keep]
    return out, lost


def _same_scale(measure: np.ndarray, target: str) -> np.ndarray:
    if target in {"OR", "SMD"}:
        return np.isin(measure, ["OR", "SMD"])
    return np.asarray(measure == target)


def _fill(m: str, rows: np.ndarray, c: dict[str, np.ndarray], yi: np.ndarray, vi: np.ndarray,
          sub: pd.DataFrame, file: str) -> None:
    """Fill yi/vi for the rows of measure ``m`` from the rawest data each row has."""
    done = np.zeros(len(rows), dtype=bool)

    def bad_input(exc: StatsInputError, idx: np.ndarray) -> InputError:
        """Name the file row of the offending element (the first of the batch if none is named)."""
        at = idx[exc.index] if exc.index is not None and exc.index < idx.size else idx[0]
        return InputError(exc.message, file=file, line=int(sub["_row"].iloc[at]))

    def put(mask: np.ndarray, **kw: Any) -> None:
        idx = np.flatnonzero(mask & ~done)
        if idx.size == 0:
            return
        try:
            es = escalc(kw.pop("measure"), **{k: v[idx] for k, v in kw.items()})
        except StatsInputError as exc:
            raise bad_input(exc, idx) from exc
        yi[idx], vi[idx] = es.yi, es.vi
        done[idx] = np.isfinite(es.yi) & np.isfinite(es.vi)

    if m == "OR":
        put(rows & _have(c["n_cases_exp"], c["n_controls_exp"], c["n_cases_nexp"], c["n_controls_nexp"]),
            measure="OR", ai=c["n_cases_exp"], bi=c["n_controls_exp"], ci=c["n_cases_nexp"],
            di=c["n_controls_nexp"])
    elif m == "RR":
        put(rows & _have(c["n_cases_exp"], c["n_exp"], c["n_cases_nexp"], c["n_nexp"]), measure="RR",
            ai=c["n_cases_exp"], n1i=c["n_exp"], ci=c["n_cases_nexp"], n2i=c["n_nexp"])
    elif m in {"SMD", "MD"}:
        put(rows & _have(c["mean_cases"], c["sd_cases"], c["mean_controls"], c["sd_controls"], c["n_cases"],
                         c["n_controls"]),
            measure=m, m1i=c["mean_cases"], sd1i=c["sd_cases"], n1i=c["n_cases"], m2i=c["mean_controls"],
            sd2i=c["sd_controls"], n2i=c["n_controls"])
    ratio = m in RATIO
    ci_rows = np.flatnonzero(rows & ~done & _have(c["value"], c["ci_lo"], c["ci_up"]))
    if ci_rows.size:
        try:
            es = from_ci(c["value"][ci_rows], c["ci_lo"][ci_rows], c["ci_up"][ci_rows],
                         transf="log" if ratio else None, check=False)
        except StatsInputError as exc:
            raise bad_input(exc, ci_rows) from exc
        yi[ci_rows], vi[ci_rows] = es.yi, es.vi
        done[ci_rows] = True
    se_rows = np.flatnonzero(rows & ~done & _have(c["value"], c["se"]))
    if se_rows.size:
        yi[se_rows] = np.log(c["value"][se_rows]) if ratio else c["value"][se_rows]
        vi[se_rows] = c["se"][se_rows] ** 2


def _factor(name: str, rows: pd.DataFrame) -> UmbrellaFactor:
    rows = _merge_multiple(rows)
    rob = rows["rob"]
    n_total = rows["n_cases"].fillna(0) + rows["n_controls"].fillna(0)
    rob_pct = None
    if rob.notna().any() and (rob != "nan").any():
        rob_pct = float(100 * n_total[rob == "low"].sum() / n_total.sum()) if n_total.sum() > 0 else None
    amstar = rows["amstar"].dropna()
    return UmbrellaFactor(
        name=name, meta_review=str(rows["meta_review"].iloc[0]), measure=str(rows["measure"].iloc[0]),
        yi=rows["yi"].to_numpy(dtype=float), vi=rows["vi"].to_numpy(dtype=float),
        n_cases=rows["n_cases"].to_numpy(dtype=float), n_controls=rows["n_controls"].to_numpy(dtype=float),
        studies=tuple(f"{a} {y}" for a, y in zip(rows["author"], rows["year"], strict=True)),
        rob_low_pct=rob_pct, amstar=float(amstar.iloc[0]) if len(amstar) else None,
    )


def _merge_multiple(rows: pd.DataFrame) -> pd.DataFrame:
    """Combine several effects of one study: 'groups' by inverse variance, 'outcomes' by averaging."""
    flagged = rows["multiple_es"].notna()
    if not flagged.any():
        return rows.reset_index(drop=True)
    keep = [rows[~flagged]]
    for _, g in rows[flagged].groupby(["author", "year"], sort=False):
        kind = str(g["multiple_es"].iloc[0]).lower()
        if kind.startswith("group"):
            w = 1 / g["vi"]
            merged = {"yi": float((w * g["yi"]).sum() / w.sum()), "vi": float(1 / w.sum()),
                      "n_cases": g["n_cases"].sum(), "n_controls": g["n_controls"].sum()}
        else:
            merged = {"yi": float(g["yi"].mean()), "vi": float(g["vi"].mean()),
                      "n_cases": g["n_cases"].max(), "n_controls": g["n_controls"].max()}
        keep.append(pd.DataFrame([g.iloc[0].to_dict() | merged]))
    return pd.concat(keep, ignore_index=True)

