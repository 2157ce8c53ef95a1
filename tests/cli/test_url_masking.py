"""No database password reaches the terminal (issue 8, leaks): ``status`` and ``serve`` with a URL
that cannot be used print the URL with its password masked, whatever the way the URL is broken."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from metareview.review import Review
from metareview.store.db import mask_url

EXE = Path(sys.executable).with_name("metareview")

URLS = [
    "postgresql://u:secret@127.0.0.1:1/x",  # nothing listening
    "postgresql://u:secret@127.0.0.1:notaport/x",  # malformed port
    "bogus://u:secret@h/x",  # unknown dialect
    "postgresql://u:se@cret@127.0.0.1:1/x",  # '@' in the password, not %-encoded
    "postgresql://u@127.0.0.1:1/x?password=secret",  # libpq's password parameter
]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    env.pop("METAREVIEW_DB", None)
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


@pytest.mark.parametrize("url", URLS)
def test_status_masks_the_password(tmp_path: Path, url: str) -> None:
    Review.init(tmp_path / "rv").close()
    proc = _run(["status", "--db", url], tmp_path / "rv")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "secret" not in out and "cret" not in out, out
    assert "***" in out


@pytest.mark.parametrize("url", URLS[:2] + URLS[3:4])
def test_serve_masks_the_password(tmp_path: Path, url: str) -> None:
    proc = _run(["serve", "--data", str(tmp_path / "srv"), "--db", url, "--port", "1"], tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "secret" not in out and "cret" not in out, out


def test_mask_url_query_and_hidden_texts() -> None:
    assert mask_url("postgresql+psycopg://u@h/d?sslmode=require&password=p1") == (
        "postgresql+psycopg://u@h/d?sslmode=require&password=***"
    )
    said = mask_url("driver said: bad password 'zz9'", hide=["zz9", None])
    assert said == "driver said: bad password '***'"
    assert mask_url("'postgresql://u:a@b@h/d'") == "'postgresql://u:***@h/d'"


def test_review_repr_masks_the_password(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    rv = Review.init(tmp_path / "rv")
    rv.engine = create_engine("postgresql+psycopg://u@h/d?password=secret")
    assert "secret" not in repr(rv) and "secret" not in str(rv)
