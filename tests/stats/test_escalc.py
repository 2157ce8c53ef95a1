"""escalc against published values, hand arithmetic for zero cells, and input errors.

Live parity with metafor on generated data is in ``test_escalc_parity.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from metareview.stats.errors import StatsInputError
from metareview.stats.escalc import EffectSizes, escalc, hedges_correction

# BCG vaccine trials (Colditz et al. 1994, JAMA 271:698-702; metafor's dat.bcg):
# vaccinated TB+ / TB-, control TB+ / TB- for the 13 trials.
BCG_TPOS = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
BCG_TNEG = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
BCG_CPOS = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
BCG_CNEG = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]
# Log risk ratios and variances as printed in Viechtbauer (2010), "Conducting meta-analyses in R
# with the metafor package", J Stat Softw 36(3):1-48 (the escalc output for dat.bcg).
BCG_LOGRR = [-0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861, -1.6209,
             0.0120, -0.4694, -1.3713, -0.3394, 0.4459, -0.0173]  # fmt: skip
BCG_VI = [0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069, 0.2230,
          0.0040, 0.0564, 0.0730, 0.0124, 0.5325, 0.0714]  # fmt: skip


def test_bcg_log_risk_ratios_match_published_table() -> None:
    es = escalc("RR", ai=BCG_TPOS, bi=BCG_TNEG, ci=BCG_CPOS, di=BCG_CNEG)
    np.testing.assert_allclose(es.yi, BCG_LOGRR, atol=5e-5)
    np.testing.assert_allclose(es.vi, BCG_VI, atol=5e-5)


def test_bcg_group_totals_instead_of_non_events_give_the_same_table() -> None:
    n1 = np.add(BCG_TPOS, BCG_TNEG)
    n2 = np.add(BCG_CPOS, BCG_CNEG)
    es = escalc("rr", ai=BCG_TPOS, n1i=n1, ci=BCG_CPOS, n2i=n2)
    assert es.measure == "RR"
    np.testing.assert_allclose(es.yi, BCG_LOGRR, atol=5e-5)
    np.testing.assert_allclose(es.vi, BCG_VI, atol=5e-5)


# Borenstein, Hedges, Higgins & Rothstein (2009), Introduction to Meta-Analysis, ch. 4 (d and g
# from independent groups), worked example: means 103 vs 100, SDs 5.5 and 4.5, n = 50 per group
# -> g = 0.5924, V_g = 0.0411 (their V_g = J^2 V_d is metafor's vtype="LS2").
BORENSTEIN = dict(m1i=[103.0], m2i=[100.0], sd1i=[5.5], sd2i=[4.5], n1i=[50], n2i=[50])


def test_smd_borenstein_worked_example() -> None:
    es = escalc("SMD", **BORENSTEIN, vtype="LS2")
    assert es.yi[0] == pytest.approx(0.5924, abs=5e-5)  # Borenstein et al. 2009, ch. 4: g
    assert es.vi[0] == pytest.approx(0.0411, abs=5e-5)  # Borenstein et al. 2009, ch. 4: V_g


def test_smd_default_large_sample_variance_uses_g() -> None:
    es = escalc("SMD", **BORENSTEIN)
    g = 0.5924  # Borenstein et al. 2009 (above)
    assert es.vi[0] == pytest.approx(1 / 50 + 1 / 50 + g**2 / 200, abs=5e-5)  # metafor vtype="LS"


def test_hedges_correction_closed_forms() -> None:
    # J(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)): J(2) = 1/sqrt(pi), J(3) = sqrt(pi/6),
    # J(4) = sqrt(2/pi) (Gamma(1/2) = sqrt(pi)); undefined for m <= 1.
    j = hedges_correction([2, 3, 4, 1])
    np.testing.assert_allclose(
        j[:3], [1 / math.sqrt(math.pi), math.sqrt(math.pi / 6), math.sqrt(2 / math.pi)]
    )
    assert math.isnan(j[3])


def test_md_and_rom() -> None:
    md = escalc("MD", **BORENSTEIN)
    assert md.yi[0] == pytest.approx(3.0)
    assert md.vi[0] == pytest.approx(5.5**2 / 50 + 4.5**2 / 50)
    rom = escalc("ROM", **BORENSTEIN)
    assert rom.yi[0] == pytest.approx(math.log(103 / 100))
    assert rom.vi[0] == pytest.approx(5.5**2 / (50 * 103**2) + 4.5**2 / (50 * 100**2))


ZERO_TABLE = dict(ai=[0, 2], bi=[10, 8], ci=[4, 3], di=[6, 7])


def test_zero_cell_gets_half_added_only_in_its_own_table() -> None:
    es = escalc("OR", **ZERO_TABLE)
    # study 1 (a zero cell): 0.5 / 10.5 vs 4.5 / 6.5 after adding 1/2 to every cell
    assert es.yi[0] == pytest.approx(math.log((0.5 / 10.5) / (4.5 / 6.5)))
    assert es.vi[0] == pytest.approx(1 / 0.5 + 1 / 10.5 + 1 / 4.5 + 1 / 6.5)
    # study 2 untouched
    assert es.yi[1] == pytest.approx(math.log((2 / 8) / (3 / 7)))
    assert es.vi[1] == pytest.approx(1 / 2 + 1 / 8 + 1 / 3 + 1 / 7)


def test_zero_cell_options() -> None:
    assert np.isnan(escalc("OR", **ZERO_TABLE, to="none").yi[0])  # log(0) -> missing, like metafor
    every = escalc("OR", **ZERO_TABLE, to="if0all")
    assert every.yi[1] == pytest.approx(math.log((2.5 / 8.5) / (3.5 / 7.5)))
    assert escalc("OR", **ZERO_TABLE, to="all").yi[1] == pytest.approx(every.yi[1])
    assert escalc("RR", **ZERO_TABLE, add=1.0).yi[0] == pytest.approx(math.log((1 / 12) / (5 / 12)))
    rd = escalc("RD", **ZERO_TABLE)
    assert rd.yi[0] == pytest.approx(0.5 / 11 - 4.5 / 11)


def test_drop00_drops_tables_without_events_in_both_groups() -> None:
    es = escalc("OR", ai=[0, 1], bi=[10, 9], ci=[0, 2], di=[12, 10], drop00=True)
    assert np.isnan(es.yi[0]) and np.isnan(es.vi[0])
    assert es.yi[1] == pytest.approx(math.log((1 / 9) / (2 / 10)))
    kept = escalc("OR", ai=[0], bi=[10], ci=[0], di=[12])
    assert kept.yi[0] == pytest.approx(math.log((0.5 / 10.5) / (0.5 / 12.5)))


def test_peto_odds_ratio_by_hand() -> None:
    a, b, c, d = 3, 7, 1, 9
    n1, n2, n = a + b, c + d, a + b + c + d
    expected = (a + c) * n1 / n
    var = (a + c) * (b + d) * n1 * n2 / (n**2 * (n - 1))  # Yusuf et al. 1985, Prog Cardiovasc Dis 27:335
    es = escalc("PETO", ai=[a], bi=[b], ci=[c], di=[d])
    assert es.yi[0] == pytest.approx((a - expected) / var)
    assert es.vi[0] == pytest.approx(1 / var)


def test_proportions_and_correlations() -> None:
    plo = escalc("PLO", xi=[0, 3], ni=[10, 10])
    assert plo.yi[0] == pytest.approx(math.log(0.5 / 10.5))
    assert plo.vi[1] == pytest.approx(1 / 3 + 1 / 7)
    pr = escalc("PR", xi=[3], mi=[7])
    assert pr.yi[0] == pytest.approx(0.3) and pr.vi[0] == pytest.approx(0.3 * 0.7 / 10)
    z = escalc("ZCOR", ri=[0.5], ni=[23])
    assert z.yi[0] == pytest.approx(0.5 * math.log(1.5 / 0.5)) and z.vi[0] == pytest.approx(1 / 20)
    r = escalc("COR", ri=[0.5], ni=[23])
    assert r.yi[0] == pytest.approx(0.5) and r.vi[0] == pytest.approx(0.75**2 / 22)


def test_generic_input_with_standard_errors() -> None:
    es = escalc("GEN", yi=[0.1, -0.2], sei=[0.2, 0.5])
    np.testing.assert_allclose(es.vi, [0.04, 0.25])
    labelled = escalc("SMD", yi=[0.3], vi=[0.05])
    assert labelled.measure == "SMD" and labelled.vi[0] == 0.05


def test_missing_input_gives_missing_output() -> None:
    es = escalc(
        "SMD", m1i=[1.0, np.nan], m2i=[0.0, 0.0], sd1i=[1, 1], sd2i=[1, 1], n1i=[10, 10], n2i=[10, 10]
    )
    assert not np.isnan(es.yi[0])
    assert np.isnan(es.yi[1]) and np.isnan(es.vi[1])


def test_result_object() -> None:
    es = escalc("RR", ai=BCG_TPOS[:2], bi=BCG_TNEG[:2], ci=BCG_CPOS[:2], di=BCG_CNEG[:2])
    assert isinstance(es, EffectSizes) and es.k == 2
    with pytest.raises(ValueError):
        es.yi[0] = 1.0  # read-only
    d = es.to_dict()
    assert d["measure"] == "RR" and d["yi"][0] == pytest.approx(BCG_LOGRR[0], abs=5e-5)
    frame = es.to_frame()
    assert list(frame.columns) == ["yi", "vi", "sei"]
    np.testing.assert_allclose(frame["sei"] ** 2, es.vi)
    text = str(es)
    assert "measure: RR" in text and "-0.8893" in text and "0.3256" in text
    assert escalc("OR", ai=[0], bi=[1], ci=[0], di=[1], to="none").to_dict()["yi"] == [None]


@pytest.mark.parametrize(
    ("kwargs", "field", "index", "fragment"),
    [
        (dict(measure="OR", ai=[1, 2], bi=[3, 4], ci=[1, 2], di=[3]), "di", None, "has 1 values"),
        (dict(measure="OR", ai=[1, -2], bi=[3, 4], ci=[1, 2], di=[3, 4]), "ai", 1, ">= 0"),
        (dict(measure="RR", ai=[1, 9], n1i=[5, 8], ci=[1, 2], di=[3, 4]), "ai", 1, "larger than n1i"),
        (dict(measure="RR", ai=[1, 2], bi=[3, 4], n1i=[4, 7], ci=[1, 2], di=[3, 4]), "n1i", 1, "ai + bi"),
        (dict(measure="OR", ai=[1], ci=[1], di=[3]), "bi", None, "bi or n1i"),
        (
            dict(measure="SMD", m1i=[1, 2], m2i=[0, 0], sd1i=[1, 1], sd2i=[1, 1], n1i=[5, 1], n2i=[5, 5]),
            "n1i",
            1,
            ">= 2",
        ),  # fmt: skip
        (dict(measure="MD", m1i=[1], m2i=[0], sd1i=[-1], sd2i=[1], n1i=[5], n2i=[5]), "sd1i", 0, ">= 0"),
        (dict(measure="ROM", m1i=[1], m2i=[0], sd1i=[1], sd2i=[1], n1i=[5], n2i=[5]), "m2i", 0, "> 0"),
        (dict(measure="SMD", m1i=[1], m2i=[0], sd1i=[1], n1i=[5], n2i=[5]), "sd2i", None, "missing"),
        (dict(measure="ZCOR", ri=[0.2, 1.0], ni=[10, 10]), "ri", 1, "between -1 and 1"),
        (dict(measure="COR", ri=[0.2, -1.2], ni=[10, 10]), "ri", 1, "between -1 and 1"),
        (dict(measure="ZCOR", ri=[0.2], ni=[3]), "ni", 0, "> 3"),
        (dict(measure="PLO", xi=[-1], ni=[10]), "xi", 0, ">= 0"),
        (dict(measure="PR", xi=[0], mi=[0]), "ni", 0, "> 0"),
        (dict(measure="XYZ", ri=[0.1], ni=[10]), "measure", None, "unknown measure"),
        (dict(measure="SMD", ai=[1], m1i=[1]), "ai", None, "not used"),
        (dict(measure="OR", ai=[1], bi=[1], ci=[1], di=[1], vtype="UB"), "vtype", None, "not available"),
        (dict(measure="OR", ai=[1], bi=[1], ci=[1], di=[1], to="some"), "to", None, "to must be"),
        (dict(measure="OR", ai=[1], bi=[1], ci=[1], di=[1], add=-1.0), "add", None, ">= 0"),
        (dict(measure="GEN", yi=[0.1], vi=[0.1], sei=[0.3]), "sei", None, "not both"),
        (dict(measure="GEN", yi=[0.1, 0.2], vi=[0.1, -0.1]), "vi", 1, ">= 0"),
        (dict(measure="GEN", yi=[0.1], sei=[-0.1]), "sei", 0, ">= 0"),
        (dict(measure="GEN", yi=[0.1]), "vi", None, "vi or sei"),
        (dict(measure="GEN", vi=[0.1]), "yi", None, "needs yi"),
        (dict(measure="GEN", yi=[[0.1]], vi=[0.1]), "yi", None, "one-dimensional"),
        (dict(measure="GEN", yi=["a"], vi=[0.1]), "yi", None, "numeric"),
    ],
)
def test_bad_input_names_argument_and_index(
    kwargs: dict, field: str, index: int | None, fragment: str
) -> None:
    with pytest.raises(StatsInputError) as err:
        escalc(**kwargs)
    assert err.value.field == field
    assert err.value.index == index
    assert fragment in str(err.value)
