"""The CLI's fast paths import no heavy library: ``--help``, ``version`` and building the command tree
must not load scikit-learn, matplotlib, torch, pandas, scipy or the store (SQLAlchemy/Alembic).

A test of *what is imported* (``sys.modules`` in a fresh interpreter), not of time; the time is measured
by ``bench/bench_cli_startup.py``. On the code before issue 11 every case here fails (the CLI modules
imported sklearn via screening.models, pandas via records.export, SQLAlchemy via review).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
HEAVY = ("sklearn", "matplotlib", "torch", "pandas", "scipy", "sqlalchemy", "alembic", "numpy")



def _loaded(args: list[str]) -> set[str]:
    code = (
        "import json, sys\n"
        f"sys.argv = ['metareview', *{args!r}]\n"
        "from metareview.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('\\nMODULES=' + json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    marker = proc.stderr.rsplit("MODULES=", 1)
    assert len(marker) == 2, proc.stderr
    return set(json.loads(marker[1]))


@pytest.mark.parametrize(
    "args",
    [["--help"], ["version"], ["screen", "--help"], ["screen", "decide", "--help"], ["import", "--help"]],
)
def test_fast_paths_import_nothing_heavy(args: list[str]) -> None:
    assert _loaded(args) & set(HEAVY) == set()


def test_import_metareview_is_lazy() -> None:
    code = "import sys, metareview; print(sorted({m.split('.')[0] for m in sys.modules}))"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    loaded = set(eval(out.stdout))  # a printed list of module names
    assert loaded & set(HEAVY) == set()


def test_lazy_attribute_still_resolves() -> None:
    import metareview as mr

    assert callable(mr.escalc) and callable(mr.meta)
