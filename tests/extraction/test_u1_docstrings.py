"""The docstring examples of the extraction and umbrella-synthesis modules run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "metareview.extraction.amstar2", "metareview.extraction.direction", "metareview.extraction.forms",
    "metareview.synthesis.votes", "metareview.synthesis.overlap", "metareview.synthesis.grade",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
