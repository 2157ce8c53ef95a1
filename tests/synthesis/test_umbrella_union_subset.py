"""union / subset of umbrella analyses (metaumbrella's union.umbrella, subset.umbrella); forest data."""

from __future__ import annotations

from pathlib import Path

import pytest

from metareview.errors import InputError
from metareview.synthesis.credibility import (
    CredibilityCriteria,
    assess_umbrella,
    subset_umbrella,
    union_umbrella,
)
from metareview.synthesis.evidence import add_evidence, umbrella_forest_data
from metareview.synthesis.umbrella_input import read_umbrella


@pytest.fixture(scope="module")
def tables(shared_data: Path):  # type: ignore[no-untyped-def]
    folder = shared_data / "umbrella" / "metaumbrella"
    return (assess_umbrella(read_umbrella(folder / "df.OR.csv")),
            assess_umbrella(read_umbrella(folder / "df.SMD.csv")))


def test_union_keeps_both_and_overwrites_with_a_warning(tables) -> None:  # type: ignore[no-untyped-def]
    or_, smd = tables
    both = union_umbrella(or_, smd)
    assert both.names == ["ADHD", "ASD", "dyslexia", "ID", "Pharmacological", "Surgical"]
    with pytest.warns(UserWarning, match="overwriting factor 'ADHD'"):
        again = union_umbrella(both, subset_umbrella(or_, ["ADHD"]))
    assert again.names.count("ADHD") == 1 and len(again) == 6
    other = assess_umbrella([], CredibilityCriteria(esb_method="IT"))
    with pytest.raises(InputError, match="different criteria"):
        union_umbrella(or_, other)


def test_subset_by_names_or_predicate(tables) -> None:  # type: ignore[no-untyped-def]
    or_, _ = tables
    assert subset_umbrella(or_, ["ID", "ADHD"]).names == ["ADHD", "ID"]  # the table's order
    assert subset_umbrella(or_, lambda a: a.klass == "IV").names == ["ADHD", "dyslexia", "ID"]
    with pytest.raises(InputError, match="no factor named"):
        subset_umbrella(or_, ["nope"])


def test_forest_data_across_scales(tables) -> None:  # type: ignore[no-untyped-def]
    both = union_umbrella(*tables)
    data = umbrella_forest_data(add_evidence(both, "GRADE")).set_index("factor")
    # equivalent OR of a g (exp(g pi / sqrt 3)) and of an OR (itself): one axis for both scales;
    # the vignette's eOR for Pharmacological is 3.861 [2.039, 7.31], for ADHD 1.526 (Examples 3 and 1)
    assert round(data.loc["Pharmacological", "eOR"], 3) == 3.861
    assert round(data.loc["Pharmacological", "eOR_ci_upper"], 2) == 7.31
    assert round(data.loc["ADHD", "eOR"], 3) == 1.526
    assert data.loc["ADHD", "measure"] == "OR" and data.loc["Surgical", "measure"] == "G"
    assert set(data["criteria"]) == {"GRADE"} and set(data["class"]) == {"Very weak"}
    cols = {"estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "class", "k", "n_cases"}
    assert cols <= set(data.columns)
