"""Run REAL ASReview (its default AI, ELAS u4) on one labelled CSV with fixed priors and a seed.

Executed by ``bench/bench_asreview_compare.py`` with the python of the separate ASReview environment
(``.venv-asreview``, asreview 3.0.8 from PyPI); it imports nothing from metareview. It replays the
screening the way ``asreview simulate --ai elas_u4 --prior-idx ... --seed ...`` does (same objects:
a top-down cycle until the model can be fitted, then the ELAS u4 cycle refitted after every decision,
stopping at the last relevant record), but with the label column chosen by the caller and the global
numpy seed set as the CLI sets it. Prints one JSON object: the screened row positions in order and the
wall time of the replay.

    .venv-asreview/bin/python bench/asreview_driver.py FILE.csv LABEL SEED PRIOR_IDX [PRIOR_IDX ...]
"""

import json
import sys
import time

import numpy as np
import pandas as pd
from asreview.learner import ActiveLearningCycle
from asreview.models.models import get_ai_config
from asreview.models.queriers import TopDown
from asreview.models.stoppers import IsFittable, LastRelevant
from asreview.simulation.simulate import Simulate


def main() -> None:
    path, label, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    priors = [int(v) for v in sys.argv[4:]]
    df = pd.read_csv(path)
    labels = df[label].astype(int).to_numpy()
    X = df[["title", "abstract"]].astype("string").fillna("")
    t0 = time.perf_counter()
    np.random.seed(seed)  # as `asreview simulate --seed` does
    cycles = [
        ActiveLearningCycle(querier=TopDown(), stopper=IsFittable()),
        ActiveLearningCycle.from_meta(get_ai_config("elas_u4")["value"]),
    ]
    sim = Simulate(X, labels, cycles, stopper=LastRelevant(), print_progress=False)
    sim.label(priors)
    sim.review()
    order = [int(v) for v in sim._results["record_id"].to_numpy()]
    print(json.dumps({"order": order, "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
