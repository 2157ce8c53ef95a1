"""Fuzzing the interop readers (Ovid, EndNote XML, Cochrane CENTRAL, Web of Science) with Hypothesis:
mutated copies of the hand-written exports, and random bytes. Whatever the bytes, reading either
yields records or raises InputError (never another exception). Bounded: 120 examples per format."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from newformat_samples import COCHRANE, ENDNOTE_XML, OVID_DISPLAY, OVID_TAGGED, WOS_PLAIN, WOS_TABBED

from metareview.errors import InputError
from metareview.records.importer import read_records

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = {
    "wos": WOS_PLAIN,
    "wos-tabbed": WOS_TABBED,
    "ovid": OVID_TAGGED,
    "ovid-display": OVID_DISPLAY,
    "cochrane": COCHRANE,
    "endnote-xml": ENDNOTE_XML,
}


def _survives(data: bytes, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.txt"
        path.write_bytes(data)
        for chosen in (fmt.split("-tabbed")[0].split("-display")[0], "auto"):
            try:
                for _ in read_records(path, fmt=chosen):
                    pass
            except InputError:
                pass


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "repeat", "newline"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=12))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        elif op == "truncate":
            del data[at:]
        elif op == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 80))]
        else:
            data[at:at] = draw(
                st.sampled_from([b"\n", b"\r\n", b"   ", b"  - ", b": ", b"<1>\n", b"ER\n", b"<", b"\t"])
            )
    return bytes(data)


@pytest.mark.parametrize("fmt", list(SEEDS))
def test_mutated_exports(fmt: str) -> None:
    @FUZZ
    @given(data=mutated(SEEDS[fmt].encode("utf-8")))
    def run(data: bytes) -> None:
        _survives(data, fmt)

    run()


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["wos", "ovid", "cochrane", "endnote-xml"]))
def test_random_bytes(data: bytes, fmt: str) -> None:
    _survives(data, fmt)
