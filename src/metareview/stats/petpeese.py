"""PET-PEESE (Stanley & Doucouliagos 2014, Res Synth Methods 5:60-78): small-study-corrected effect estimates.

* PET: the weighted least-squares regression yᵢ = β₀ + β₁·seᵢ (weights 1/vᵢ, residual variance estimated,
  t tests with k − 2 df) — R's ``lm(yi ~ sei, weights = 1/vi)``, equivalently metafor's
  ``rma(yi, vi, mods = ~ sei, method = "EE", test = "knha")``.
* PEESE: the same regression on vᵢ instead of seᵢ.
* The conditional estimator: the PEESE intercept when PET's test of β₀ = 0 rejects at ``alpha`` (some
  genuine effect), else the PET intercept. ``sided=2`` (default) uses PET's two-sided p-value; ``sided=1``
  the one-sided p-value in the direction of PET's estimate (half the two-sided one), as in Stanley &
  Doucouliagos's one-tailed formulation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from metareview.stats.errors import StatsInputError, check_effects
from metareview.stats.metareg import meta_reg
from metareview.stats.results import MetaRegResult


@dataclass(frozen=True)
class PetPeeseResult:
    """``pet``/``peese`` are the two regressions (coefficients ``intrcpt`` and ``sei`` / ``vi``);
    ``estimate`` is the conditional PET-PEESE estimate, from ``chosen`` ("PET" or "PEESE");
    ``pet_pvalue`` the p-value of PET's intercept the rule used (``sided``)."""

    pet: MetaRegResult
    peese: MetaRegResult
    chosen: str
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    pet_pvalue: float
    alpha: float
    sided: int

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("pet", "peese")}

    def __str__(self) -> str:
        return (
            f"\nPET-PEESE ({self.chosen}): estimate = {self.estimate:.4f}, se = {self.se:.4f}, "
            f"CI [{self.ci_lower:.4f}, {self.ci_upper:.4f}]; PET intercept p = {self.pet_pvalue:.4g}"
            f" ({self.sided}-sided, alpha = {self.alpha:g})\n"
        )


def pet_peese(
    yi: ArrayLike,
    vi: ArrayLike | None = None,
    *,
    sei: ArrayLike | None = None,
    alpha: float = 0.05,
    sided: int = 2,
    level: float = 95.0,
) -> PetPeeseResult:
    """PET, PEESE and the conditional PET-PEESE estimate (needs k ≥ 3).

    Example::

        >>> from metareview.stats import pet_peese
        >>> r = pet_peese([0.5, 0.4, 0.3, 0.25, 0.2], [0.09, 0.05, 0.02, 0.01, 0.005])
        >>> r.chosen, r.pet.names
        ('PEESE', ['intrcpt', 'sei'])
    """
    y, v = check_effects(yi, vi, sei)
    if y.size < 3:
        raise StatsInputError(f"PET-PEESE needs k >= 3, got k = {y.size}", field="yi")
    if sided not in (1, 2):
        raise StatsInputError(f"sided must be 1 or 2, not {sided!r}", field="sided")
    if not 0 < alpha < 1:
        raise StatsInputError(f"alpha must be in (0, 1), not {alpha!r}", field="alpha")
    pet = meta_reg(y, v, {"sei": np.sqrt(v)}, method="EE", test="knha", level=level)
    peese = meta_reg(y, v, {"vi": v}, method="EE", test="knha", level=level)
    p = float(pet.pvalue[0]) / (3 - sided)
    use = peese if p < alpha else pet
    return PetPeeseResult(
        pet=pet,
        peese=peese,
        chosen="PEESE" if p < alpha else "PET",
        estimate=float(use.estimates[0]),
        se=float(use.se[0]),
        ci_lower=float(use.ci_lower[0]),
        ci_upper=float(use.ci_upper[0]),
        pet_pvalue=p,
        alpha=alpha,
        sided=sided,
    )
