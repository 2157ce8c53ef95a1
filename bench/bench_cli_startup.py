"""Start-up time of the ``metareview`` CLI (whole process, median of 10 runs) for ``--help``,
``version`` and ``screen decide`` (a real decision in a one-record review), against a bare
``python -c pass`` in the same run, and the import time of the libraries ``screen decide`` cannot
do without (typer, pydantic for the protocol, SQLAlchemy for the store): the floor of that command.
Writes bench/results/cli_startup.md with the machine load (``/proc/loadavg``) before and after.

    PYTHONPATH=src nice -n 10 .venv/bin/python bench/bench_cli_startup.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 10
TARGET = 0.3


def _time(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _median(args: list[str], env: dict[str, str]) -> float:
    return statistics.median(_time(args, env) for _ in range(RUNS))


def _load() -> str:
    return Path("/proc/loadavg").read_text().split(" ")[0] if Path("/proc/loadavg").exists() else "?"


def main() -> None:
    load_before = _load()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("METAREVIEW_DB", None)
    cli = [sys.executable, "-c", "from metareview.cli import main; main()"]
    with tempfile.TemporaryDirectory() as tmp:
        review = Path(tmp) / "r"
        ris = Path(tmp) / "one.ris"
        ris.write_text("".join(f"TY  - JOUR\nTI  - Trial {i}\nPY  - 2020\nER  - \n\n" for i in range(RUNS)))
        subprocess.run([*cli, "init", str(review)], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(
            [*cli, "import", str(ris), "--database", "X", "--review", str(review)],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )
        rows = [("python -c pass", _median([sys.executable, "-c", "pass"], env))]
        rows.append(("metareview --help", _median([*cli, "--help"], env)))
        rows.append(("metareview version", _median([*cli, "version"], env)))
        decide_times = []
        for i in range(RUNS):
            args = [*cli, "screen", "decide", str(i + 1), "--include", "--reviewer", "bench",
                    "--review", str(review)]
            decide_times.append(_time(args, env))
        rows.append(("metareview screen decide", statistics.median(decide_times)))
    floor = [
        ("python -c 'import typer'", "import typer"),
        ("python -c 'import pydantic'", "import pydantic"),
        ("python -c 'import sqlalchemy.orm'", "import sqlalchemy.orm"),
        (
            "the modules `screen decide` imports, nothing run",
            "import typer, typer.main, metareview.cli.screening_cmd, metareview.screening.decisions",
        ),
    ]
    floor_rows = [(name, _median([sys.executable, "-c", code], env)) for name, code in floor]
    load_after = _load()
    lines = [
        "# CLI start-up",
        "",
        f"Whole process, median of {RUNS} runs, `{sys.executable}`; target {TARGET} s.",
        f"Written by `bench/bench_cli_startup.py`; load average (1 min) {load_before} before, "
        f"{load_after} after, on {os.cpu_count()} CPUs.",
        "",
        "| command | median s | under target |",
        "|---|---:|---|",
        *(f"| `{name}` | {sec:.3f} | {'yes' if sec < TARGET else 'no'} |" for name, sec in rows),
        "",
        "The floor of `screen decide`: imports it cannot do without (same run, median of "
        f"{RUNS}, each in a fresh interpreter, so they overlap: Python's own start-up is in each).",
        "",
        "| import | median s |",
        "|---|---:|",
        *(f"| {name} | {sec:.3f} |" for name, sec in floor_rows),
        "",
    ]
    out = ROOT / "bench" / "results" / "cli_startup.md"
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
