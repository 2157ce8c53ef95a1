"""``design_matrix``, ``meta_reg``, ``meta_many`` and ``subgroup``: behaviour, errors and result objects.
(Their numbers are checked against metafor in test_parity_meta.py and test_analysis_bcg.py.)"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from metareview.stats import StatsInputError, design_matrix, meta, meta_many, meta_reg, subgroup

YI = [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01, -0.47, -1.37, -0.34, 0.45, -0.02]
VI = [0.33, 0.19, 0.42, 0.02, 0.05, 0.007, 0.22, 0.004, 0.06, 0.07, 0.012, 0.53, 0.07]
LAT = [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33]


def test_design_matrix_treatment_coding_like_r() -> None:
    x, names = design_matrix(
        {
            "dose": [1.5, 2, 3, 1, 2, 5],
            "arm": ["b", "a", "c", "a", "c", "b"],
            "blind": [True, False, True, True, False, False],
        }
    )
    # R: model.matrix(~ dose + factor(arm) + blind): reference = first level in sorted order
    assert names == ["intrcpt", "dose", "armb", "armc", "blindTrue"]
    assert x.tolist() == [
        [1, 1.5, 1, 0, 1],
        [1, 2, 0, 0, 0],
        [1, 3, 0, 1, 1],
        [1, 1, 0, 0, 1],
        [1, 2, 0, 1, 0],
        [1, 5, 1, 0, 0],
    ]
    x0, names0 = design_matrix({"dose": [1.0, 2.0]}, intercept=False)
    assert names0 == ["dose"] and x0.shape == (2, 1)


@pytest.mark.parametrize(
    ("columns", "match"),
    [
        ({"a": [1, 2], "b": [1]}, "differ in length"),
        ({"a": [1, float("nan"), 3]}, "missing"),
        ({"a": ["x", None, "y"]}, "missing"),
        ({"a": [1, 1, 1]}, "full column rank"),
        ({"a": [1, 2, 3], "b": [2, 4, 6]}, "full column rank"),
    ],
)
def test_design_matrix_errors(columns: dict[str, list[object]], match: str) -> None:
    with pytest.raises(StatsInputError, match=match):
        design_matrix(columns)  # type: ignore[arg-type]


def test_design_matrix_error_names_column_and_index() -> None:
    with pytest.raises(StatsInputError) as err:
        design_matrix({"lat": [10, 20, None]})
    assert (err.value.field, err.value.index) == ("lat", 2)


def test_meta_reg_matrix_mods_and_result_objects() -> None:
    by_map = meta_reg(YI, VI, {"lat": LAT})
    by_array = meta_reg(YI, VI, np.array(LAT, dtype=float))
    assert by_array.names == ["intrcpt", "mods"]
    assert by_array.estimates == pytest.approx(by_map.estimates)
    d = by_map.to_dict()
    json.dumps(d)
    assert [c["name"] for c in d["coefficients"]] == ["intrcpt", "lat"]
    assert by_map.to_frame()["name"].tolist() == ["intrcpt", "lat"]
    assert "Test of Moderators (coefficient 2)" in str(by_map)


def test_meta_reg_without_intercept_and_equal_effects() -> None:
    no_int = meta_reg(YI, VI, {"lat": LAT}, intercept=False)
    assert no_int.names == ["lat"] and math.isnan(no_int.r2)
    assert no_int.qm_df == 1  # all coefficients tested when there is no intercept
    ee = meta_reg(YI, VI, {"lat": LAT}, method="FE")
    assert ee.method == "EE" and ee.tau2 == 0.0
    # metafor 3.8.1: rma(yi, vi, mods = ~ lat, method = "FE")$R2 = 77.8651686534 (weighted lm's adjusted R^2)
    assert ee.r2 == pytest.approx(77.8651686534, abs=1e-9)
    assert "Fixed-Effects with Moderators Model" in str(ee)
    assert "R^2 (amount of heterogeneity accounted for):            77.87%" in str(ee)


def test_meta_reg_needs_enough_studies() -> None:
    with pytest.raises(StatsInputError, match="need k >= 3"):
        meta_reg([0.1, 0.2], [0.1, 0.1], {"x": [1, 2]})
    with pytest.raises(StatsInputError, match="rows"):
        meta_reg(YI, VI, np.ones((3, 1)))


def test_meta_reg_intercept_only_equals_meta() -> None:
    reg = meta_reg(YI, VI, None)
    one = meta(YI, VI)
    assert reg.estimates[0] == pytest.approx(one.estimate, abs=1e-12)
    assert reg.tau2 == pytest.approx(one.tau2, abs=1e-12)
    assert reg.qm_df == 0 and math.isnan(reg.qm)


def test_meta_many_groups_lookup_and_frame() -> None:
    groups = [3, 1, 3, 1, 2, 2, 3, 1, 2, 3, 1, 2, 3]
    res = meta_many(YI, VI, groups, method="DL")
    assert len(res) == 3 and list(res.groups) == [1, 2, 3]
    rows = [i for i, g in enumerate(groups) if g == 2]
    one = meta([YI[i] for i in rows], [VI[i] for i in rows], method="DL")
    assert res[2].estimate == pytest.approx(one.estimate, abs=1e-12)
    assert res[2].yi.tolist() == [YI[i] for i in rows]
    frame = res.to_frame()
    assert frame.columns[0] == "group" and frame["k"].tolist() == [4, 4, 5]
    json.dumps(res.to_dict())
    assert str(res).startswith("3 meta-analyses (tau^2 estimator: DL")
    with pytest.raises(KeyError, match="no group 7"):
        res[7]
    with pytest.raises(StatsInputError, match="one label per effect"):
        meta_many(YI, VI, groups[:-1])


def test_meta_many_converges_group_by_group() -> None:
    # a group that needs many Fisher-scoring steps must not stop the others (per-group mask)
    yi = np.r_[YI, [0.1, 0.12, 0.5, -0.4]]
    vi = np.r_[VI, [0.01, 0.02, 0.01, 0.02]]
    groups = ["bcg"] * 13 + ["small"] * 4
    res = meta_many(yi, vi, groups)
    assert res["bcg"].iterations == meta(YI, VI).iterations
    assert res["small"].iterations == meta(yi[13:], vi[13:]).iterations
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        capped = meta_many(yi, vi, groups, control={"maxiter": 1})
    assert not capped.column("converged").all()


def test_subgroup_requires_two_groups_and_prints_both_tests() -> None:
    with pytest.raises(StatsInputError, match="at least 2 subgroups"):
        subgroup(YI, VI, ["a"] * 13)
    res = subgroup(YI, VI, ["a", "b"] * 6 + ["a"], method="DL", test="knha")
    text = str(res)
    assert "separate tau^2 per subgroup" in text and "F(df1 = 1, df2 = 11)" in text
    d = res.to_dict()
    assert d["q_between_df"] == 1 and d["qm_df2"] == 11
    assert res.to_frame().shape[0] == 2


def test_meta_many_prints_head_and_tail_of_many_groups() -> None:
    rng = np.random.default_rng(7)
    groups = np.repeat([f"g{i:02d}" for i in range(30)], 4)
    rng.shuffle(groups)  # rows of a group need not be contiguous
    yi, vi = rng.normal(size=120), rng.uniform(0.01, 0.1, 120)
    res = meta_many(yi, vi, groups, method="DL")
    text = str(res)
    assert "... 10 more groups (to_frame() has all) ..." in text
    assert "g00" in text and "g29" in text and "g15" not in text
    for g in res.groups:
        one = res[g]
        assert one.yi.tolist() == yi[groups == g].tolist()  # the group's rows, in file order
        assert one.estimate == pytest.approx(
            meta(yi[groups == g], vi[groups == g], method="DL").estimate, abs=1e-12
        )
