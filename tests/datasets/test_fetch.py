"""The shared download helper: the local folder first, then a cached download (file://, local HTTP)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from metareview.datasets._fetch import resolve
from metareview.errors import InputError


@pytest.fixture()
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setenv("METAREVIEW_SHARED_DATA", str(shared))
    monkeypatch.setenv("METAREVIEW_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_local_shared_file_wins(isolated: Path) -> None:
    local = isolated / "shared" / "sub" / "a.csv"
    local.parent.mkdir()
    local.write_text("x\n1\n")
    assert resolve("sub/a.csv", "file:///nonexistent/never/used.csv") == local


def test_file_url_downloads_into_cache_once(isolated: Path) -> None:
    src = isolated / "source.csv"
    src.write_text("x\n2\n")
    got = resolve("sub/b.csv", src.as_uri())
    assert got == isolated / "cache" / "sub" / "b.csv"
    assert got.read_text() == "x\n2\n"
    src.unlink()  # a second call must use the cache, not the (now missing) source
    assert resolve("sub/b.csv", src.as_uri()).read_text() == "x\n2\n"


@pytest.fixture()
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):  # type: ignore[no-untyped-def]
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *args):  # type: ignore[no-untyped-def]
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_http_download_from_local_server(isolated: Path, http_root: tuple[str, Path]) -> None:
    base, root = http_root
    (root / "c.csv").write_text("y\n3\n")
    assert resolve("c.csv", f"{base}/c.csv").read_text() == "y\n3\n"


def test_failed_download_leaves_nothing_and_names_url(isolated: Path, http_root: tuple[str, Path]) -> None:
    base, _ = http_root
    with pytest.raises(InputError, match="missing.csv"):
        resolve("d.csv", f"{base}/missing.csv")
    assert not (isolated / "cache" / "d.csv").exists()
    assert not list((isolated / "cache").glob(".part-*"))


def test_no_url_and_no_local_copy_is_a_clear_error(isolated: Path) -> None:
    with pytest.raises(InputError, match="METAREVIEW_SHARED_DATA"):
        resolve("e.csv", None)
