"""The optional PyTorch backend of meta_many (float64): the same numbers as the NumPy path to 1e-10, on
the CPU (and on CUDA too when a GPU is present)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from needs import skip_or_fail

from metareview.stats import meta_many
from metareview.stats.errors import StatsInputError

FIELDS = (
    "estimate",
    "se",
    "statistic",
    "pvalue",
    "ci_lower",
    "ci_upper",
    "tau2",
    "se_tau2",
    "i2",
    "h2",
    "q",
    "q_pvalue",
    "tau2_ci_lower",
    "tau2_ci_upper",
    "pi_lower",
    "pi_upper",
    "iterations",
    "converged",
)


def _devices() -> list[str]:
    try:
        import torch
    except ModuleNotFoundError:
        skip_or_fail("PyTorch is not installed (extra 'embeddings')")
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _data(seed: int = 3, n: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = rng.integers(1, 25, size=n)  # includes single-study groups
    g = np.repeat(rng.permutation(n), k)
    v = rng.uniform(0.005, 0.5, size=g.size)
    y = rng.normal(0.0, 0.3, size=g.size) + np.repeat(rng.normal(0.2, 0.3, size=n), k)
    return y, v, g


@pytest.mark.parametrize("method", ["EE", "DL", "ML", "REML"])
@pytest.mark.parametrize("test,pi", [("z", "z"), ("knha", "t")])
def test_torch_equals_numpy(method: str, test: str, pi: str) -> None:
    y, v, g = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = meta_many(y, v, g, method=method, test=test, pi=pi)
        for device in _devices():
            got = meta_many(y, v, g, method=method, test=test, pi=pi, backend="torch", device=device)
            np.testing.assert_array_equal(ref.groups, got.groups)
            for name in FIELDS:
                np.testing.assert_allclose(
                    got.column(name).astype(float),
                    ref.column(name).astype(float),
                    rtol=0,
                    atol=1e-10,
                    equal_nan=True,
                    err_msg=f"{device} {name}",
                )


def test_torch_backend_refuses_what_it_does_not_fit() -> None:
    _devices()
    with pytest.raises(StatsInputError, match="backend='numpy' for PM"):
        meta_many([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], [1, 1, 1], method="PM", backend="torch")
    with pytest.raises(StatsInputError, match="backend must be"):
        meta_many([0.1, 0.2], [0.01, 0.02], [1, 1], backend="jax")


def test_tau2_ci_can_be_skipped() -> None:
    y, v, g = _data(n=50)
    res = meta_many(y, v, g, method="REML", tau2_ci=False)
    assert np.isnan(res.column("tau2_ci_lower")).all()
    np.testing.assert_array_equal(res.column("tau2"), meta_many(y, v, g, method="REML").column("tau2"))
