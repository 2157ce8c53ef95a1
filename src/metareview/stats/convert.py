"""Effect sizes from what papers report: confidence intervals, p-values, t and F statistics.

Formulas and sources:

- :func:`from_ci` — a Wald-type interval ``estimate ± z·SE`` gives ``vi = ((upper - lower) / (2 z))²``
  with ``z = Φ⁻¹(1 - (1 - level/100)/2)``; ratio measures (OR, RR, HR, ROM) are first put on the log
  scale (``transf="log"``), where their intervals are symmetric. metafor's ``conv.wald`` (metafor
  ≥ 4.0; Viechtbauer's metafor documentation); Borenstein et al. (2009), *Introduction to
  Meta-Analysis*, ch. 5 and 7. :func:`to_ci` is the inverse (metafor's ``summary.escalc``).
- :func:`from_p` — a two-sided p-value of a Wald test gives ``z = Φ⁻¹(1 - p/2)`` and ``vi = (yi/z)²``
  (``conv.wald`` with ``pval``; Altman & Bland 2011, *BMJ* 343:d2090).
- :func:`smd_from_t` — two independent groups: Cohen's ``d = t·sqrt(1/n1 + 1/n2)``, then Hedges'
  exact correction ``g = J(n1 + n2 - 2)·d`` and the SMD variance exactly as ``escalc("SMD")`` with
  metafor's ``ti`` argument (Lipsey & Wilson 2001, *Practical Meta-Analysis*, app. B; metafor
  ``?escalc``). :func:`t_from_smd` is the inverse.
- :func:`smd_from_f` — a one-degree-of-freedom F of two groups is ``t²``: ``t = sign·sqrt(F)``, the
  sign (direction of the difference) given by the user (Lipsey & Wilson 2001, app. B).
- :func:`smd_from_p` — a two-sided p of the pooled-variance t-test gives ``|t| = T⁻¹(1 - p/2;
  n1 + n2 - 2)`` exactly (Student t quantile), the sign again given by the user (Lipsey & Wilson 2001,
  app. B).

Example::

    >>> es = from_ci([0.75], [0.60], [0.94], transf="log", measure="OR")
    >>> round(float(es.yi[0]), 4), round(float(es.vi[0]), 4)
    (-0.2877, 0.0131)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from metareview.stats.errors import StatsInputError
from metareview.stats.escalc import (
    EffectSizes,
    FloatArray,
    as_vector,
    check_lengths,
    hedges_correction,
    hedges_g,
    reject,
)

Transform = str | Callable[[FloatArray], FloatArray] | None
_TRANSFORMS: dict[str, Callable[[FloatArray], FloatArray]] = {"log": np.log, "exp": np.exp}


def sei_to_vi(sei: ArrayLike) -> FloatArray:
    """Sampling variances from standard errors, ``vi = sei²``.

    Example::

        >>> sei_to_vi([0.1, 0.2]).round(4).tolist()
        [0.01, 0.04]
    """
    se = as_vector("sei", sei)
    reject(se < 0, "sei", se, "standard errors must be >= 0")
    return se**2


def vi_to_sei(vi: ArrayLike) -> FloatArray:
    """Standard errors from sampling variances, ``sei = sqrt(vi)``.

    Example::

        >>> vi_to_sei([0.01, 0.04]).round(4).tolist()
        [0.1, 0.2]
    """
    v = as_vector("vi", vi)
    reject(v < 0, "vi", v, "sampling variances must be >= 0")
    return np.sqrt(v)


def _critical_z(level: float) -> float:
    if not 1 <= level < 100:
        raise StatsInputError(f"level is a percentage such as 95, got {level!r}", field="level")
    return float(stats.norm.ppf(1 - (1 - level / 100) / 2))


def _transform(transf: Transform) -> Callable[[FloatArray], FloatArray]:
    if transf is None:
        return lambda x: x
    if callable(transf):
        return transf
    if transf not in _TRANSFORMS:
        raise StatsInputError(f"transf must be a function or one of {sorted(_TRANSFORMS)}", field="transf")
    return _TRANSFORMS[transf]


def _positive_if_log(transf: Transform, arrays: dict[str, FloatArray]) -> None:
    if transf == "log" or transf is np.log:
        for name, arr in arrays.items():
            reject(arr <= 0, name, arr, "must be > 0 to take logs (ratio measures)")


def from_ci(
    estimate: ArrayLike,
    ci_lower: ArrayLike,
    ci_upper: ArrayLike,
    *,
    level: float = 95.0,
    transf: Transform = None,
    measure: str = "GEN",
    check: bool = True,
) -> EffectSizes:
    """Effect sizes and variances from estimates with Wald-type confidence intervals (``conv.wald``).

    ``transf`` ("log", "exp" or a function) is applied to the estimate and both bounds first; use
    ``"log"`` for odds, risk and hazard ratios reported on their natural scale. With ``check``, a
    :class:`UserWarning` names the rows whose estimate is not about halfway between the (transformed)
    bounds — more than 10% of the interval's width off, metafor's rule — a sign of a wrong scale or a
    non-Wald interval.

    Example::

        >>> es = from_ci([0.5], [0.1], [0.9])
        >>> round(float(es.vi[0]), 5)
        0.04165
    """
    data = {
        "estimate": as_vector("estimate", estimate),
        "ci_lower": as_vector("ci_lower", ci_lower),
        "ci_upper": as_vector("ci_upper", ci_upper),
    }
    check_lengths(data)
    z = _critical_z(level)
    _positive_if_log(transf, data)
    fn = _transform(transf)
    yi, lower, upper = (
        np.asarray(fn(data[n]), dtype=np.float64) for n in ("estimate", "ci_lower", "ci_upper")
    )
    reject(lower > upper, "ci_lower", data["ci_lower"], "lower bound is above the upper bound")
    if check:
        with np.errstate(divide="ignore", invalid="ignore"):
            off = np.abs((upper + lower) / 2 - yi) / (upper - lower) > 0.1
        if off.any():
            rows = ", ".join(str(i) for i in np.flatnonzero(off))
            warnings.warn(
                f"the estimate is not about halfway between ci_lower and ci_upper in row(s) {rows}; "
                "check the scale (transf) or whether the interval is a Wald interval",
                UserWarning,
                stacklevel=2,
            )
    return EffectSizes(measure.upper(), yi, ((upper - lower) / (2 * z)) ** 2)


def to_ci(
    yi: ArrayLike, vi: ArrayLike, *, level: float = 95.0, transf: Transform = None
) -> tuple[FloatArray, FloatArray]:
    """Wald confidence bounds ``yi ± z·sqrt(vi)``, then ``transf`` ("exp" for ratio measures).

    The inverse of :func:`from_ci`, as metafor's ``summary(escalc(...), transf=...)``.

    Example::

        >>> lower, upper = to_ci([0.0], [0.04])
        >>> round(float(lower[0]), 4), round(float(upper[0]), 4)
        (-0.392, 0.392)
    """
    data = {"yi": as_vector("yi", yi), "vi": as_vector("vi", vi)}
    check_lengths(data)
    z = _critical_z(level)
    half = z * vi_to_sei(data["vi"])
    fn = _transform(transf)
    return np.asarray(fn(data["yi"] - half), dtype=np.float64), np.asarray(
        fn(data["yi"] + half), dtype=np.float64
    )


def from_p(
    estimate: ArrayLike, pvalue: ArrayLike, *, transf: Transform = None, measure: str = "GEN"
) -> EffectSizes:
    """Effect sizes and variances from estimates with two-sided Wald-test p-values.

    ``vi = (yi / z)²`` with ``z = Φ⁻¹(1 - p/2)`` (``conv.wald`` with ``pval``). A p-value of 1 means
    an estimate of 0 and leaves the variance unknown (``nan``).

    Example::

        >>> es = from_p([0.3], [0.05])
        >>> round(float(es.vi[0]), 5)
        0.02343
    """
    data = {"estimate": as_vector("estimate", estimate), "pvalue": as_vector("pvalue", pvalue)}
    check_lengths(data)
    p = data["pvalue"]
    reject((p <= 0) | (p > 1), "pvalue", p, "p-values must be in (0, 1]")
    _positive_if_log(transf, {"estimate": data["estimate"]})
    yi = np.asarray(_transform(transf)(data["estimate"]), dtype=np.float64)
    z = stats.norm.isf(p / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        vi = np.where(z > 0, (yi / z) ** 2, np.nan)
    return EffectSizes(measure.upper(), yi, vi)


def _two_groups(statistic: str, values: ArrayLike, n1i: ArrayLike, n2i: ArrayLike) -> tuple[FloatArray, ...]:
    data = {
        statistic: as_vector(statistic, values),
        "n1i": as_vector("n1i", n1i),
        "n2i": as_vector("n2i", n2i),
    }
    check_lengths(data)
    for name in ("n1i", "n2i"):
        reject(data[name] < 2, name, data[name], "group sizes must be >= 2 for an SMD")
    return data[statistic], data["n1i"], data["n2i"]


def _signs(sign: ArrayLike, k: int) -> FloatArray:
    s = as_vector("sign", sign)
    if s.size == 1:
        s = np.repeat(s, k)
    check_lengths({"n1i": np.empty(k), "sign": s})
    reject(~np.isin(s, (-1.0, 1.0)), "sign", s, "sign must be +1 or -1 (direction of group 1 - group 2)")
    return s


def _smd(ti: FloatArray, n1: FloatArray, n2: FloatArray, vtype: str) -> EffectSizes:
    allowed = ("LS", "UB", "LS2", "AV")
    if vtype not in allowed:
        raise StatsInputError(
            f"vtype {vtype!r} is not available for SMD; use one of {allowed}", field="vtype"
        )
    g, v = hedges_g(ti * np.sqrt(1 / n1 + 1 / n2), n1, n2, vtype)
    return EffectSizes("SMD", g, v)


def smd_from_t(ti: ArrayLike, n1i: ArrayLike, n2i: ArrayLike, *, vtype: str = "LS") -> EffectSizes:
    """Hedges' g from the t statistic of a two-group (pooled-variance) t-test.

    Same as metafor's ``escalc("SMD", ti=, n1i=, n2i=)``.

    Example::

        >>> es = smd_from_t([2.9851], [50], [50])   # Borenstein et al. 2009 ch. 4 example, t = d/sqrt(1/25)
        >>> round(float(es.yi[0]), 4)
        0.5924
    """
    t, n1, n2 = _two_groups("ti", ti, n1i, n2i)
    return _smd(t, n1, n2, vtype)


def smd_from_f(
    fi: ArrayLike, n1i: ArrayLike, n2i: ArrayLike, *, sign: ArrayLike, vtype: str = "LS"
) -> EffectSizes:
    """Hedges' g from a one-way F(1, n1 + n2 - 2) comparing two groups; ``sign`` (+1/-1) is the direction.

    Example::

        >>> es = smd_from_f([2.9851**2], [50], [50], sign=-1)
        >>> round(float(es.yi[0]), 4)
        -0.5924
    """
    f, n1, n2 = _two_groups("fi", fi, n1i, n2i)
    reject(f < 0, "fi", f, "F statistics must be >= 0")
    return _smd(_signs(sign, f.size) * np.sqrt(f), n1, n2, vtype)


def smd_from_p(
    pi: ArrayLike, n1i: ArrayLike, n2i: ArrayLike, *, sign: ArrayLike, vtype: str = "LS"
) -> EffectSizes:
    """Hedges' g from the two-sided p-value of a pooled-variance t-test; ``sign`` (+1/-1) is the direction.

    Exact: ``|t|`` is the Student t quantile with ``n1 + n2 - 2`` degrees of freedom.

    Example::

        >>> es = smd_from_p([0.0035795], [50], [50], sign=1)
        >>> round(float(es.yi[0]), 4)
        0.5924
    """
    p, n1, n2 = _two_groups("pi", pi, n1i, n2i)
    reject((p <= 0) | (p > 1), "pi", p, "p-values must be in (0, 1]")
    t = stats.t.isf(p / 2, n1 + n2 - 2)
    return _smd(_signs(sign, p.size) * t, n1, n2, vtype)


def t_from_smd(yi: ArrayLike, n1i: ArrayLike, n2i: ArrayLike) -> FloatArray:
    """The two-group t statistic behind Hedges' g: ``t = (g / J) / sqrt(1/n1 + 1/n2)``.

    The inverse of :func:`smd_from_t`, e.g. to check a paper's reported t against its SMD.

    Example::

        >>> round(float(t_from_smd([0.5924], [50], [50])[0]), 3)
        2.985
    """
    g, n1, n2 = _two_groups("yi", yi, n1i, n2i)
    return np.asarray(g / hedges_correction(n1 + n2 - 2) / np.sqrt(1 / n1 + 1 / n2), dtype=np.float64)


__all__ = [
    "from_ci",
    "from_p",
    "sei_to_vi",
    "smd_from_f",
    "smd_from_p",
    "smd_from_t",
    "t_from_smd",
    "to_ci",
    "vi_to_sei",
]
