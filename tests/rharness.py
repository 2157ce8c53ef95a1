"""Run R code (metafor) from tests and get JSON back.

Usage (R code assigns a list to ``out``)::

    out = run_r(rscript, "out <- list(b=c(rma(yi, vi)$b))", data={"yi": [...], "vi": [...]})

``data`` is written to a JSON file and read into R as a data frame ``dat`` (and each column as a variable);
``out`` comes back as a dict. Numbers travel with 17 significant digits. ``draw_distinct`` collects the
generated datasets that parity tests send to R in one batch.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.strategies import SearchStrategy

_PRELUDE = """
suppressMessages({library(metafor); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
.inp <- fromJSON(args[1], simplifyVector = TRUE)
dat <- as.data.frame(.inp$data)
for (.n in names(.inp$data)) assign(.n, .inp$data[[.n]])
"""

_POSTLUDE = """
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null", null = "null"), args[2])
"""


def run_r(rscript: str, code: str, data: dict[str, Any] | None = None, timeout: float = 300) -> Any:
    """Run ``code`` in R with ``data`` available as ``dat``; return the R list ``out`` as Python."""
    with tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp, "in.json")
        res = Path(tmp, "out.json")
        script = Path(tmp, "script.R")
        inp.write_text(json.dumps({"data": data or {}}))
        script.write_text(_PRELUDE + code + "\n" + _POSTLUDE)
        proc = subprocess.run(
            [rscript, str(script), str(inp), str(res)], capture_output=True, text=True, timeout=timeout
        )
        if proc.returncode != 0:
            raise RuntimeError(f"R failed:\n{proc.stderr[-3000:]}")
        return json.loads(res.read_text())


def parity_seed(pinned: int) -> int:
    """The Hypothesis seed of a parity module: ``pinned`` unless ``METAREVIEW_PARITY_SEED`` is set.

    The environment variable (an integer in any base Python reads with ``int(x, 0)``: ``7``, ``0x1f``)
    reruns the parity modules on other generated datasets, to look for cases the pinned seed misses::

        METAREVIEW_PARITY_SEED=7 .venv/bin/pytest tests/stats/test_parity_meta.py
    """
    value = os.environ.get("METAREVIEW_PARITY_SEED", "").strip()
    return int(value, 0) if value else pinned


def draw_distinct(strategy: SearchStrategy[Any], n: int, *, seed: int) -> list[Any]:
    """``n`` distinct, reproducible examples of ``strategy``, collected so they can go to R in one batch.

    A Hypothesis run from ``seed`` that only records what it generates (no database, no shrinking), so
    CI sees the same data on every run. Hypothesis may repeat itself (it starts from the minimal
    example), so examples are de-duplicated by their JSON form; a run of ``n`` examples is tried first,
    then runs of ``2 n`` and ``4 n``, and fewer than ``n`` distinct ones raise ``AssertionError`` rather
    than silently testing less.

        cases = draw_distinct(dataset(), 30, seed=2026)
    """
    found: dict[str, Any] = {}
    for budget in (n, 2 * n, 4 * n):
        found.clear()

        @hypothesis.seed(seed)
        @settings(
            max_examples=budget,
            database=None,
            phases=[Phase.generate],
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def gather(example: Any) -> None:
            if len(found) < n:
                found.setdefault(json.dumps(example, sort_keys=True), example)

        gather()
        if len(found) == n:
            return list(found.values())
    raise AssertionError(f"only {len(found)} distinct examples drawn, {n} wanted")
