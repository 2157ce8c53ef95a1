"""Result objects of the random-effects core (frozen dataclasses that print like metafor).

Every result has ``to_dict()`` (plain scalars), ``to_frame()`` (pandas, imported lazily so
``stats`` stays numpy/scipy-only at import time) and ``__str__``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class MetaResult:
    """A fitted equal- or random-effects model (metafor's ``rma.uni`` without moderators).

    Field names follow metafor: ``estimate`` is ``b``, ``ci_lower``/``ci_upper`` are ``ci.lb``/
    ``ci.ub``, ``i2``/``h2`` are metafor's τ²-based values, ``i2_q``/``h2_q`` the Q-based ones.
    Undefined quantities are ``nan``.

    Example::

        >>> import metareview as mr
        >>> res = mr.meta([0.1, 0.3, 0.2], [0.01, 0.02, 0.015], method="DL")
        >>> round(res.estimate, 4)
        0.1845
    """

    k: int
    method: str
    test: str
    pi_method: str
    level: float
    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_lower: float
    ci_upper: float
    tau2: float
    se_tau2: float
    tau: float
    i2: float
    h2: float
    i2_q: float
    h2_q: float
    q: float
    q_df: int
    q_pvalue: float
    tau2_ci_lower: float
    tau2_ci_upper: float
    i2_ci_lower: float
    i2_ci_upper: float
    h2_ci_lower: float
    h2_ci_upper: float
    pi_lower: float
    pi_upper: float
    yi: FloatArray
    vi: FloatArray
    weights: FloatArray
    converged: bool
    iterations: int

    def to_dict(self) -> dict[str, Any]:
        """All scalar fields as plain Python values (arrays left out)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: val for name, val in values.items() if not isinstance(val, np.ndarray)}

    def to_frame(self) -> Any:
        """A one-row :class:`pandas.DataFrame` of :meth:`to_dict`."""
        import pandas as pd

        return pd.DataFrame([self.to_dict()])

    def __str__(self) -> str:
        return f"MetaResult(k={self.k}, estimate={self.estimate}, tau2={self.tau2})"


def nan() -> float:
    """The float NaN used for undefined quantities."""
    return math.nan
