"""Direction and significance of an effect, DERIVED from the estimate and its CI (or p), never typed in.

A meta-review counts each extracted effect size as significantly better, not significantly different, or
significantly worse for the experimental condition (e.g. human-supported vs unsupported). That verdict follows
from numbers already on the form: the confidence interval against the measure's null (0 for differences,
1 for ratios) and the orientation (whether a higher or a lower value favours the experimental condition)::

    >>> derive_direction("SMD", -0.39, ci_lower=-0.59, ci_upper=-0.18, higher_favours=False)
    <Direction.BETTER: 'better'>
    >>> derive_direction("OR", 1.2, ci_lower=0.9, ci_upper=1.6)
    <Direction.NO_DIFFERENCE: 'no_difference'>

When no CI is given, a two-sided p below ``alpha`` makes the effect significant and the sign of the estimate
against the null gives its direction.
"""

from __future__ import annotations

import math
from enum import StrEnum

from metareview.errors import InputError

#: measures whose null is 1 (ratios, reported on their natural scale)
RATIO_MEASURES = frozenset({"OR", "RR", "HR", "IRR", "ROM", "PETO"})
#: measures whose null is 0 (differences, correlations, log ratios)
DIFFERENCE_MEASURES = frozenset(
    {"SMD", "G", "D", "MD", "RD", "SMCC", "SMCR", "ZCOR", "COR", "LOGOR", "LOGRR", "LOGHR", "LOGIRR"}
)


class Direction(StrEnum):
    """The vote of one effect size (Werntz et al. 2023, Table 4's three columns)."""

    BETTER = "better"  # experimental (e.g. supported) condition significantly better
    NO_DIFFERENCE = "no_difference"
    WORSE = "worse"  # control (e.g. unsupported) condition significantly better


def null_value(measure: str) -> float:
    """The measure's null: 1.0 for ratios on their natural scale, 0.0 for differences.

    >>> null_value("RR"), null_value("SMD")
    (1.0, 0.0)
    """
    code = measure.strip().upper()
    if code in RATIO_MEASURES:
        return 1.0
    if code in DIFFERENCE_MEASURES:
        return 0.0
    raise InputError(f"unknown measure {measure!r}; known: {sorted(RATIO_MEASURES | DIFFERENCE_MEASURES)}",
                     field="measure")


def derive_direction(
    measure: str,
    estimate: float,
    *,
    ci_lower: float | None = None,
    ci_upper: float | None = None,
    p: float | None = None,
    higher_favours: bool = True,
    alpha: float = 0.05,
) -> Direction:
    """Derive the vote from ``estimate`` and its CI (preferred) or its two-sided ``p``.

    ``higher_favours`` says whether values above the null favour the experimental condition (True for an
    SMD of improvement, False for an SMD of symptoms where lower is better).
    Raises :class:`InputError` when neither a full CI nor p is given, or when they are inconsistent.
    """
    null = null_value(measure)
    _check_finite("estimate", estimate)
    if null == 1.0 and (estimate <= 0 or (ci_lower is not None and ci_lower <= 0)):
        raise InputError(f"{measure} is a ratio: give it on its natural scale (> 0)", field="estimate")
    if ci_lower is not None and ci_upper is not None:
        _check_finite("ci_lower", ci_lower)
        _check_finite("ci_upper", ci_upper)
        if not ci_lower <= estimate <= ci_upper:
            raise InputError(f"estimate {estimate} lies outside its CI [{ci_lower}, {ci_upper}]",
                             field="estimate")
        if ci_lower > null:
            above = True
        elif ci_upper < null:
            above = False
        else:
            return Direction.NO_DIFFERENCE
    elif p is not None:
        _check_finite("p", p)
        if not 0.0 <= p <= 1.0:
            raise InputError(f"p must lie in [0, 1], got {p}", field="p")
        if p >= alpha or estimate == null:
            return Direction.NO_DIFFERENCE
        above = estimate > null
    else:
        raise InputError("need a confidence interval (ci_lower and ci_upper) or a p value", field="ci_lower")
    return Direction.BETTER if above == higher_favours else Direction.WORSE


def is_significant(direction: Direction) -> bool:
    """True for a significant vote in either direction."""
    return direction is not Direction.NO_DIFFERENCE


def _check_finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, got {value}", field=name)
