"""The hypergeometric stopping rule (Callaghan & Müller-Hansen 2020) against hand-derived p-values; the
protocol's ``[screening.stopping]`` settings and the rule registry."""

from __future__ import annotations

import math

import pytest

from metareview.errors import InputError
from metareview.protocol import TEMPLATE, Protocol
from metareview.screening.stopping import (
    consecutive_irrelevant,
    hypergeometric_test,
    random_sample_size,
    stop_p_value,
)
from metareview.screening.stopping_rules import DEFAULT_RULE, apply_rule


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


def test_p_value_against_scipy_loop():
    # Independent of the vectorised code: every start i by hand with scipy's scalar hypergeometric cdf.
    from scipy.stats import hypergeom

    labels = [1, 1, 0, 1, 0, 0, 1] + [0] * 40 + [1] + [0] * 300
    n_total, tau = 800, 0.95
    r = sum(labels)
    best = 1.0
    for i in range(len(labels)):
        before = sum(labels[:i])
        urn, drawn, k = n_total - i, len(labels) - i, r - before
        needed = math.floor(r / tau) - before + 1
        p = 0.0 if needed > urn else float(hypergeom.cdf(k, urn, needed, drawn))
        best = min(best, p)
    assert stop_p_value(labels, n_total, tau) == pytest.approx(best, rel=1e-9)
    res = hypergeometric_test(labels, n_total)
    assert res.stop == (best < 0.05)
    assert "target recall 95%, confidence 95%" in str(res) and res.guarantee


# ------------------------------------------------------------------------------ the protocol's rule


def test_apply_rule_by_name_and_defaults():
    y = [1] * 30 + [0] * 170
    knee = apply_rule("knee", y, 2000)
    assert knee.stop and "knee" in knee.rule and knee.claim.startswith("heuristic")
    assert not apply_rule("knee", y, 2000, params={"min_screened": 300}).stop
    hyper = apply_rule("hypergeometric", y, 2000, 0.9, 0.8)
    assert hyper.target_recall == 0.9 and hyper.confidence == 0.8
    assert apply_rule("consecutive", y, 2000, params={"n": 170}).stop
    with pytest.raises(InputError, match="takes min_screened"):
        apply_rule("knee", y, 2000, params={"n": 3})
    with pytest.raises(InputError, match="unknown stopping rule"):
        apply_rule("magic", y, 2000)


def test_protocol_stopping_settings():
    proto = Protocol.from_toml(TEMPLATE)
    st = proto.screening.stopping
    assert st.rule == DEFAULT_RULE and st.target_recall == 0.95 and st.confidence == 0.95
    text = TEMPLATE + '\n[screening.stopping]\nrule = "knee"\n'
    text += "[screening.stopping.params]\nmin_screened = 300\n"
    # the template's [screening] table already exists; a sub-table after it is valid TOML
    st = Protocol.from_toml(text).screening.stopping
    assert st.rule == "knee" and st.parameters == {"min_screened": 300}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('rule = "magic"', "unknown stopping rule 'magic'"),
        ("target_recall = 1.2", "less than 1"),
        ('rule = "knee"\n[screening.stopping.params]\nn_windows = 4', "takes min_screened"),
        ('rule = "poisson"\n[screening.stopping.params]\nmin_relevant = 2.5', "whole number"),
        ('rule = "hypergeometric"\n[screening.stopping.params]\nn = 3', "takes no parameters"),
    ],
)
def test_protocol_bad_stopping_settings(body, message):
    with pytest.raises(InputError, match=message) as err:
        Protocol.from_toml(f'title = "x"\n[screening.stopping]\n{body}\n')
    assert err.value.field is not None and err.value.field.startswith("screening.stopping")
    assert err.value.line is not None
