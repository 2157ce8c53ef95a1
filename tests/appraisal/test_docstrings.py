"""The docstring examples of the appraisal modules run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["metareview.extraction.rob2", "metareview.extraction.rob1", "metareview.extraction.robis",
           "metareview.synthesis.risk_of_bias"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
