"""Find a public data file: the local shared-data folder first, else a cached download.

Every loader in :mod:`metareview.datasets` calls :func:`resolve` with the file's path relative to the
shared-data folder and the public address it comes from::

    from metareview.datasets._fetch import resolve
    path = resolve("overlap/ccar/test.csv",
                   "https://raw.githubusercontent.com/thdiakon/ccaR_v3/0dcf82a/inst/extdata/test.csv")

Where the file is looked for, in order:

1. ``$METAREVIEW_SHARED_DATA/<relative_path>`` when that variable is set (then step 2 is skipped);
2. ``<repository>/../shared/data/<relative_path>`` (a development checkout);
3. the cache, ``$METAREVIEW_CACHE`` or ``~/.cache/metareview``, then ``<cache>/<relative_path>``;
4. otherwise ``url`` is downloaded (``urllib``; ``http(s)://`` or ``file://``) into the cache, atomically.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from metareview.errors import InputError

_REPO = Path(__file__).resolve().parents[3]
_TIMEOUT_S = 60.0


def shared_data_dir() -> Path:
    """The shared-data folder: ``$METAREVIEW_SHARED_DATA`` or ``<repository>/../shared/data``."""
    env = os.environ.get("METAREVIEW_SHARED_DATA")
    return Path(env) if env else _REPO.parent / "shared" / "data"


def cache_dir() -> Path:
    """The download cache: ``$METAREVIEW_CACHE`` or ``~/.cache/metareview``."""
    env = os.environ.get("METAREVIEW_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "metareview"


def resolve(relative_path: str, url: str | None) -> Path:
    """Return a local path to ``relative_path``, downloading it from ``url`` into the cache if needed.

    >>> resolve("werntz2023_table4.csv", None).name  # doctest: +SKIP
    'werntz2023_table4.csv'

    Raises :class:`~metareview.errors.InputError` when the file is nowhere local and ``url`` is ``None``
    or the download fails (the message names the address).
    """
    local = shared_data_dir() / relative_path
    if local.is_file():
        return local
    cached = cache_dir() / relative_path
    if cached.is_file():
        return cached
    if url is None:
        raise InputError(
            "not found locally and no public download address is known; set METAREVIEW_SHARED_DATA "
            "to a folder holding it",
            file=relative_path,
        )
    _download(url, cached)
    return cached


def _download(url: str, target: Path) -> None:
    """Download ``url`` to ``target`` through a temporary file (no partial file is ever left)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=_TIMEOUT_S) as resp:
            shutil.copyfileobj(resp, out)
        os.replace(tmp_name, target)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise InputError(f"download failed: {exc}", file=url) from exc
