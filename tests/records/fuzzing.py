"""Shared helpers of the reader fuzz tests (``test_fuzz*.py``, ``test_new_formats_fuzz.py``): a
byte-level mutation strategy and the "survives" check (whatever the bytes, reading either yields
records or raises InputError, never another exception)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

from metareview.errors import InputError
from metareview.records.importer import read_records

# bytes that break the structure of the text formats: line ends, tag separators, braces, quotes,
# record separators of Ovid/Web of Science/CSV
INSERTS = (
    b"\n", b"\r\n", b"\r", b"   ", b"  - ", b": ", b"{", b"}", b"<", b'"', b"\t", b"<1>\n", b"ER\n",
)


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, inserts: tuple[bytes, ...] = INSERTS) -> bytes:
    """``seed`` with 1-6 random edits: flipped, inserted, deleted or repeated bytes, a truncation, or
    one of ``inserts`` put in."""
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
            data[at:at] = draw(st.sampled_from(inserts))
    return bytes(data)


def survives(path: Path, data: bytes, fmt: str) -> None:
    """Write ``data`` to ``path`` and read it as ``fmt`` and as auto-detected: records or InputError."""
    path.write_bytes(data)
    for chosen in (fmt, "auto"):
        try:
            for _ in read_records(path, fmt=chosen):
                pass
        except InputError:
            pass
