"""Permissions of the files metareview creates: stores, exports and reports are readable by their
owner only (files 0600, folders we create 0700), since they hold unpublished screening data.

Set ``METAREVIEW_SHARED_FILES=1`` to follow the umask instead (for a group-shared folder). Example::

    restrict(path)        # after writing path
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
SHARED_ENV = "METAREVIEW_SHARED_FILES"


def shared() -> bool:
    """Whether the user asked for umask-following (shared) permissions."""
    return os.environ.get(SHARED_ENV, "").strip().lower() in ("1", "true", "yes")


def file_mode() -> int:
    """The mode for a new file: 0600, or 0666 less the umask when shared."""
    if not shared():
        return PRIVATE_FILE
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def restrict(path: str | Path) -> None:
    """Give a file metareview wrote its mode (:func:`file_mode`)."""
    os.chmod(path, file_mode())


def create_private(path: str | Path) -> None:
    """Create ``path`` empty with the private mode if it does not exist (e.g. a SQLite store)."""
    flags = os.O_CREAT | os.O_WRONLY
    fd = os.open(path, flags, file_mode())
    os.close(fd)


def dir_mode() -> int:
    """The mode for a new folder: 0700, or 0777 less the umask when shared."""
    if not shared():
        return PRIVATE_DIR
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def make_dir(path: str | Path) -> Path:
    """Create folder ``path`` (and missing parents) like ``mkdir -p``; every folder this call creates
    gets :func:`dir_mode`. Folders that already exist keep their mode (they are the user's)."""
    target = Path(path)
    missing: list[Path] = []
    probe = target
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    target.mkdir(parents=True, exist_ok=True)
    for created in missing:
        os.chmod(created, dir_mode())
    return target
