"""RoB 2 algorithms. Expected judgements are read off the suggested-algorithm figures of the RoB 2 full
guidance document (Higgins, Savović, Page, Sterne; 22 August 2019; individually randomised parallel-group
trials, effect of assignment), one case per route (leaf) of each figure; the comment names the route."""

from __future__ import annotations

import pytest

from metareview.errors import InputError
from metareview.extraction import rob2

LOW_REST = {"2.1": "N", "2.2": "N", "2.6": "Y", "3.1": "Y", "4.1": "N", "4.2": "N", "4.3": "N",
            "5.1": "Y", "5.2": "N", "5.3": "N"}

# Domain 1 figure: 1.2 -> 1.1 -> 1.3
D1 = [
    ({"1.1": "Y", "1.2": "Y", "1.3": "N"}, "low"),            # 1.2 Y/PY, 1.1 Y/PY/NI, 1.3 N/PN/NI
    ({"1.1": "NI", "1.2": "PY", "1.3": "NI"}, "low"),         # same route, NI answers
    ({"1.1": "PY", "1.2": "Y", "1.3": "PN"}, "low"),
    ({"1.1": "Y", "1.2": "Y", "1.3": "Y"}, "some concerns"),  # 1.2 Y/PY, 1.1 Y/PY/NI, 1.3 Y/PY
    ({"1.1": "N", "1.2": "Y", "1.3": "N"}, "some concerns"),  # 1.2 Y/PY, 1.1 N/PN, 1.3 any
    ({"1.1": "PN", "1.2": "Y", "1.3": "Y"}, "some concerns"),
    ({"1.1": "Y", "1.2": "NI", "1.3": "N"}, "some concerns"),  # 1.2 NI, 1.3 N/PN/NI
    ({"1.1": "Y", "1.2": "NI", "1.3": "NI"}, "some concerns"),
    ({"1.1": "Y", "1.2": "NI", "1.3": "PY"}, "high"),          # 1.2 NI, 1.3 Y/PY
    ({"1.1": "Y", "1.2": "N", "1.3": "N"}, "high"),            # 1.2 N/PN
    ({"1.1": "Y", "1.2": "PN", "1.3": "NI"}, "high"),
]
# Domain 2 figure, part 1 (2.1-2.5) with part 2 low (2.6 Y)
D2_PART1 = [
    ({"2.1": "N", "2.2": "PN"}, "low"),                                  # both N/PN
    ({"2.1": "Y", "2.2": "N", "2.3": "N"}, "low"),                       # either Y/PY/NI, 2.3 N/PN
    ({"2.1": "NI", "2.2": "NI", "2.3": "PN"}, "low"),
    ({"2.1": "Y", "2.2": "Y", "2.3": "NI"}, "some concerns"),            # 2.3 NI
    ({"2.1": "Y", "2.2": "Y", "2.3": "Y", "2.4": "N"}, "some concerns"),  # 2.3 Y/PY, 2.4 N/PN
    ({"2.1": "Y", "2.2": "Y", "2.3": "PY", "2.4": "Y", "2.5": "Y"}, "some concerns"),  # 2.5 Y/PY
    ({"2.1": "Y", "2.2": "Y", "2.3": "Y", "2.4": "NI", "2.5": "PY"}, "some concerns"),
    ({"2.1": "Y", "2.2": "Y", "2.3": "Y", "2.4": "Y", "2.5": "N"}, "high"),  # 2.5 N/PN/NI
    ({"2.1": "Y", "2.2": "Y", "2.3": "Y", "2.4": "PY", "2.5": "NI"}, "high"),
]
# Domain 2 figure, part 2 (2.6-2.7) with part 1 low
D2_PART2 = [
    ({"2.6": "Y"}, "low"), ({"2.6": "PY"}, "low"),                 # 2.6 Y/PY
    ({"2.6": "N", "2.7": "N"}, "some concerns"),                   # 2.6 N/PN/NI, 2.7 N/PN
    ({"2.6": "NI", "2.7": "PN"}, "some concerns"),
    ({"2.6": "PN", "2.7": "Y"}, "high"),                           # 2.7 Y/PY/NI
    ({"2.6": "N", "2.7": "NI"}, "high"),
]
D3 = [
    ({"3.1": "Y"}, "low"), ({"3.1": "PY"}, "low"),                                  # 3.1 Y/PY
    ({"3.1": "N", "3.2": "Y"}, "low"), ({"3.1": "NI", "3.2": "PY"}, "low"),        # 3.2 Y/PY
    ({"3.1": "N", "3.2": "N", "3.3": "PN"}, "low"),                                 # 3.3 N/PN
    ({"3.1": "N", "3.2": "N", "3.3": "Y", "3.4": "N"}, "some concerns"),            # 3.4 N/PN
    ({"3.1": "PN", "3.2": "PN", "3.3": "NI", "3.4": "PN"}, "some concerns"),
    ({"3.1": "N", "3.2": "N", "3.3": "Y", "3.4": "Y"}, "high"),                     # 3.4 Y/PY/NI
    ({"3.1": "N", "3.2": "N", "3.3": "PY", "3.4": "NI"}, "high"),
]
D4 = [
    ({"4.1": "Y", "4.2": "N"}, "high"), ({"4.1": "PY", "4.2": "NI"}, "high"),       # 4.1 Y/PY
    ({"4.1": "N", "4.2": "Y"}, "high"), ({"4.1": "NI", "4.2": "PY"}, "high"),       # 4.2 Y/PY
    # 4.2 N/PN branch
    ({"4.1": "N", "4.2": "N", "4.3": "N"}, "low"),                                  # 4.3 N/PN
    ({"4.1": "NI", "4.2": "PN", "4.3": "Y", "4.4": "N"}, "low"),                    # 4.4 N/PN
    ({"4.1": "N", "4.2": "N", "4.3": "NI", "4.4": "PY", "4.5": "PN"}, "some concerns"),  # 4.5 N/PN
    ({"4.1": "N", "4.2": "N", "4.3": "Y", "4.4": "Y", "4.5": "Y"}, "high"),         # 4.5 Y/PY/NI
    ({"4.1": "N", "4.2": "N", "4.3": "Y", "4.4": "NI", "4.5": "NI"}, "high"),
    # 4.2 NI branch
    ({"4.1": "N", "4.2": "NI", "4.3": "PN"}, "some concerns"),                      # 4.3 N/PN
    ({"4.1": "N", "4.2": "NI", "4.3": "Y", "4.4": "N"}, "some concerns"),           # 4.4 N/PN
    ({"4.1": "N", "4.2": "NI", "4.3": "Y", "4.4": "Y", "4.5": "N"}, "some concerns"),  # 4.5 N/PN
    ({"4.1": "N", "4.2": "NI", "4.3": "Y", "4.4": "Y", "4.5": "PY"}, "high"),       # 4.5 Y/PY/NI
]
D5 = [
    ({"5.1": "Y", "5.2": "N", "5.3": "N"}, "low"),                 # both N/PN, 5.1 Y/PY
    ({"5.1": "PY", "5.2": "PN", "5.3": "N"}, "low"),
    ({"5.1": "N", "5.2": "N", "5.3": "PN"}, "some concerns"),      # both N/PN, 5.1 N/PN/NI
    ({"5.1": "NI", "5.2": "N", "5.3": "N"}, "some concerns"),
    ({"5.1": "Y", "5.2": "NI", "5.3": "N"}, "some concerns"),      # at least one NI, none Y/PY
    ({"5.1": "Y", "5.2": "N", "5.3": "NI"}, "some concerns"),
    ({"5.1": "Y", "5.2": "Y", "5.3": "N"}, "high"),                # either Y/PY
    ({"5.1": "Y", "5.2": "NI", "5.3": "PY"}, "high"),
]


@pytest.mark.parametrize(("answers", "expected"), D1)
def test_domain1(answers, expected):
    assert rob2.domain_judgement("D1", answers) == expected


@pytest.mark.parametrize(("answers", "expected"), D2_PART1)
def test_domain2_part1(answers, expected):
    assert rob2.domain_judgement("D2", answers | {"2.6": "Y"}) == expected


@pytest.mark.parametrize(("answers", "expected"), D2_PART2)
def test_domain2_part2(answers, expected):
    assert rob2.domain_judgement("D2", answers | {"2.1": "N", "2.2": "N"}) == expected


def test_domain2_combines_parts_worst():
    # guidance: low only if both parts low; high if either part high; otherwise some concerns
    sc_sc = {"2.1": "Y", "2.2": "Y", "2.3": "NI", "2.6": "N", "2.7": "N"}
    assert rob2.domain_judgement("D2", sc_sc) == "some concerns"
    sc_high = sc_sc | {"2.7": "Y"}
    assert rob2.domain_judgement("D2", sc_high) == "high"


@pytest.mark.parametrize(("answers", "expected"), D3)
def test_domain3(answers, expected):
    assert rob2.domain_judgement("D3", answers) == expected


@pytest.mark.parametrize(("answers", "expected"), D4)
def test_domain4(answers, expected):
    assert rob2.domain_judgement("D4", answers) == expected


@pytest.mark.parametrize(("answers", "expected"), D5)
def test_domain5(answers, expected):
    assert rob2.domain_judgement("D5", answers) == expected


def _full(**d1):
    return LOW_REST | {"1.1": "Y", "1.2": "Y", "1.3": "N"} | d1


def test_overall_low_some_high():
    # guidance overall table: low if all domains low; some concerns if any some concerns and none high
    assert rob2.assess(_full()).overall == "low"
    a = rob2.assess(_full(**{"1.3": "Y"}) | {"5.1": "N"})
    assert [d.judgement for d in a.domains] == ["some concerns", "low", "low", "low", "some concerns"]
    assert a.overall == "some concerns"  # multiple some concerns is NOT automatically high
    assert rob2.assess(_full(**{"1.2": "N"})).overall == "high"


def test_override_keeps_suggestion_and_needs_reason():
    answers = _full(**{"1.3": "Y"}) | {"5.1": "N"}
    with pytest.raises(InputError, match="needs a reason"):
        rob2.assess(answers, overrides={"overall": ("high", "")})
    a = rob2.assess(answers, overrides={"overall": ("high", "two domains with concerns, small trial")})
    assert (a.overall_suggested, a.overall) == ("some concerns", "high")
    assert a.overall_override_reason.startswith("two domains")
    b = rob2.assess(answers, overrides={"D1": ("low", "imbalance in a non-prognostic variable")})
    assert (b.domains[0].suggested, b.domains[0].judgement, b.domains[0].overridden) == \
        ("some concerns", "low", True)
    assert b.overall_suggested == "some concerns"  # D5 still some concerns


def test_invalid_answers_rejected():
    with pytest.raises(InputError, match="allowed: Y, PY, PN, N, NI, NA"):
        rob2.assess(_full(**{"1.1": "maybe"}))
    with pytest.raises(InputError, match="unknown RoB 2 signalling question"):
        rob2.assess(_full() | {"6.1": "Y"})
    with pytest.raises(InputError, match="2.3 must be answered"):
        rob2.assess(_full() | {"2.1": "Y"})
    with pytest.raises(InputError, match="1.2 must be answered"):
        rob2.assess({k: v for k, v in _full().items() if k != "1.2"})
    with pytest.raises(InputError, match="override"):
        rob2.assess(_full(), overrides={"D9": ("low", "x")})
    with pytest.raises(InputError, match="judgement"):
        rob2.assess(_full(), overrides={"D1": ("unclear", "x")})


def test_answers_normalised():
    a = rob2.assess({k: v.lower() + " " for k, v in _full().items()})
    assert a.answers["1.1"] == "Y" and a.answers["2.3"] == "NA"
