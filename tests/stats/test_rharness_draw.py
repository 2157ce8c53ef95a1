"""``rharness.draw_distinct``: parity datasets are distinct, reproducible and as many as asked."""

from __future__ import annotations

import json

import pytest
from hypothesis import strategies as st
from rharness import draw_distinct


def test_draws_n_distinct_examples_reproducibly() -> None:
    strategy = st.lists(st.floats(-5, 5), min_size=2, max_size=6)
    first = draw_distinct(strategy, 25, seed=1)
    assert len(first) == 25
    assert len({json.dumps(x) for x in first}) == 25
    assert draw_distinct(strategy, 25, seed=1) == first  # derandomised: the same data on every run


def test_too_small_a_space_is_an_error_not_fewer_cases() -> None:
    with pytest.raises(AssertionError, match="only 3 distinct"):
        draw_distinct(st.sampled_from(["a", "b", "c"]), 5, seed=1)
