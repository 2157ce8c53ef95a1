"""AMSTAR 2 overall confidence by the rules of Shea et al. 2017 (BMJ 358:j4008, Box 2)."""

from __future__ import annotations

import pytest

from metareview.errors import InputError
from metareview.extraction.amstar2 import CRITICAL_ITEMS, appraise

ALL_YES = dict.fromkeys(range(1, 17), "yes")


def test_critical_domains_are_items_2_4_7_9_11_13_15() -> None:  # Shea et al. 2017, Box 1
    assert sorted(CRITICAL_ITEMS) == [2, 4, 7, 9, 11, 13, 15]


@pytest.mark.parametrize(
    ("noes", "expected"),
    [
        ([], "high"),  # no weakness
        ([3], "high"),  # one non-critical weakness
        ([3, 10], "moderate"),  # more than one non-critical weakness
        ([1, 3, 5, 6, 8, 10, 12, 14, 16], "moderate"),  # many non-critical, still no critical flaw
        ([4], "low"),  # one critical flaw
        ([4, 3, 10, 16], "low"),  # one critical flaw with non-critical weaknesses
        ([2, 13], "critically low"),  # more than one critical flaw
    ],
)
def test_overall_confidence(noes: list[int], expected: str) -> None:
    a = appraise(ALL_YES | dict.fromkeys(noes, "no"))
    assert a.confidence == expected
    assert set(a.critical_flaws) == set(noes) & CRITICAL_ITEMS


def test_partial_yes_and_no_meta_analysis_are_not_flaws() -> None:
    typed = {2: "Partial yes", 4: "PY", 7: "py", 9: "partial_yes", 11: "NA", 15: "no meta-analysis"}
    a = appraise(ALL_YES | typed)
    assert a.confidence == "high"
    assert a.answers[4] == "partial_yes" and a.answers[11] == "not_applicable"
    assert "overall confidence: high" in str(a)
    assert len(a.to_frame()) == 16 and a.to_dict()["confidence"] == "high"


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        (ALL_YES | {1: "partial yes"}, "amstar2_item1"),  # item 1 has no partial yes
        (ALL_YES | {13: "NA"}, "amstar2_item13"),  # item 13 cannot be not applicable
        ({k: v for k, v in ALL_YES.items() if k != 16}, "amstar2_item16"),  # missing item
        (ALL_YES | {"item17": "yes"}, "item17"),
    ],
)
def test_invalid_answers(answers: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        appraise(answers)
    assert info.value.field == field
