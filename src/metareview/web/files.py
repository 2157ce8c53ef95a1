"""Files on the server: uploads (size- and type-checked, saved under names the server chooses, never
the user's), exports and the built report. Paths come only from the review slug and record ids."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from starlette.datastructures import UploadFile  # (fastapi.UploadFile is a subclass)

from metareview.errors import InputError
from metareview.records.export import export_records
from metareview.review import Review
from metareview.team.server import Server

MAX_IMPORT = 50 * 1024 * 1024
MAX_PDF = 40 * 1024 * 1024
IMPORT_SUFFIXES = (".ris", ".txt", ".nbib", ".medline", ".xml", ".bib", ".csv", ".tsv", ".tab", ".xlsx")
EXPORT_FORMATS = ("ris", "csv", "xlsx")
_CHUNK = 1024 * 1024


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
    data = bytearray()
    while chunk := await upload.read(_CHUNK):
        data += chunk
        if len(data) > limit:
            raise InputError(f"the file is larger than {limit // (1024 * 1024)} MB", field="file")
    return bytes(data)


async def save_upload(upload: UploadFile, folder: Path, suffixes: tuple[str, ...], limit: int) -> Path:
    """Save an uploaded export in ``folder`` (a fresh temporary folder) under a name reduced to safe
    characters (:func:`_safe_stem`), with a suffix the readers know."""
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in suffixes:
        raise InputError(
            f"file type {suffix or '(none)'!r}: upload one of {', '.join(suffixes)}", field="file"
        )
    data = await _read_limited(upload, limit)
    if not data:
        raise InputError("the file is empty", field="file")
    path = folder / f"{_safe_stem(upload.filename or '')}{suffix}"
    path.write_bytes(data)
    return path


def _safe_stem(name: str) -> str:
    """A display name for the search (kept in the store): the last part of the user's name reduced to
    letters, digits, '-' and '_' (so it can never name another folder), or 'upload'."""
    stem = Path(name.replace("\\", "/")).stem
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")[:60] or "upload"


def _fulltext_dir(server: Server, slug: str) -> Path:
    return server.workspace(slug) / "fulltext"


async def save_fulltext(server: Server, slug: str, record_id: int, upload: UploadFile) -> Path:
    """Save a PDF full text as ``fulltext/<record id>.pdf``; the content must start with ``%PDF-``."""
    data = await _read_limited(upload, MAX_PDF)
    if not data.startswith(b"%PDF-"):
        raise InputError("only PDF files can be uploaded (the file does not start with %PDF-)", field="file")
    folder = _fulltext_dir(server, slug)
    folder.mkdir(exist_ok=True)
    final = folder / f"{int(record_id)}.pdf"
    with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".part") as tmp:
        tmp.write(data)
    Path(tmp.name).replace(final)
    return final


def fulltext_path(server: Server, slug: str, record_id: int) -> Path | None:
    path = _fulltext_dir(server, slug) / f"{int(record_id)}.pdf"
    return path if path.is_file() else None


def export(review: Review, fmt: str, included: str | None = None) -> Path:
    """The review's unique records (``included``: only those included at that stage) as RIS, CSV or
    XLSX, in a temporary folder of their own (the caller removes it: :func:`remove_folder`)."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"export format {fmt!r}: choose one of {', '.join(EXPORT_FORMATS)}", field="format")
    if included is not None and included not in review.protocol.screening.stages:
        raise InputError(f"included: one of {', '.join(review.protocol.screening.stages)}", field="included")
    folder = Path(tempfile.mkdtemp(prefix="metareview-export-"))
    path = folder / f"records.{fmt}"
    export_records(review, path, fmt, included=included)
    return path


LOG_FORMATS = ("csv", "xlsx")


def decision_log(review: Review, fmt: str, reviewer: str) -> Path:
    """The decision log (who, when, what, why) as ``reviewer`` may see it (blind mode holds), as CSV or
    XLSX in a temporary folder of its own (the caller removes it)."""
    from metareview.screening.decisions import export_decision_log

    if fmt not in LOG_FORMATS:
        raise InputError(f"decision log format {fmt!r}: choose one of {', '.join(LOG_FORMATS)}",
                         field="format")
    folder = Path(tempfile.mkdtemp(prefix="metareview-log-"))
    path = folder / f"decision-log.{fmt}"
    export_decision_log(review, path, reviewer)
    return path


def report_zip(server: Server, slug: str) -> Path | None:
    """The last built report with its tables and figures (the ``report`` folder) as one ZIP file in a
    temporary folder of its own (the caller removes it); None when no report was built."""
    import zipfile

    if report_path(server, slug) is None:
        return None
    source = server.workspace(slug) / "report"
    folder = Path(tempfile.mkdtemp(prefix="metareview-report-"))
    out = folder / "report.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(source.rglob("*")):
            if path.is_file() and not path.is_symlink():
                zf.write(path, Path("report") / path.relative_to(source))
    return out


def remove_folder(path: Path) -> None:
    """Remove the temporary folder holding ``path`` (after its download was sent)."""
    import shutil

    shutil.rmtree(path.parent, ignore_errors=True)


def build_report(server: Server, slug: str) -> Path:
    """Build the review's HTML report into ``<workspace>/report`` (``metareview report``)."""
    from metareview.report.review_report import write_review_report

    review = server.review(slug)
    db = None if review.engine.url.get_backend_name() == "sqlite" else review.engine.url.render_as_string(
        hide_password=False)
    write_review_report(server.workspace(slug), out=server.workspace(slug) / "report", db=db)
    found = report_path(server, slug)
    if found is None:
        raise InputError("the report was not written", field="report")
    return found


def report_path(server: Server, slug: str) -> Path | None:
    folder = server.workspace(slug) / "report"
    for name in ("report.html", "index.html"):
        if (folder / name).is_file():
            return folder / name
    htmls = sorted(folder.glob("*.html")) if folder.is_dir() else []
    return htmls[0] if htmls else None
