"""The hypergeometric stopping rule (Callaghan & Müller-Hansen 2020) against hand-derived p-values."""

from __future__ import annotations

import pytest

from metareview.errors import InputError
from metareview.screening.stopping import (
    consecutive_irrelevant,
    hypergeometric_test,
    random_sample_size,
    stop_p_value,
)


def test_p_value_one_relevant_needed():
    # 10 relevant first, then 200 irrelevant, N = 1000, target 95%: H0 needs floor(10/0.95) - 10 + 1 = 1
    # relevant record among the 990 unscreened after position 10; P(none in 200 draws) = 790/990.
    labels = [1] * 10 + [0] * 200
    assert stop_p_value(labels, 1000, 0.95) == pytest.approx(790 / 990, rel=1e-12)
    res = hypergeometric_test(labels, 1000)
    assert not res.stop and res.relevant_found == 10 and "200 screened" in res.basis


def test_p_value_two_relevant_needed_and_stop():
    # 20 relevant: H0 needs floor(20/0.95) - 20 + 1 = 2 in the urn of 980; P(0 of 2 in 900 draws)
    labels = [1] * 20 + [0] * 900
    urn, n = 980, 900
    expected = (urn - n) * (urn - n - 1) / (urn * (urn - 1))
    assert stop_p_value(labels, 1000, 0.95) == pytest.approx(expected, rel=1e-12)
    res = hypergeometric_test(labels, 1000, 0.95, 0.95)
    assert res.stop and res.recall_lower_bound is not None and res.recall_lower_bound >= 0.95
    assert "STOP" in str(res)


def test_random_sample_size():
    # 10 found, one more relevant needed under H0: p(n) = (990 - n)/990 < 0.05  <=>  n >= 941
    assert random_sample_size(990, 10, 0.95, 0.95) == 941


def test_no_relevant_found_cannot_stop():
    res = hypergeometric_test([0] * 50, 100)
    assert not res.stop and res.p_value == 1.0 and res.recall_lower_bound is None


def test_consecutive_irrelevant():
    assert consecutive_irrelevant([1, 0, 0, 0], 100, n=3).stop
    assert not consecutive_irrelevant([1, 0, 0, 1, 0], 100, n=3).stop


def test_bad_input():
    with pytest.raises(InputError):
        hypergeometric_test([1, 2], 10)
    with pytest.raises(InputError):
        hypergeometric_test([1, 0, 0], 2)
    with pytest.raises(InputError):
        hypergeometric_test([1, 0], 10, target_recall=1.0)
