"""Generate meta-analyses under stated conditions (the data-generating side of a simulation study).

A :class:`Condition` states the number of studies ``k``, the between-study variance ``tau2`` and mean
effect ``mu`` (on the analysis scale: SMD, MD, log OR, or a generic normal effect), how study sizes are
drawn (total N per study, uniform between ``n_min`` and ``n_max``; optionally a share of studies
``large_factor`` times larger, as in IntHout et al. 2014), and small-study bias (a study whose one-sided
p for a positive effect is ≥ 0.05 is published only with probability ``publish_nonsig``; studies are
drawn until ``k`` are published).

Effect measures (true study effects θᵢ ~ N(μ, τ²); two arms of N/2, unit SD):

* ``generic``: yᵢ ~ N(θᵢ, vᵢ) with the known vᵢ = 4/Nᵢ (the normal–normal model of most methods papers);
* ``MD``: mean difference with estimated SDs, vᵢ = s₁²/n₁ + s₂²/n₂;
* ``SMD``: Hedges' g, vᵢ = 1/n₁ + 1/n₂ + g²/(2(n₁+n₂)) (metafor's ``escalc("SMD")``);
* ``OR``: log odds ratio from binomial arms with control risk ``p0``, ½ added to every cell of a study
  with a zero cell (metafor's default), vᵢ = Σ 1/cell.

Random numbers come from :func:`numpy.random.default_rng` on ``SeedSequence(seed, spawn_key=(condition,
chunk))``, so a chunk of replicates is the same wherever (and in whichever order) it is generated.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from metareview.errors import InputError

MEASURES = ("generic", "MD", "SMD", "OR")


@dataclass(frozen=True)
class Condition:
    """One simulation condition (see the module docstring)."""

    k: int
    tau2: float
    mu: float = 0.0
    measure: str = "generic"
    n_min: int = 40
    n_max: int = 200
    large_share: float = 0.0
    large_factor: float = 10.0
    publish_nonsig: float = 1.0
    p0: float = 0.2

    def __post_init__(self) -> None:
        if self.k < 1:
            raise InputError(f"k must be at least 1, not {self.k}", field="k")
        if self.tau2 < 0:
            raise InputError(f"tau2 must be >= 0, not {self.tau2}", field="tau2")
        if self.measure not in MEASURES:
            raise InputError(f"measure must be one of {MEASURES}, not {self.measure!r}", field="measure")
        if not 4 <= self.n_min <= self.n_max:
            raise InputError(f"need 4 <= n_min <= n_max, got {self.n_min}, {self.n_max}", field="n_min")
        if not 0 <= self.large_share <= 1 or not 0 < self.publish_nonsig <= 1:
            raise InputError("large_share must lie in [0, 1] and publish_nonsig in (0, 1]", field="condition")
        if self.measure == "OR" and not 0 < self.p0 < 1:
            raise InputError(f"p0 must lie in (0, 1), not {self.p0}", field="p0")

    def to_dict(self) -> dict[str, Any]:
        """Plain values."""
        return asdict(self)

    def label(self) -> str:
        """A short readable name."""
        extra = f", {self.large_share:.0%} x{self.large_factor:g}" if self.large_share else ""
        bias = f", publish non-sig {self.publish_nonsig:g}" if self.publish_nonsig < 1 else ""
        return f"{self.measure} k={self.k} tau2={self.tau2:g} mu={self.mu:g}{extra}{bias}"


def rng_for(seed: int, condition: int, chunk: int) -> np.random.Generator:
    """The generator of one chunk of one condition (independent of where it runs)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(condition, chunk)))


def _sizes(c: Condition, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    n = rng.integers(c.n_min // 2, c.n_max // 2 + 1, size=shape) * 2  # even totals: two equal arms
    if c.large_share > 0:
        n_large = int(round(c.large_share * shape[1]))
        if n_large:
            n[:, :n_large] = np.round(n[:, :n_large] * c.large_factor / 2).astype(int) * 2
    return n


def _studies(c: Condition, shape: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Effect estimates and sampling variances of ``shape`` (replicates, studies) candidate studies."""
    n = _sizes(c, shape, rng)
    n1 = n2 = n // 2
    theta = c.mu + np.sqrt(c.tau2) * rng.standard_normal(shape)
    if c.measure == "generic":
        v = 4.0 / n
        return theta + np.sqrt(v) * rng.standard_normal(shape), v
    if c.measure in ("MD", "SMD"):
        md = theta + np.sqrt(1 / n1 + 1 / n2) * rng.standard_normal(shape)
        s1 = rng.chisquare(n1 - 1) / (n1 - 1)
        s2 = rng.chisquare(n2 - 1) / (n2 - 1)
        if c.measure == "MD":
            return md, s1 / n1 + s2 / n2
        sp = np.sqrt(((n1 - 1) * s1 + (n2 - 1) * s2) / (n1 + n2 - 2))
        m = n1 + n2 - 2
        j = np.exp(_lgamma(m / 2) - 0.5 * np.log(m / 2) - _lgamma((m - 1) / 2))  # exact correction
        g = j * md / sp
        return g, 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2))
    lo = np.log(c.p0 / (1 - c.p0))
    p1 = 1 / (1 + np.exp(-(lo + theta)))
    a = rng.binomial(n1, p1).astype(float)
    cc = rng.binomial(n2, c.p0).astype(float)
    b, d = n1 - a, n2 - cc
    zero = (a == 0) | (b == 0) | (cc == 0) | (d == 0)
    add = np.where(zero, 0.5, 0.0)
    a, b, cc, d = a + add, b + add, cc + add, d + add
    return np.log(a * d / (b * cc)), 1 / a + 1 / b + 1 / cc + 1 / d


def _lgamma(x: np.ndarray) -> np.ndarray:
    from scipy.special import gammaln

    return np.asarray(gammaln(x), dtype=float)


def generate(c: Condition, reps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``reps`` meta-analyses of condition ``c``: arrays (reps, k) of effect estimates and variances.

    Under small-study bias, candidate studies are drawn in rounds and each replicate keeps the first
    ``k`` published ones.
    """
    if c.publish_nonsig >= 1:
        return _studies(c, (reps, c.k), rng)
    y = np.empty((reps, c.k))
    v = np.empty((reps, c.k))
    have = np.zeros(reps, dtype=int)
    todo = np.arange(reps)
    width = max(2 * c.k, int(np.ceil(c.k / c.publish_nonsig)))
    while todo.size:
        cy, cv = _studies(c, (todo.size, width), rng)
        sig = cy / np.sqrt(cv) > 1.6448536269514722  # one-sided p < 0.05 for a positive effect
        keep = sig | (rng.random(cy.shape) < c.publish_nonsig)
        for row, r in enumerate(todo):
            got = np.flatnonzero(keep[row])[: c.k - have[r]]
            y[r, have[r] : have[r] + got.size] = cy[row, got]
            v[r, have[r] : have[r] + got.size] = cv[row, got]
            have[r] += got.size
        todo = todo[have[todo] < c.k]
    return y, v
