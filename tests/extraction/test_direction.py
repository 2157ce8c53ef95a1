"""Direction and significance derived from estimate + CI (or p), with the measure's null and orientation."""

from __future__ import annotations

import pytest

from metareview.errors import InputError
from metareview.extraction.direction import Direction, derive_direction, null_value


def test_domhardt_2019_head_to_head_favours_guided() -> None:
    # Domhardt et al. 2019 (Depress Anxiety 36:213), abstract: SMD -0.39 (95% CI -0.59 to -0.18) favouring
    # guided; a negative SMD of symptoms favours the guided arm, so lower is better.
    ci = {"ci_lower": -0.59, "ci_upper": -0.18}
    assert derive_direction("SMD", -0.39, **ci, higher_favours=False) is Direction.BETTER
    assert derive_direction("SMD", -0.39, **ci) is Direction.WORSE


@pytest.mark.parametrize(
    ("measure", "est", "lo", "hi", "expected"),
    [
        ("OR", 1.5, 1.04, 2.23, Direction.BETTER),  # ratio: null is 1
        ("OR", 0.8, 0.7, 0.95, Direction.WORSE),
        ("OR", 1.02, 0.78, 1.34, Direction.NO_DIFFERENCE),
        ("RR", 0.5, 0.3, 0.9, Direction.WORSE),
        ("MD", 0.5, 0.01, 0.99, Direction.BETTER),  # difference: null is 0
        ("SMD", 0.1, -0.1, 0.3, Direction.NO_DIFFERENCE),
        ("SMD", 0.2, 0.0, 0.4, Direction.NO_DIFFERENCE),  # a CI touching the null is not significant
    ],
)
def test_ci_against_the_null(measure: str, est: float, lo: float, hi: float, expected: Direction) -> None:
    assert derive_direction(measure, est, ci_lower=lo, ci_upper=hi) is expected


def test_p_when_no_ci() -> None:
    # Heber et al. 2017 (JMIR 19:e32): guided d=0.64 vs unguided d=0.33, P=.002 -> guided better
    assert derive_direction("SMD", 0.31, p=0.002) is Direction.BETTER
    assert derive_direction("SMD", 0.31, p=0.06) is Direction.NO_DIFFERENCE
    assert derive_direction("OR", 0.7, p=0.01) is Direction.WORSE


def test_nulls() -> None:
    assert null_value("rr") == 1.0 and null_value("SMD") == 0.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"measure": "SMD", "estimate": 0.5}, "ci_lower"),  # neither CI nor p
        ({"measure": "SMD", "estimate": 0.5, "ci_lower": 0.6, "ci_upper": 0.9}, "estimate"),  # outside CI
        ({"measure": "OR", "estimate": -0.2, "p": 0.01}, "estimate"),  # log scale given for a ratio
        ({"measure": "XYZ", "estimate": 0.5, "p": 0.01}, "measure"),
        ({"measure": "SMD", "estimate": 0.5, "p": 1.5}, "p"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict, field: str) -> None:
    measure = kwargs.pop("measure")
    estimate = kwargs.pop("estimate")
    with pytest.raises(InputError) as info:
        derive_direction(measure, estimate, **kwargs)
    assert info.value.field == field
