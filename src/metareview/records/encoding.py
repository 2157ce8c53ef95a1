"""Text encodings of export files: UTF-8 with or without BOM, UTF-16 (with BOM), and a latin-1
fallback (with a warning) for old exports; CRLF and CR line ends are read as LF.

:func:`inspect_file` reads the file once (hash, encoding, binary check); :func:`numbered_lines` then
streams its lines with line numbers. Example::

    info = inspect_file(path)
    for number, line in numbered_lines(path, info.encoding):
        ...
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from metareview.errors import InputError

CHUNK = 1 << 20
MAX_FILE_BYTES = 4 << 30
"""Largest export file read (4 GiB): a bigger one, or one that grows past it while read, is refused."""
BINARY_CONTROL_SHARE = 0.05
"""Share of control bytes (other than tab, LF, CR, FF) in the first chunk above which a file is binary."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What one pass over a file tells: SHA-256, size, text encoding (None for a zip/XLSX) and warnings."""

    sha256: str
    size: int
    encoding: str | None
    head: bytes
    warnings: list[str] = field(default_factory=list)
    lines: int = 0
    """Line ends (``\\n``) in the file: with :func:`counting_lines`, how far a reader has come."""


def inspect_file(path: Path) -> FileInfo:
    """Hash the file and choose its encoding; raises :class:`InputError` for binary data.

    Only regular files are read (a device such as ``/dev/zero`` or a pipe is refused at once), at most
    :data:`MAX_FILE_BYTES`; a NUL byte or a head made of control bytes stops the read early.
    """
    digest = hashlib.sha256()
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", file=path) from None
    with fh:
        mode = os.fstat(fh.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise InputError("not a regular file (a device, pipe or folder): not an export", file=path)
        head = fh.read(CHUNK)
        encoding = _bom_encoding(head)
        if encoding is None and not head.startswith(ZIP_MAGIC):
            _sniff_binary(path, head)
        decoder = codecs.getincrementaldecoder(encoding or "utf-8")()
        valid, lines_before, nul_line = True, 0, None
        size, chunk = 0, head
        while chunk:
            digest.update(chunk)
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise InputError(f"file larger than {MAX_FILE_BYTES >> 30} GiB: refused", file=path)
            if nul_line is None and encoding is None and b"\x00" in chunk and not head.startswith(ZIP_MAGIC):
                nul_line = lines_before + chunk[: chunk.index(b"\x00")].count(b"\n") + 1
                break
            lines_before += chunk.count(b"\n")
            if valid:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    valid = False
            chunk = fh.read(CHUNK)
    if valid:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            valid = False
    if head.startswith(ZIP_MAGIC):
        return FileInfo(digest.hexdigest(), size, None, head[:4096])
    if nul_line is not None:
        raise InputError("binary data (NUL byte): not a text export", file=path, line=nul_line)
    warnings: list[str] = []
    if encoding == "utf-16" and not valid:
        raise InputError("starts with a UTF-16 byte-order mark but is not valid UTF-16", file=path)
    if not valid:
        encoding = "latin-1"
        warnings.append(f"{path.name}: not valid UTF-8; read as latin-1 (check accented characters)")
    encoding = encoding or "utf-8"
    return FileInfo(digest.hexdigest(), size, encoding, head[:4096], warnings, lines_before)


def _sniff_binary(path: Path, head: bytes) -> None:
    """Refuse a file whose first chunk is mostly control bytes (random or compressed data)."""
    if not head:
        return
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > BINARY_CONTROL_SHARE * len(head):
        raise InputError(
            f"binary data ({controls} control bytes in the first {len(head)}): not a text export", file=path
        )


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"


def ends_with_newline(path: Path) -> bool:
    """Whether the file's last line is terminated (a cut file usually ends inside a line)."""
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(size - 4, 0))
        tail = fh.read().rstrip(b"\x00")
    return size == 0 or tail.endswith((b"\n", b"\r"))


def _bom_encoding(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def decode_head(info: FileInfo) -> str:
    """The first few kilobytes of the file as text (for format detection)."""
    if info.encoding is None:
        return ""
    return info.head.decode(info.encoding, errors="ignore")


class LinesRead:
    """The number of the last line a reader has read (see :func:`counting_lines`)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


_LINES: ContextVar[LinesRead | None] = ContextVar("metareview_lines_read", default=None)


@contextmanager
def counting_lines() -> Iterator[LinesRead]:
    """Inside the block, the text readers (:func:`numbered_lines`, CSV) keep ``count`` at the number of
    the last line read, so a caller can tell how far through the file they are (progress)."""
    probe = LinesRead()
    token = _LINES.set(probe)
    try:
        yield probe
    finally:
        _LINES.reset(token)


def lines_probe() -> LinesRead | None:
    """The counter of the enclosing :func:`counting_lines` block, if any (for readers to update)."""
    return _LINES.get()


def numbered_lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` without the line end; control characters raise InputError."""
    probe = _LINES.get()
    with path.open(encoding=encoding, newline=None) as fh:
        try:
            for number, line in enumerate(fh, start=1):
                if probe is not None:
                    probe.count = number
                line = line.rstrip("\n")
                bad = _CONTROL.search(line)
                if bad is not None:
                    raise InputError(
                        f"control character U+{ord(bad.group(0)):04X} in text (binary data?)",
                        file=path,
                        line=number,
                    )
                yield number, line
        except UnicodeDecodeError as exc:
            raise InputError(f"cannot decode as {encoding}: {exc.reason}", file=path) from None
