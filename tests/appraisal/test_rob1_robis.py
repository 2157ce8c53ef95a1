"""RoB 1 (Handbook 5.1, Table 8.7.a summary rule) and ROBIS (Whiting 2016) forms."""

from __future__ import annotations

import pytest

from metareview.errors import InputError
from metareview.extraction import rob1, robis

ALL_LOW = dict.fromkeys(rob1.DOMAINS, "low")


def test_rob1_summary_table_8_7_a():
    # Table 8.7.a: low = low for all key domains; high = high for one or more key domains;
    # unclear = unclear for one or more key domains (and none high)
    assert rob1.assess(ALL_LOW).summary == "low"
    assert rob1.assess(ALL_LOW | {"blinding_outcome": "unclear"}).summary == "unclear"
    assert rob1.assess(ALL_LOW | {"blinding_outcome": "unclear", "allocation_concealment": "high"}).summary \
        == "high"
    # a non-key domain does not count; the key domains are configurable
    assert rob1.assess(ALL_LOW | {"other": "high"}).summary == "low"
    only = rob1.assess(ALL_LOW | {"blinding_participants": "high"},
                       key_domains=("sequence_generation", "allocation_concealment"))
    assert only.summary == "low"


def test_rob1_rejects_bad_input():
    with pytest.raises(InputError, match="allowed: low, unclear, high"):
        rob1.assess(ALL_LOW | {"other": "some concerns"})
    with pytest.raises(InputError, match="missing for 'other'"):
        rob1.assess({k: v for k, v in ALL_LOW.items() if k != "other"})
    with pytest.raises(InputError, match="unknown RoB 1 key domain"):
        rob1.assess(ALL_LOW, key_domains=("randomisation",))
    assert rob1.assess(ALL_LOW | {"other": "High risk"}).judgements["other"] == "high"


ALL_Y = dict.fromkeys(robis.QUESTIONS, "Y")


def test_robis_structure():
    assert [len(qs) for _, qs in robis.DOMAINS.values()] == [5, 5, 5, 6]
    assert robis.PHASE3 == ("A", "B", "C")


def test_robis_suggestions_and_judgements():
    a = robis.assess(ALL_Y | {"1.3": "PY", "2.2": "PN", "3.4": "NI"})
    assert [d.suggested for d in a.domains] == ["low", "high", "unclear", "low"]
    assert a.overall_suggested == "low"
    b = robis.assess(ALL_Y | {"B": "N"}, concerns={"3": "high", "overall": "unclear"},
                     rationale={"overall": "relevance unclear"})
    assert b.overall_suggested == "high" and b.overall == "unclear"
    assert b.domains[2].suggested == "low" and b.domains[2].concern == "high"
    assert b.judgements()["D3"] == "high"


def test_robis_rejects_bad_input():
    with pytest.raises(InputError, match="allowed: Y, PY, PN, N, NI"):
        robis.assess(ALL_Y | {"4.6": "NA"})
    with pytest.raises(InputError, match="4.6 not answered"):
        robis.assess({k: v for k, v in ALL_Y.items() if k != "4.6"})
    with pytest.raises(InputError, match="allowed: low, high, unclear"):
        robis.assess(ALL_Y, concerns={"1": "some concerns"})
    with pytest.raises(InputError, match="unknown ROBIS domain"):
        robis.assess(ALL_Y, concerns={"5": "low"})
