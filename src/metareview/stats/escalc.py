"""Effect sizes and their sampling variances: metafor's ``escalc`` for the common measures.

Every measure follows metafor 3.8 (Viechtbauer 2010, *J Stat Softw* 36(3); ``?escalc``): the same
formulas, the same defaults (``add=0.5``, ``to="only0"``, ``drop00=False``, ``vtype="LS"``) and the
same outputs, so ``yi``/``vi`` agree with ``metafor::escalc`` to rounding error.

Measures (metafor's codes):

========  ==========================================  ======================================
measure   needs                                       yi
========  ==========================================  ======================================
SMD       m1i, m2i, sd1i, sd2i, n1i, n2i              Hedges' g (exact gamma-function J)
SMDH      m1i, m2i, sd1i, sd2i, n1i, n2i              SMD with unequal variances (Bonett)
SMD1      m1i, m2i, sd2i, n1i, n2i                    SMD scaled by group 2's SD (SMD1H: Bonett)
MD        m1i, m2i, sd1i, sd2i, n1i, n2i              raw mean difference
ROM       m1i, m2i, sd1i, sd2i, n1i, n2i              log ratio of means
CVR, VR   m1i, m2i, sd1i, sd2i, n1i, n2i (VR: no m)   log CV ratio, log variability ratio
D2OR...   m1i, m2i, sd1i, sd2i, n1i, n2i              SMD as log OR (D2ORL logistic, D2ORN normal)
OR        ai, ci and bi/n1i, di/n2i                   log odds ratio
OR2D...   ai, ci and bi/n1i, di/n2i                   log OR as SMD (OR2DL logistic, OR2DN normal)
RR        ai, ci and bi/n1i, di/n2i                   log risk ratio
RD        ai, ci and bi/n1i, di/n2i                   risk difference
PETO      ai, ci and bi/n1i, di/n2i                   Peto's log odds ratio
IRR, IRD  x1i, x2i, t1i, t2i                          log incidence rate ratio, rate difference
IRSD      x1i, x2i, t1i, t2i                          square-root rate difference
ZCOR      ri, ni                                      Fisher's r-to-z
COR       ri, ni                                      raw correlation
PLO       xi and mi/ni                                logit of a proportion
PR        xi and mi/ni                                raw proportion
PLN       xi and mi/ni                                log proportion
PAS, PFT  xi and mi/ni                                arcsine; Freeman-Tukey double arcsine
IR, IRLN  xi, ti                                      incidence rate, log rate (IRS sqrt, IRFT FT)
MN, MNLN  mi, sdi, ni                                 mean, log mean (CVLN, SDLN, SMN)
MC        m1i, m2i, sd1i, sd2i, ri, ni                mean change (pre/post or matched pairs)
SMCC      m1i, m2i, sd1i, sd2i, ri, ni                standardised mean change, change-score SD
SMCR      m1i, m2i, sd1i, ri, ni                      standardised mean change, raw-score SD
SMCRH     m1i, m2i, sd1i, sd2i, ri, ni                SMCR with unequal variances
ROMC      m1i, m2i, sd1i, sd2i, ri, ni                log ratio of means, paired (CVRC, VRC)
GEN       yi and vi/sei                               as given (any other code is kept as label)
========  ==========================================  ======================================

The measures added in issue 13 are computed in :mod:`metareview.stats.escalc_families`.

Zero cells (OR, OR2D*, RR, RD, PETO, PLO, PR, PLN, PAS, PFT, IRR, IRD, IRLN, IR, ...; metafor applies
``add`` to all of these): ``to="only0"`` adds ``add`` to every cell of a table that has a zero cell,
``"all"`` to every table, ``"if0all"`` to every table when any has a zero cell, ``"none"`` never.
``add`` is 0.5 by default, 0 for PAS, PFT, IRSD, IRS and IRFT. ``drop00=True`` first sets tables with no
events (or no non-events) in both groups to missing.

Missing values (``nan``) in the inputs give ``nan`` in the outputs, as metafor gives ``NA``; so do
infinite results (metafor recodes them to ``NA``) and negative variances. Impossible inputs raise
:class:`~metareview.stats.errors.StatsInputError` naming the argument and the 0-based index.
Where metafor would quietly return ``NA`` for a whole class of input, this module raises instead:
``n1i``/``n2i`` below 2 for SMD, ``|ri| >= 1`` or ``ni <= 3`` for COR/ZCOR, non-positive means for
ROM, negative ``vi`` or ``sei`` for generic input. The measures of :mod:`~metareview.stats.escalc_families`
raise where metafor stops (negative counts or SDs, sizes or person-times ≤ 0, ``|ri| > 1``, negative
means for MNLN/CVLN) and give ``nan`` where metafor gives ``NA``.

Example::

    >>> es = escalc("SMD", m1i=[103.0], m2i=[100.0], sd1i=[5.5], sd2i=[4.5], n1i=[50], n2i=[50])
    >>> round(float(es.yi[0]), 4), round(float(es.vi[0]), 4)
    (0.5924, 0.0418)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln

from metareview.stats.errors import StatsInputError

FloatArray = NDArray[np.float64]

_MORE_MEANS = ("SMDH", "SMD1", "SMD1H", "D2OR", "D2ORN", "D2ORL", "CVR", "VR")
_MORE_TABLE = ("OR2D", "OR2DN", "OR2DL")
_MORE_PROP = ("PLN", "PAS", "PFT")
_RATES = ("IRR", "IRD", "IRSD")
_RATE = ("IR", "IRLN", "IRS", "IRFT")
_MEAN = ("MN", "MNLN", "CVLN", "SDLN", "SMN")
_CHANGE = ("MC", "SMCC", "SMCR", "SMCRH", "ROMC", "CVRC", "VRC")

#: Measures :func:`escalc` computes from raw data (``GEN`` is the generic ``yi``/``vi`` input).
MEASURES = (
    ("SMD", "MD", "ROM", *_MORE_MEANS)
    + ("OR", "RR", "RD", "PETO", *_MORE_TABLE)
    + ("ZCOR", "COR")
    + ("PLO", "PR", *_MORE_PROP)
    + _RATES
    + _RATE
    + _MEAN
    + _CHANGE
    + ("GEN",)
)

_TO_OPTIONS = ("only0", "all", "if0all", "none")
#: na_action of :func:`escalc`: keep rows with a missing result (metafor), drop them, or raise
ESCALC_NA_ACTIONS = ("pass", "omit", "fail")
#: measures whose ``add`` defaults to 0, as metafor's (their transformations need no correction)
_ADD_ZERO = ("PAS", "PFT", "IRSD", "IRS", "IRFT")

#: Variance types per measure (metafor's ``vtype``); the first is the default ``"LS"``.
_VTYPES: dict[str, tuple[str, ...]] = {
    "SMD": ("LS", "UB", "LS2", "AV"),
    "SMD1": ("LS", "UB", "LS2", "AV"),
    "SMDH": ("LS", "LS2"),
    "MD": ("LS", "UB", "HO"),
    "ROM": ("LS", "HO", "AV", "AVHO"),
    "RD": ("LS", "UB", "AV"),
    "COR": ("LS", "AV"),
    "PR": ("LS", "UB", "AV"),
    "PLO": ("LS", "AV"),
    "PLN": ("LS", "AV"),
    "SMCC": ("LS", "LS2"),
    "SMCR": ("LS", "LS2"),
}

#: The arguments each family of measures reads (anything else given is an error).
_FAMILY_ARGS: dict[str, tuple[str, ...]] = {
    "means": ("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i"),
    "table": ("ai", "bi", "ci", "di", "n1i", "n2i"),
    "cor": ("ri", "ni"),
    "prop": ("xi", "mi", "ni"),
    "rates": ("x1i", "x2i", "t1i", "t2i"),
    "rate": ("xi", "ti"),
    "mean": ("mi", "sdi", "ni"),
    "change": ("m1i", "m2i", "sd1i", "sd2i", "ri", "ni"),
    "generic": ("yi", "vi", "sei"),
}
_FAMILY = {
    "SMD": "means", "MD": "means", "ROM": "means",
    "OR": "table", "RR": "table", "RD": "table", "PETO": "table",
    "ZCOR": "cor", "COR": "cor",
    "PLO": "prop", "PR": "prop",
    **dict.fromkeys(_MORE_MEANS, "means"), **dict.fromkeys(_MORE_TABLE, "table"),
    **dict.fromkeys(_MORE_PROP, "prop"), **dict.fromkeys(_RATES, "rates"), **dict.fromkeys(_RATE, "rate"),
    **dict.fromkeys(_MEAN, "mean"), **dict.fromkeys(_CHANGE, "change"),
}  # fmt: skip


@dataclass(frozen=True, eq=False)
class EffectSizes:
    """Effect sizes ``yi`` and sampling variances ``vi`` of one measure (metafor's escalc object).

    The arrays are read-only. ``nan`` marks a study whose effect size cannot be computed. ``omitted``
    lists the 0-based input rows that ``escalc(..., na_action="omit")`` dropped.

    Example::

        >>> es = EffectSizes("GEN", np.array([0.2, 0.5]), np.array([0.04, 0.09]))
        >>> es.k, [round(float(s), 2) for s in es.sei]
        (2, [0.2, 0.3])
    """

    measure: str
    yi: FloatArray
    vi: FloatArray
    omitted: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for name in ("yi", "vi"):
            arr = np.array(getattr(self, name), dtype=np.float64)
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        if self.yi.shape != self.vi.shape or self.yi.ndim != 1:
            raise StatsInputError("yi and vi must be 1-d arrays of the same length", field="vi")

    @property
    def k(self) -> int:
        """Number of studies (rows), missing ones included."""
        return int(self.yi.size)

    @property
    def sei(self) -> FloatArray:
        """Standard errors, ``sqrt(vi)``."""
        return np.sqrt(self.vi)

    def to_dict(self) -> dict[str, Any]:
        """``{"measure": str, "yi": [...], "vi": [...]}`` with ``None`` for missing values."""

        def plain(arr: FloatArray) -> list[float | None]:
            return [None if np.isnan(v) else float(v) for v in arr]

        out: dict[str, Any] = {"measure": self.measure, "yi": plain(self.yi), "vi": plain(self.vi)}
        if self.omitted:
            out["omitted"] = list(self.omitted)
        return out

    def to_frame(self) -> Any:
        """A pandas DataFrame with columns ``yi``, ``vi``, ``sei`` (pandas is imported here)."""
        import pandas as pd

        return pd.DataFrame({"yi": self.yi, "vi": self.vi, "sei": self.sei})

    def __str__(self) -> str:
        lines = [f"Effect sizes (measure: {self.measure}, k = {self.k})", "", f"{'':>4} {'yi':>9} {'vi':>9}"]
        for i, (y, v) in enumerate(zip(self.yi, self.vi, strict=True), start=1):
            lines.append(f"{i:>4} {_fmt(y)} {_fmt(v)}")
        return "\n".join(lines)


def _fmt(x: float) -> str:
    return f"{'NA':>9}" if np.isnan(x) else f"{x:>9.4f}"


def escalc(
    measure: str,
    *,
    ai: ArrayLike | None = None,
    bi: ArrayLike | None = None,
    ci: ArrayLike | None = None,
    di: ArrayLike | None = None,
    n1i: ArrayLike | None = None,
    n2i: ArrayLike | None = None,
    m1i: ArrayLike | None = None,
    m2i: ArrayLike | None = None,
    sd1i: ArrayLike | None = None,
    sd2i: ArrayLike | None = None,
    xi: ArrayLike | None = None,
    mi: ArrayLike | None = None,
    ri: ArrayLike | None = None,
    ni: ArrayLike | None = None,
    x1i: ArrayLike | None = None,
    x2i: ArrayLike | None = None,
    t1i: ArrayLike | None = None,
    t2i: ArrayLike | None = None,
    ti: ArrayLike | None = None,
    sdi: ArrayLike | None = None,
    yi: ArrayLike | None = None,
    vi: ArrayLike | None = None,
    sei: ArrayLike | None = None,
    add: float | None = None,
    to: str = "only0",
    drop00: bool = False,
    vtype: str = "LS",
    na_action: str = "pass",
) -> EffectSizes:
    """Compute effect sizes ``yi`` and sampling variances ``vi`` (metafor's ``escalc``).

    ``measure`` is one of :data:`MEASURES` (case-insensitive); the data arguments it needs are in
    the module's table. If ``yi`` is given the generic path is taken: ``vi`` (or ``sei``, squared)
    is used as is and ``measure`` is kept only as a label. ``add``/``to``/``drop00`` control zero
    cells of the count measures (``add`` defaults to 0.5, and to 0 for PAS, PFT, IRSD, IRS and IRFT, as
    metafor's), ``vtype`` the variance estimator (``"LS"``, metafor's default; also SMD/SMD1: UB, LS2,
    AV; SMDH, SMCC, SMCR: LS2; MD: UB, HO; ROM: HO, AV, AVHO; RD/PR: UB, AV; COR/PLO/PLN: AV).
    ``na_action``: ``"pass"`` (default, metafor's: a study whose effect size cannot be computed keeps
    its row, with ``nan``), ``"omit"`` (such rows are dropped with an
    :class:`~metareview.stats.missing.OmittedWarning` and listed in ``omitted``) or ``"fail"`` (a
    :class:`StatsInputError` names the first such row).

    Example::

        >>> es = escalc("RR", ai=[4], bi=[119], ci=[11], di=[128])   # BCG trial 1, Aronson 1948
        >>> round(float(es.yi[0]), 4), round(float(es.vi[0]), 4)
        (-0.8893, 0.3256)
    """
    code = str(measure).upper()
    given = {
        "ai": ai, "bi": bi, "ci": ci, "di": di, "n1i": n1i, "n2i": n2i, "m1i": m1i, "m2i": m2i,
        "sd1i": sd1i, "sd2i": sd2i, "xi": xi, "mi": mi, "ri": ri, "ni": ni, "x1i": x1i, "x2i": x2i,
        "t1i": t1i, "t2i": t2i, "ti": ti, "sdi": sdi, "yi": yi, "vi": vi, "sei": sei,
    }  # fmt: skip
    if na_action not in ESCALC_NA_ACTIONS:
        raise StatsInputError(
            f"na_action must be one of {ESCALC_NA_ACTIONS}, not {na_action!r}", field="na_action"
        )
    data = {name: as_vector(name, value) for name, value in given.items() if value is not None}
    if "yi" in data:
        family = "generic"
    elif code in _FAMILY:
        family = _FAMILY[code]
    elif code == "GEN":
        raise StatsInputError("measure 'GEN' needs yi (with vi or sei)", field="yi")
    else:
        raise StatsInputError(
            f"unknown measure {measure!r}; use one of {', '.join(MEASURES)}", field="measure"
        )
    unused = sorted(set(data) - set(_FAMILY_ARGS[family]))
    if unused:
        raise StatsInputError(f"argument {unused[0]!r} is not used by measure {code}", field=unused[0])
    check_lengths(data)
    add_value = (0.0 if code in _ADD_ZERO else 0.5) if add is None else add
    if family != "generic":
        _check_options(code, add_value, to, vtype)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # 0/0, log(0): missing below
        out_yi, out_vi = _compute(code, family, data, add_value, to, drop00, vtype)
    out_yi, out_vi = _finalise(out_yi, out_vi)
    return _apply_na_action(code, out_yi, out_vi, na_action)


def _compute(
    code: str, family: str, data: dict[str, FloatArray], add: float, to: str, drop00: bool, vtype: str
) -> tuple[FloatArray, FloatArray]:
    if family == "generic":
        return _generic(data)
    if family in ("rates", "rate", "mean", "change") or code in _MORE_MEANS:
        from metareview.stats import escalc_families as more

        if family == "rates":
            return more.from_rates(code, data, add, to, drop00)
        if family == "rate":
            return more.from_rate(code, data, add, to)
        if family == "mean":
            return more.from_mean(code, data)
        if family == "change":
            return more.from_change(code, data, vtype)
        return more.from_means_more(code, data, vtype)
    if family == "means":
        return _from_means(code, data, vtype)
    if family == "table":
        return _from_table(code, data, add, to, drop00, vtype)
    if family == "cor":
        return _from_correlations(code, data, vtype)
    return _from_proportions(code, data, add, to, vtype)


def _apply_na_action(code: str, yi: FloatArray, vi: FloatArray, na_action: str) -> EffectSizes:
    missing = np.isnan(yi) | np.isnan(vi)
    if na_action == "pass" or not missing.any():
        return EffectSizes(code, yi, vi)
    first = int(np.flatnonzero(missing)[0])
    if na_action == "fail":
        raise StatsInputError(
            f"the {code} effect size of row {first} cannot be computed (missing or undefined input)",
            index=first,
            field="yi",
        )
    import warnings

    from metareview.stats.missing import OmittedWarning

    omitted = tuple(int(i) for i in np.flatnonzero(missing))
    warnings.warn(
        f"{len(omitted)} row(s) whose {code} effect size cannot be computed omitted "
        f"(0-based indices {', '.join(map(str, omitted[:10]))}{', ...' if len(omitted) > 10 else ''})",
        OmittedWarning,
        stacklevel=3,
    )
    return EffectSizes(code, yi[~missing], vi[~missing], omitted)


# --- input handling -------------------------------------------------------------------------


def as_vector(name: str, value: ArrayLike) -> FloatArray:
    """``value`` as a 1-d float array (a scalar becomes length 1); shared with ``convert``."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatsInputError(f"{name} must be numeric: {exc}", field=name) from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise StatsInputError(f"{name} must be one-dimensional, got shape {arr.shape}", field=name)
    return arr


def check_lengths(data: dict[str, FloatArray]) -> None:
    """Raise unless every array in ``data`` has the length of the first; shared with ``convert``."""
    first = next(iter(data), None)
    if first is None:
        raise StatsInputError("no data given")
    for name, arr in data.items():
        if arr.size != data[first].size:
            raise StatsInputError(
                f"{name} has {arr.size} values but {first} has {data[first].size}", field=name
            )


def _check_options(code: str, add: float, to: str, vtype: str) -> None:
    if to not in _TO_OPTIONS:
        raise StatsInputError(f"to must be one of {', '.join(_TO_OPTIONS)}, got {to!r}", field="to")
    if not np.isfinite(add) or add < 0:
        raise StatsInputError(f"add must be a finite number >= 0, got {add!r}", field="add")
    allowed = _VTYPES.get(code, ("LS",))
    if vtype not in allowed:
        raise StatsInputError(
            f"vtype {vtype!r} is not available for {code}; use one of {', '.join(allowed)}", field="vtype"
        )


def reject(bad: NDArray[np.bool_], name: str, values: FloatArray, problem: str) -> None:
    """Raise :class:`StatsInputError` at the first ``True`` of ``bad``, naming ``name[index]``.

    Shared with :mod:`metareview.stats.convert`.
    """
    hits = np.flatnonzero(bad)
    if hits.size:
        i = int(hits[0])
        raise StatsInputError(f"{name}[{i}] = {values[i]:g}: {problem}", index=i, field=name)


def _require(code: str, data: dict[str, FloatArray], names: Sequence[str]) -> list[FloatArray]:
    missing = [n for n in names if n not in data]
    if missing:
        raise StatsInputError(
            f"measure {code} needs {', '.join(names)}; missing: {', '.join(missing)}", field=missing[0]
        )
    return [data[n] for n in names]


def _complement(
    code: str, data: dict[str, FloatArray], part: str, other: str, total: str
) -> tuple[FloatArray, FloatArray]:
    """Return (part, other) counts, deriving ``other = total - part`` when only ``total`` is given."""
    (count,) = _require(code, data, [part])
    if other not in data and total not in data:
        raise StatsInputError(f"measure {code} needs {other} or {total}", field=other)
    if other in data and total in data:
        mismatch = np.abs(count + data[other] - data[total]) > 1e-8 * np.maximum(1.0, np.abs(data[total]))
        reject(mismatch, total, data[total], f"is not equal to {part} + {other}")
    rest = data[other] if other in data else data[total] - count
    reject(count < 0, part, count, "counts must be >= 0")
    if other in data:
        reject(rest < 0, other, rest, "counts must be >= 0")
    else:
        reject(rest < 0, part, count, f"is larger than {total}")
    return count, rest


def _finalise(yi: FloatArray, vi: FloatArray) -> tuple[FloatArray, FloatArray]:
    """metafor's clean-up: infinite or NaN results become missing in both; negative ``vi`` missing."""
    yi = np.array(yi, dtype=np.float64)
    vi = np.array(vi, dtype=np.float64)
    bad = ~np.isfinite(yi) | ~np.isfinite(vi)
    yi[bad] = np.nan
    vi[bad] = np.nan
    vi[vi < 0] = np.nan
    return yi, vi


def _weighted_mean(x: FloatArray, w: FloatArray) -> float:
    """metafor's ``.wmean(x, w, na.rm = TRUE)``, as a numpy float (its square overflows to inf, as R's,
    instead of raising OverflowError)."""
    ok = ~(np.isnan(x) | np.isnan(w))
    return np.float64(np.sum(x[ok] * w[ok]) / np.sum(w[ok]))


def _add_to_cells(
    cells: list[FloatArray], add: float, to: str, drop: NDArray[np.bool_] | None = None
) -> list[FloatArray]:
    """Continuity correction: add ``add`` to the cells of the rows ``to`` selects (metafor's rules)."""
    cells = [c.copy() for c in cells]
    if drop is not None:
        for c in cells:
            c[drop] = np.nan
    has_zero = np.zeros(cells[0].size, dtype=bool)
    for c in cells:
        has_zero |= c == 0
    if to == "all" or (to == "if0all" and has_zero.any()):
        rows = np.ones(cells[0].size, dtype=bool)
    elif to == "only0":
        rows = has_zero
    else:
        rows = np.zeros(cells[0].size, dtype=bool)
    return [np.where(rows, c + add, c) for c in cells]


# --- the measures ---------------------------------------------------------------------------


def _generic(data: dict[str, FloatArray]) -> tuple[FloatArray, FloatArray]:
    if "vi" in data and "sei" in data:
        raise StatsInputError("give vi or sei, not both", field="sei")
    if "vi" in data:
        reject(data["vi"] < 0, "vi", data["vi"], "sampling variances must be >= 0")
        return data["yi"], data["vi"]
    if "sei" in data:
        reject(data["sei"] < 0, "sei", data["sei"], "standard errors must be >= 0")
        return data["yi"], data["sei"] ** 2
    raise StatsInputError("yi needs vi or sei", field="vi")


def hedges_correction(df: ArrayLike) -> FloatArray:
    """Hedges' exact small-sample correction ``J(m) = Γ(m/2) / (sqrt(m/2) Γ((m-1)/2))``.

    Hedges (1981), *J Educ Stat* 6:107-128, eq. 6b; metafor's ``.cmicalc``. ``nan`` for ``m <= 1``.

    Example::

        >>> round(float(hedges_correction(98)[0]), 6)
        0.992324
    """
    m = np.atleast_1d(np.asarray(df, dtype=np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        j = np.exp(gammaln(m / 2) - np.log(np.sqrt(m / 2)) - gammaln((m - 1) / 2))
    return np.where(m > 1, j, np.nan)


def hedges_g(
    di: FloatArray, n1i: FloatArray, n2i: FloatArray, vtype: str = "LS"
) -> tuple[FloatArray, FloatArray]:
    """Hedges' g and its variance from Cohen's d and the group sizes (metafor's SMD branch).

    ``g = J(n1 + n2 - 2) d``; ``vtype`` LS: ``1/n1 + 1/n2 + g²/(2N)``; UB: ``1/n1 + 1/n2 +
    (1 - (m-2)/(m J²)) g²``; LS2: ``J² (1/n1 + 1/n2 + d²/(2N))``; AV: LS with the ``N``-weighted
    mean g. Shared with :mod:`metareview.stats.convert`.
    """
    n = n1i + n2i
    m = n - 2
    j = hedges_correction(m)
    g = j * di
    base = 1 / n1i + 1 / n2i
    if vtype == "LS":
        v = base + g**2 / (2 * n)
    elif vtype == "UB":
        v = base + (1 - (m - 2) / (m * j**2)) * g**2
    elif vtype == "LS2":
        v = j**2 * (base + di**2 / (2 * n))
    else:  # "AV"
        v = base + _weighted_mean(g, n) ** 2 / (2 * n)
    return g, v


def _from_means(code: str, data: dict[str, FloatArray], vtype: str) -> tuple[FloatArray, FloatArray]:
    m1, m2, sd1, sd2, n1, n2 = _require(code, data, _FAMILY_ARGS["means"])
    reject(sd1 < 0, "sd1i", sd1, "standard deviations must be >= 0")
    reject(sd2 < 0, "sd2i", sd2, "standard deviations must be >= 0")
    smallest = 2 if code == "SMD" else 1
    problem = f"group sizes must be >= {smallest} for {code}"
    reject(n1 < smallest, "n1i", n1, problem)
    reject(n2 < smallest, "n2i", n2, problem)
    sd_pooled = np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / (n1 + n2 - 2))
    if code == "SMD":
        return hedges_g((m1 - m2) / sd_pooled, n1, n2, vtype)
    if code == "MD":
        if vtype == "HO":
            return m1 - m2, sd_pooled**2 * (1 / n1 + 1 / n2)
        return m1 - m2, sd1**2 / n1 + sd2**2 / n2
    reject(m1 <= 0, "m1i", m1, "means must be > 0 for ROM")
    reject(m2 <= 0, "m2i", m2, "means must be > 0 for ROM")
    yi = np.log(m1 / m2)
    if vtype == "LS":
        return yi, sd1**2 / (n1 * m1**2) + sd2**2 / (n2 * m2**2)
    if vtype == "HO":
        return yi, sd_pooled**2 / (n1 * m1**2) + sd_pooled**2 / (n2 * m2**2)
    cv1, cv2 = sd1 / m1, sd2 / m2
    if vtype == "AV":
        return yi, _weighted_mean(cv1, n1) ** 2 / n1 + _weighted_mean(cv2, n2) ** 2 / n2
    ok = ~(np.isnan(n1) | np.isnan(n2) | np.isnan(cv1) | np.isnan(cv2))
    cv = (np.sum(n1[ok] * cv1[ok]) + np.sum(n2[ok] * cv2[ok])) / np.sum(n1[ok] + n2[ok])
    return yi, cv**2 * (1 / n1 + 1 / n2)


def _from_table(
    code: str, data: dict[str, FloatArray], add: float, to: str, drop00: bool, vtype: str
) -> tuple[FloatArray, FloatArray]:
    a, b = _complement(code, data, "ai", "bi", "n1i")
    c, d = _complement(code, data, "ci", "di", "n2i")
    drop = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0)) if drop00 else None
    a, b, c, d = _add_to_cells([a, b, c, d], add, to, drop)
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    if code in ("OR", *_MORE_TABLE):
        log_or, var = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2)), 1 / a + 1 / b + 1 / c + 1 / d
        if code == "OR":
            return log_or, var
        # log OR to SMD: the logistic distribution's sqrt(3)/pi (OR2D, OR2DL) or Cox's 1/1.65 (OR2DN)
        if code == "OR2DN":
            return log_or / 1.65, var / 1.65**2
        return np.sqrt(3) / np.pi * log_or, 3 / np.pi**2 * var
    if code == "RR":
        return np.log(p1) - np.log(p2), 1 / a - 1 / n1 + 1 / c - 1 / n2
    if code == "RD":
        return p1 - p2, _rd_variance(p1, p2, n1, n2, vtype)
    n = n1 + n2
    expected = (a + c) * n1 / n
    hypergeom_var = (a + c) * (b + d) * (n1 / n) * (n2 / n) / (n - 1)
    return (a - expected) / hypergeom_var, 1 / hypergeom_var


def _rd_variance(p1: FloatArray, p2: FloatArray, n1: FloatArray, n2: FloatArray, vtype: str) -> FloatArray:
    if vtype == "UB":
        return p1 * (1 - p1) / (n1 - 1) + p2 * (1 - p2) / (n2 - 1)
    if vtype == "AV":
        q1, q2 = _weighted_mean(p1, n1), _weighted_mean(p2, n2)
        return q1 * (1 - q1) / n1 + q2 * (1 - q2) / n2
    return p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2


def _from_correlations(code: str, data: dict[str, FloatArray], vtype: str) -> tuple[FloatArray, FloatArray]:
    r, n = _require(code, data, _FAMILY_ARGS["cor"])
    reject(np.abs(r) >= 1, "ri", r, "correlations must lie strictly between -1 and 1")
    reject(n <= 3, "ni", n, "sample sizes must be > 3 for a correlation's variance")
    if code == "ZCOR":
        return np.arctanh(r), 1 / (n - 3)
    centre = _weighted_mean(r, n) if vtype == "AV" else r
    return r, (1 - centre**2) ** 2 / (n - 1)


def _from_proportions(
    code: str, data: dict[str, FloatArray], add: float, to: str, vtype: str
) -> tuple[FloatArray, FloatArray]:
    x, m = _complement(code, data, "xi", "mi", "ni")
    reject(x + m <= 0, "ni", x + m, "sample sizes must be > 0")
    x, m = _add_to_cells([x, m], add, to)
    n = x + m
    p = x / n
    if code == "PAS":
        return np.arcsin(np.sqrt(p)), 1 / (4 * n)
    if code == "PFT":  # Freeman-Tukey double arcsine
        yi = 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))
        return yi, 1 / (4 * n + 2)
    if code == "PLN":
        if vtype == "AV":
            return np.log(p), 1 / (_weighted_mean(p, n) * n) - 1 / n
        return np.log(p), 1 / x - 1 / n
    if code == "PLO":
        if vtype == "AV":
            pbar = _weighted_mean(p, n)
            return np.log(p / (1 - p)), 1 / (pbar * n) + 1 / ((1 - pbar) * n)
        return np.log(p / (1 - p)), 1 / x + 1 / m
    if vtype == "UB":
        return p, p * (1 - p) / (n - 1)
    centre = _weighted_mean(p, n) if vtype == "AV" else p
    return p, centre * (1 - centre) / n


__all__: list[str] = ["MEASURES", "EffectSizes", "escalc", "hedges_correction"]
