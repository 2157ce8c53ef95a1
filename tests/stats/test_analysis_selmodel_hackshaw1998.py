"""Selection models on Hackshaw et al. (1998) (metadat's ``dat.hackshaw1998``: 37 studies of passive smoking
and lung cancer, log odds ratios; the ML random-effects model): every parametric type against metafor 3.8.1.

The values are metafor's, printed by ``tests/stats/regenerate_pinned_selmodel.R``: each ``selmodel()`` fitted
with metafor's defaults and then refitted from those estimates with ``integrate()``'s ``rel.tol = 1e-10`` and
``optim``'s ``reltol = 1e-14`` (metafor's defaults leave its likelihood ~1e-4 and its Hessian-based SEs up
to ~2% off here, from ``integrate()``'s tolerance ε^¼; such a run takes minutes, so the values are pinned
rather than computed in CI). The step-function model is compared live in ``test_parity_selmodel.py``.

Tolerances: the log-likelihood and the LRTs within 1e-7 (metafor's integrals at rel.tol 1e-10); estimates
within 2e-5 and standard errors within 1e-5 (relative above 1): metafor's BFGS, with its numerical gradient
(``ndeps = 1e-3``), stops up to ~1.5e-5 from the maximum along the flat δ direction (negexp: δ = 2.7768 with
SE 1.54; the log-likelihood there differs from the maximum by ~1e-10).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from test_analysis_hackshaw1998 import VI, YI  # metadat's yi and vi (to 4e-16)

from metareview.stats import meta
from metareview.stats.selmodel import selmodel

# metafor 3.8.1, tests/stats/regenerate_pinned_selmodel.R ("(tight, ...)" blocks)
PINNED: dict[str, dict[str, Any]] = {
    "beta": {
        "beta": 0.937855036,
        "se": 0.478990529,
        "tau2": 0.1018326742,
        "se_tau2": 0.06264755329,
        "delta": [1.665574172, 1.131045509],
        "se_delta": [0.3281721147, 0.5527051785],
        "ll": -7.809866303,
        "LRT": 4.677472207,
        "LRTp": 0.09644946337,
        "LRT_tau2": 3.270134643,
    },
    "halfnorm": {
        "beta": 0.1010123396,
        "se": 0.1194184362,
        "tau2": 0.03211597805,
        "se_tau2": 0.02788514204,
        "delta": 2.029619472,
        "se_delta": 1.428708247,
        "ll": -8.881771126,
        "LRT": 2.533662561,
        "LRTp": 0.1114412772,
        "LRT_tau2": 5.065206967,
    },
    "negexp": {
        "beta": 0.004887210368,
        "se": 0.1557614991,
        "tau2": 0.02621709428,
        "se_tau2": 0.02243023212,
        "delta": 2.776785741,
        "se_delta": 1.541615573,
        "ll": -8.084751199,
        "LRT": 4.127702416,
        "LRTp": 0.04218659062,
        "LRT_tau2": 4.090000865,
    },
    "logistic": {
        "beta": 0.03238775093,
        "se": 0.150136563,
        "tau2": 0.02919041271,
        "se_tau2": 0.02516751361,
        "delta": 3.19686912,
        "se_delta": 1.539473531,
        "ll": -8.304253154,
        "LRT": 3.688698507,
        "LRTp": 0.05478234744,
        "LRT_tau2": 4.492019104,
    },
    "power": {
        "beta": 0.1134672052,
        "se": 0.1189272324,
        "tau2": 0.03185141461,
        "se_tau2": 0.02865600138,
        "delta": 0.6368466675,
        "se_delta": 0.5204449757,
        "ll": -9.151541025,
        "LRT": 1.994122764,
        "LRTp": 0.1579104749,
        "LRT_tau2": 4.943271091,
    },
    "negexp_two_sided": {
        "beta": 0.1838756701,
        "se": 0.05815151486,
        "tau2": 0.01489512947,
        "se_tau2": 0.01374789545,
        "delta": 0.6277124197,
        "se_delta": 0.7435692062,
        "ll": -9.788003881,
        "LRT": 0.7211970513,
        "LRTp": 0.3957515352,
        "LRT_tau2": 2.431915796,
    },
    "halfnorm_step": {
        "beta": 0.1016330033,
        "se": 0.1190562186,
        "tau2": 0.03219893402,
        "se_tau2": 0.02796110063,
        "delta": 2.026165414,
        "se_delta": 1.426195766,
        "ll": -8.882013846,
        "LRT": 2.533177121,
        "LRTp": 0.1114755593,
        "LRT_tau2": 5.077309746,
    },
}
FITS = {
    "beta": ("beta", {}),
    "halfnorm": ("halfnorm", {}),
    "negexp": ("negexp", {}),
    "logistic": ("logistic", {}),
    "power": ("power", {}),
    "negexp_two_sided": ("negexp", {"alternative": "two.sided"}),
    "halfnorm_step": ("halfnorm", {"steps": [0.05]}),
}


@pytest.fixture(scope="module")
def hackshaw() -> Any:
    return meta(YI, VI, method="ML")


def _close(got: Any, want: Any, tol: float, relative_above: float = np.inf) -> bool:
    g, w = np.atleast_1d(np.asarray(got, dtype=float)), np.atleast_1d(np.asarray(want, dtype=float))
    return bool(np.all(np.abs(g - w) <= tol * np.maximum(1.0, np.abs(w) / relative_above)))


@pytest.mark.parametrize("name", list(FITS))
def test_parametric_selection_models_match_metafor(hackshaw: Any, name: str) -> None:
    type_, kwargs = FITS[name]
    want = PINNED[name]
    got = selmodel(hackshaw, type_, **kwargs)
    checks = {
        "ll": (got.loglik, want["ll"], 1e-7, np.inf),
        "LRT": (got.lrt, want["LRT"], 1e-7, np.inf),
        "LRTp": (got.lrt_pvalue, want["LRTp"], 1e-7, np.inf),
        "LRT_tau2": (got.lrt_tau2, want["LRT_tau2"], 1e-7, np.inf),
        "beta": (got.estimates, want["beta"], 2e-5, np.inf),
        "tau2": (got.tau2, want["tau2"], 2e-5, np.inf),
        "delta": (got.delta, want["delta"], 2e-5, np.inf),
        "se": (got.se, want["se"], 1e-5, 1.0),
        "se_tau2": (got.se_tau2, want["se_tau2"], 1e-5, 1.0),
        "se_delta": (got.se_delta, want["se_delta"], 1e-5, 1.0),
    }
    bad = {k: (g, w) for k, (g, w, tol, rel) in checks.items() if not _close(g, w, tol, rel)}
    assert not bad, bad
