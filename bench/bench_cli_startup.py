"""Start-up time of the ``metareview`` CLI (whole process, median of 10 runs) for ``--help``,
``version`` and ``screen decide`` (a real decision in a one-record review), against a bare
``python -c pass`` in the same run, and the import time of the libraries ``screen decide`` cannot
do without (typer, pydantic for the protocol, SQLAlchemy for the store): the floor of that command.
Writes bench/results/cli_startup.md with the machine load (``/proc/loadavg``) before and after.

    PYTHONPATH=src nice -n 10 .venv/bin/python bench/bench_cli_startup.py [--baseline OLD/src]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 10
TARGET = 0.3


def _time(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _medians(times: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def _median(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    return _medians([_time(args, env) for _ in range(RUNS)])


def _load() -> str:
    return Path("/proc/loadavg").read_text().split(" ")[0] if Path("/proc/loadavg").exists() else "?"


def _commands(src: Path, label: str) -> list[tuple[str, tuple[float, float]]]:
    """Median wall and CPU time of --help, version and screen decide with the code in ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
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
        rows = [(f"metareview --help{label}", _median([*cli, "--help"], env))]
        rows.append((f"metareview version{label}", _median([*cli, "version"], env)))
        decide_times = []
        for i in range(RUNS):
            args = [*cli, "screen", "decide", str(i + 1), "--include", "--reviewer", "bench",
                    "--review", str(review)]
            decide_times.append(_time(args, env))
        rows.append((f"metareview screen decide{label}", _medians(decide_times)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--baseline", help="another src/ folder (say, the code before this work) timed in the same run"
    )
    args = parser.parse_args()
    load_before = _load()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    rows = [("python -c pass", _median([sys.executable, "-c", "pass"], env))]
    rows += _commands(ROOT / "src", "")
    if args.baseline:
        rows += _commands(Path(args.baseline), " (baseline)")
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
        "Wall time is what a user waits; on a loaded machine it mostly measures the wait for a CPU, so",
        "the CPU time (user + system) of the same processes is given too: on an idle machine the wall",
        "time of a start-up is close to its CPU time.",
        "",
        "| command | median wall s | median CPU s | under target (wall / CPU) |",
        "|---|---:|---:|---|",
        *(
            f"| `{name}` | {wall:.3f} | {cpu:.3f} | {'yes' if wall < TARGET else 'no'} / "
            f"{'yes' if cpu < TARGET else 'no'} |"
            for name, (wall, cpu) in rows
        ),
        "",
        "The floor of `screen decide`: imports it cannot do without (same run, median of "
        f"{RUNS}, each in a fresh interpreter, so they overlap: Python's own start-up is in each).",
        "",
        "| import | median wall s | median CPU s |",
        "|---|---:|---:|",
        *(f"| {name} | {wall:.3f} | {cpu:.3f} |" for name, (wall, cpu) in floor_rows),
        "",
    ]
    out = ROOT / "bench" / "results" / "cli_startup.md"
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
