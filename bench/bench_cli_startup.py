"""Start-up time of the ``metareview`` CLI (whole process, median of 10 runs) for ``--help``,
``version`` and ``screen decide`` (a real decision in a one-record review), against a bare
``python -c pass`` in the same run. Writes bench/results/cli_startup.md.

    PYTHONPATH=src .venv/bin/python bench/bench_cli_startup.py
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


def main() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
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
    lines = [
        "# CLI start-up",
        "",
        f"Whole process, median of {RUNS} runs, `{sys.executable}`; target {TARGET} s.",
        "Written by `bench/bench_cli_startup.py`.",
        "",
        "| command | median s | under target |",
        "|---|---:|---|",
        *(f"| `{name}` | {sec:.3f} | {'yes' if sec < TARGET else 'no'} |" for name, sec in rows),
        "",
    ]
    out = ROOT / "bench" / "results" / "cli_startup.md"
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
