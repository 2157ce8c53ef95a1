"""escalc: ``na_action``, the per-measure ``add`` default and the errors of the measures added in issue 13.

(Their values are checked against metafor in ``test_escalc_parity_more.py``.)
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from metareview.stats import MEASURES, StatsInputError, escalc
from metareview.stats.missing import OmittedWarning


def test_na_action_pass_omit_fail() -> None:
    args = {"m1i": [1.0, 2.0, 3.0], "m2i": [0.5, math.nan, 1.0], "sd1i": [1.0, 1, 1], "sd2i": [1.0, 1, 1]}
    args |= {"n1i": [10, 10, 10], "n2i": [12, 12, 12]}
    passed = escalc("SMDH", **args)
    assert passed.k == 3 and math.isnan(passed.yi[1]) and passed.omitted == ()
    with pytest.warns(OmittedWarning, match="indices 1"):
        omitted = escalc("SMDH", **args, na_action="omit")
    assert omitted.k == 2 and omitted.omitted == (1,)
    np.testing.assert_array_equal(omitted.yi, passed.yi[[0, 2]])
    assert omitted.to_dict()["omitted"] == [1]
    with pytest.raises(StatsInputError, match="row 1") as err:
        escalc("SMDH", **args, na_action="fail")
    assert err.value.index == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert escalc("MN", mi=[1.0], sdi=[2.0], ni=[10], na_action="omit").omitted == ()
    with pytest.raises(StatsInputError, match="na_action"):
        escalc("MN", mi=[1.0], sdi=[2.0], ni=[10], na_action="exclude")


def test_add_defaults_to_zero_for_the_arcsine_and_square_root_measures() -> None:
    # metafor: add = 0 unless given for PAS, PFT, IRSD, IRS, IRFT; so a zero count stays zero here
    assert escalc("PAS", xi=[0], ni=[10]).yi[0] == 0.0
    assert escalc("PAS", xi=[0], ni=[10], add=0.5).yi[0] == pytest.approx(math.asin(math.sqrt(0.5 / 11)))
    assert escalc("IRS", xi=[0], ti=[4.0]).yi[0] == 0.0
    assert escalc("IRLN", xi=[0], ti=[4.0]).yi[0] == pytest.approx(math.log(0.5 / 4))


@pytest.mark.parametrize(
    ("measure", "kwargs", "field"),
    [
        ("IRR", {"x1i": [1, -1], "x2i": [1, 1], "t1i": [1, 1], "t2i": [1, 1]}, "x1i"),
        ("IRD", {"x1i": [1, 1], "x2i": [1, 1], "t1i": [1, 1], "t2i": [1, 0]}, "t2i"),
        ("IRLN", {"xi": [1], "ti": [-2.0]}, "ti"),
        ("SMCC", {"m1i": [1], "m2i": [0], "sd1i": [1], "sd2i": [1], "ri": [1.2], "ni": [10]}, "ri"),
        ("SMCR", {"m1i": [1], "m2i": [0], "sd1i": [-1], "ri": [0.5], "ni": [10]}, "sd1i"),
        ("MNLN", {"mi": [-1.0], "sdi": [1], "ni": [10]}, "mi"),
        ("MN", {"mi": [1.0], "sdi": [1], "ni": [0]}, "ni"),
        ("VR", {"sd1i": [1], "sd2i": [1], "n1i": [0], "n2i": [3]}, "n1i"),
        ("PFT", {"xi": [-1], "ni": [10]}, "xi"),
    ],
)
def test_impossible_input_names_the_argument(
    measure: str, kwargs: dict[str, list[float]], field: str
) -> None:
    with pytest.raises(StatsInputError) as err:
        escalc(measure, **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


def test_missing_arguments_and_arguments_of_another_family() -> None:
    with pytest.raises(StatsInputError, match="needs x1i, x2i, t1i, t2i"):
        escalc("IRR", x1i=[1], x2i=[1], t1i=[1])
    with pytest.raises(StatsInputError, match="'ti' is not used by measure SMDH"):
        escalc("SMDH", m1i=[1], m2i=[1], sd1i=[1], sd2i=[1], n1i=[5], n2i=[5], ti=[1])
    with pytest.raises(StatsInputError, match="vtype 'LS2' is not available for VR"):
        escalc("VR", sd1i=[1], sd2i=[1], n1i=[5], n2i=[5], vtype="LS2")


def test_every_new_measure_is_listed() -> None:
    for code in ("SMDH", "SMD1", "SMCC", "SMCR", "SMCRH", "IRR", "IRD", "IRLN", "PFT", "PAS", "PLN", "MN"):
        assert code in MEASURES
    for code in ("MNLN", "CVR", "VR", "ROMC", "D2OR", "D2ORN", "D2ORL", "OR2D", "OR2DN", "OR2DL"):
        assert code in MEASURES
