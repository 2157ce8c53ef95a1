"""Fuzzing the interop readers (Ovid, EndNote XML, Cochrane CENTRAL, Web of Science, Covidence, Embase
RIS) with Hypothesis: mutated copies of the hand-written exports, and random bytes. Whatever the bytes,
reading either yields records or raises InputError (never another exception). Bounded: 120 examples
per format. Structure-aware mutations of the same exports: ``test_fuzz_structure_new_formats.py``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fuzzing import mutated, survives
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from newformat_samples import (
    COCHRANE,
    COVIDENCE_CSV,
    EMBASE_RIS,
    ENDNOTE_XML,
    OVID_DISPLAY,
    OVID_TAGGED,
    WOS_PLAIN,
    WOS_TABBED,
)

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# seed name -> (export, reader)
SEEDS = {
    "wos": (WOS_PLAIN, "wos"),
    "wos-tabbed": (WOS_TABBED, "wos"),
    "ovid": (OVID_TAGGED, "ovid"),
    "ovid-display": (OVID_DISPLAY, "ovid"),
    "cochrane": (COCHRANE, "cochrane"),
    "endnote-xml": (ENDNOTE_XML, "endnote-xml"),
    "covidence": (COVIDENCE_CSV, "covidence"),
    "embase-ris": (EMBASE_RIS, "ris"),
}


def _survives(data: bytes, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        survives(Path(tmp) / "x.txt", data, fmt)


@pytest.mark.parametrize("fmt", list(SEEDS))
def test_mutated_exports(fmt: str) -> None:
    text, reader = SEEDS[fmt]

    @FUZZ
    @given(data=mutated(text.encode("utf-8")))
    def run(data: bytes) -> None:
        _survives(data, reader)

    run()


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["wos", "ovid", "cochrane", "endnote-xml", "covidence"]))
def test_random_bytes(data: bytes, fmt: str) -> None:
    _survives(data, fmt)
