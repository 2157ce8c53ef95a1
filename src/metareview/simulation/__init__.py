"""Simulation studies of meta-analytic methods (issue 12): generate meta-analyses under stated conditions,
fit them with chosen estimators and tests, summarise bias, RMSE, coverage and interval width — in one
process or on a Dask cluster (:mod:`metareview.simulation.distributed`, extra ``scale``) with the same
numbers.

Example::

    from metareview.simulation import Condition, run_study
    study = run_study([Condition(k=3, tau2=0.1)], reps=5000, methods=("DL",), tests=("z", "knha"))
    study.summary()[["method", "test", "coverage"]]
"""

from __future__ import annotations

from metareview.simulation.generate import MEASURES, Condition, generate
from metareview.simulation.study import SimulationStudy, run_study

__all__ = ["MEASURES", "Condition", "SimulationStudy", "generate", "run_study"]
