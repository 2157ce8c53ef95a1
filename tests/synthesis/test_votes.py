"""Vote counting on raw directions, Wilson CIs and the exact r x c Fisher test (parity with R)."""

from __future__ import annotations

import pytest
from rharness import run_r

from metareview.errors import InputError
from metareview.synthesis import votes
from metareview.synthesis.votes import fisher_exact, vote_table, wilson_ci


def test_vote_table_counts_directions_by_level() -> None:
    t = vote_table(["better", "worse", "no_difference", "better", "better"], ["b", "a", "a", "b", "a"],
                   moderator="sample", order=["b", "a"])
    assert [r.level for r in t.rows] == ["b", "a"]
    assert t.row("b").counts == (2, 0, 0)
    assert t.row("a").counts == (1, 1, 1)
    assert t.test is not None and t.test.table == ((2, 0, 0), (1, 1, 1))
    assert "sample" in str(t)
    frame = t.to_frame()
    assert list(frame["better_n"]) == [2, 1]
    assert t.to_dict()["test"]["pvalue"] == t.test.pvalue


def test_unknown_direction_names_the_row() -> None:
    with pytest.raises(InputError, match="line 2"):
        vote_table(["better", "positive"], ["a", "b"])


def test_wilson_edges() -> None:
    assert wilson_ci(0, 10)[0] == 0.0
    assert wilson_ci(10, 10)[1] == pytest.approx(1.0)
    assert all(v != v for v in wilson_ci(0, 0))  # NaN for an empty row


@pytest.mark.metafor
def test_fisher_and_wilson_match_r(rscript: str) -> None:
    tables = [
        [[3, 1, 4], [1, 5, 9], [2, 6, 5], [3, 5, 8]],
        [[0, 2, 7], [5, 0, 1]],
        [[10, 2], [3, 15]],
        [[1, 1, 0, 2], [0, 3, 1, 1], [2, 0, 2, 0]],
    ]
    code = "out <- list(" + ", ".join(
        f"p{i} = fisher.test(matrix(c({','.join(str(v) for row in t for v in row)}), "
        f"nrow={len(t)}, byrow=TRUE))$p.value" for i, t in enumerate(tables)
    ) + ", w = as.numeric(prop.test(7, 19, correct=FALSE, conf.level=0.9)$conf.int))"
    out = run_r(rscript, code)
    for i, t in enumerate(tables):
        assert fisher_exact(t).pvalue == pytest.approx(out[f"p{i}"], abs=1e-10)
    assert wilson_ci(7, 19, level=90.0) == pytest.approx(tuple(out["w"]), abs=1e-12)


def test_monte_carlo_fallback_is_seeded_and_close(monkeypatch: pytest.MonkeyPatch) -> None:
    table = [[4, 7, 1], [9, 8, 2], [1, 1, 0], [2, 0, 1], [6, 3, 0]]
    exact = fisher_exact(table)
    monkeypatch.setattr(votes, "MAX_ENUMERATED", 10)
    a = fisher_exact(table, n_sim=4000, seed=7)
    b = fisher_exact(table, n_sim=4000, seed=7)
    assert "Monte Carlo" in a.method and a.seed == 7 and a.pvalue == b.pvalue
    assert a.pvalue == pytest.approx(exact.pvalue, abs=0.03)  # R: 0.5671 exact; MC SE ~ 0.008


def test_one_sided_only_for_2x2() -> None:
    with pytest.raises(InputError):
        fisher_exact([[1, 2, 3], [3, 2, 1]], alternative="greater")


def test_large_table_falls_back_to_seeded_monte_carlo() -> None:
    table = [[20, 15, 3], [30, 25, 5], [10, 12, 2], [8, 9, 4], [15, 10, 1]]  # ~23 million tables
    res = fisher_exact(table, n_sim=20_000)
    assert "Monte Carlo" in res.method and res.seed == 20230220
    # R: fisher.test(matrix(c(20,15,3, 30,25,5, 10,12,2, 8,9,4, 15,10,1), ncol=3, byrow=TRUE),
    #    workspace=2e8)$p.value = 0.8049577 (exact network algorithm); MC SE with 20000 draws ~ 0.003
    assert res.pvalue == pytest.approx(0.8050, abs=0.012)
