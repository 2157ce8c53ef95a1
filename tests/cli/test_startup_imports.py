"""The CLI's fast paths import no heavy library: ``--help``, ``version`` and building the command tree
must not load scikit-learn, matplotlib, torch, pandas, scipy or the store (SQLAlchemy/Alembic);
``--help`` and ``version`` load no area module (nor rich); ``screen decide`` loads the store
(SQLAlchemy) but not pandas, numpy, rich or Alembic (a store at head is checked with one query).

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


def _loaded(args: list[str], full: bool = False) -> set[str]:
    """Top-level packages (or, with ``full``, every module) loaded by ``metareview <args>``."""
    names = "sys.modules" if full else "{m.split('.')[0] for m in sys.modules}"
    code = (
        "import json, sys\n"
        f"sys.argv = ['metareview', *{args!r}]\n"
        "from metareview.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"sys.stderr.write('\\nMODULES=' + json.dumps(sorted({names})))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("METAREVIEW_DB", None)
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


@pytest.mark.parametrize("args", [["--help"], ["version"]])
def test_help_and_version_load_no_area_module(args: list[str]) -> None:
    loaded = _loaded(args, full=True)
    assert {m for m in loaded if m.startswith("metareview.cli.")} == set()
    assert not any(m.split(".")[0] in ("rich", "pydantic") for m in loaded)


def test_screen_decide_loads_the_store_but_nothing_else_heavy(tmp_path: Path) -> None:
    from metareview.records.model import Record
    from metareview.review import Review
    from metareview.store import records_repo

    review = Review.init(tmp_path / "rv")
    with review.session() as s:
        search = records_repo.add_search(s, database="X", file_name="x", file_hash="h", file_format="ris")
        records_repo.insert_records(s, search.id, 0, [Record(title="A trial", year=2020)])
        records_repo.finish_search(s, search, 1)
    review.close()
    args = ["screen", "decide", "1", "--include", "--reviewer", "ana", "--review", str(tmp_path / "rv")]
    loaded = _loaded(args)
    assert "sqlalchemy" in loaded  # the vote was cast: the store was opened
    assert loaded & {"sklearn", "matplotlib", "torch", "pandas", "scipy", "numpy", "alembic", "rich"} == set()
    review = Review.open(tmp_path / "rv")
    from metareview.screening.decisions import state

    assert [v.reviewer for v in state(review, 1, reviewer="ana").votes] == ["ana"]
    review.close()


def test_command_table_matches_the_areas() -> None:
    # the top-level help is written from COMMANDS without importing the areas: it must say what they do
    from metareview.cli import AREAS, COMMANDS, area_commands

    for area in AREAS:
        built = area_commands(area)
        declared = {name for name, (owner, _) in COMMANDS.items() if owner == area}
        assert set(built) == declared, area
        for name in declared:
            assert built[name].get_short_help_str(200) == COMMANDS[name][1], name


def test_import_metareview_is_lazy() -> None:
    code = "import sys, metareview; print(sorted({m.split('.')[0] for m in sys.modules}))"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    loaded = set(eval(out.stdout))  # a printed list of module names
    assert loaded & set(HEAVY) == set()


def test_lazy_attribute_still_resolves() -> None:
    import metareview as mr

    assert callable(mr.escalc) and callable(mr.meta)


def test_lazy_stats_package_resolves_every_public_name() -> None:
    # metareview.stats imports a submodule on first use of one of its names (so `meta` pays no
    # scipy.stats import); every public name must still resolve, to the function even where a
    # submodule of the same name (meta, robust, fsn ...) was imported first
    code = (
        "import types, metareview.stats.baujat, metareview.stats.robust, metareview.stats as s\n"
        "assert set(s.__all__) == set(s._LAZY), set(s.__all__) ^ set(s._LAZY)\n"
        "bad = [n for n in s.__all__ if isinstance(getattr(s, n), types.ModuleType)]\n"
        "from metareview.stats import meta, robust\n"
        "print(bad, callable(meta), callable(robust))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]", "True", "True"]
