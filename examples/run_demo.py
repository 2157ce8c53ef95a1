"""`make demo`: runs the worked examples that exist, in order (see examples/README in each folder)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEPS = [HERE / "bcg.py", HERE / "human-support-dmhi" / "run.py", HERE / "ptsd-risk-factors" / "run.py"]

ran = 0
for step in STEPS:
    if step.exists():
        print(f"== {step.relative_to(HERE.parent)} ==", flush=True)
        runpy.run_path(str(step), run_name="__main__")
        ran += 1
if not ran:
    sys.exit("no example found")
