"""Vote counting: a Table-4-style cross-tabulation of effect-size directions by a moderator.

Werntz et al. 2023 (J Med Internet Res 25:e42864, Table 4) counted the 45 effect sizes as human-supported
significantly better / no significant difference / unsupported significantly better, by outcome domain,
sample, RCT quality and support provider, printing TRUNCATED percentages. :func:`vote_table` gives the
counts, the paper's truncated percentages, properly rounded ones, Wilson CIs and an exact test of
association between the moderator and the direction::

    >>> t = vote_table(["better", "better", "no_difference", "worse"], ["a", "a", "b", "b"], moderator="x")
    >>> t.rows[0].counts
    (2, 0, 0)
    >>> print(t)  # doctest: +SKIP

Tests: Fisher's exact (2x2 via scipy, r x c by exact enumeration of all tables with the observed margins —
the Freeman–Halton extension — with a seeded Monte Carlo fallback for tables too large to enumerate), and
:func:`compare_better` for a one-sided 2x2 comparison of "significantly better vs not" between two levels.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from metareview.errors import InputError
from metareview.extraction.direction import Direction
from metareview.extraction.forms import EffectSizeRecord
from metareview.protocol import Protocol

DIRECTIONS: tuple[Direction, ...] = (Direction.BETTER, Direction.NO_DIFFERENCE, Direction.WORSE)
DEFAULT_LABELS: tuple[str, str, str] = (
    "Significantly better",
    "No significant difference",
    "Significantly worse",
)
#: enumeration stops and Monte Carlo takes over beyond this many partial tables or enumeration steps
MAX_ENUMERATED = 1_000_000
MAX_STEPS = 200_000
# R's fisher.test compares table probabilities with this relative tolerance
_REL_TOL = 1 + 1e-7


@dataclass(frozen=True)
class VoteRow:
    """One level of the moderator: counts per direction with percentages and Wilson CIs (in %)."""

    level: str
    counts: tuple[int, int, int]
    parent: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def pct(self) -> tuple[float, float, float]:
        """Exact percentages (NaN for an empty row)."""
        n = self.total
        return tuple(100.0 * c / n if n else math.nan for c in self.counts)  # type: ignore[return-value]

    @property
    def pct_truncated(self) -> tuple[int, int, int]:
        """Percentages truncated to whole numbers, as Werntz et al. 2023 printed them."""
        n = self.total
        return tuple((100 * c) // n if n else 0 for c in self.counts)  # type: ignore[return-value]

    @property
    def pct_rounded(self) -> tuple[int, int, int]:
        """Percentages rounded half up to whole numbers."""
        n = self.total
        return tuple(  # type: ignore[return-value]
            int((Decimal(100 * c) / Decimal(n)).quantize(Decimal(1), ROUND_HALF_UP)) if n else 0
            for c in self.counts
        )

    def wilson(self, level: float = 95.0) -> tuple[tuple[float, float], ...]:
        """Wilson score CIs (in %) of each direction's proportion."""
        out = []
        for c in self.counts:
            lo, hi = wilson_ci(c, self.total, level)
            out.append((100 * lo, 100 * hi))
        return tuple(out)


@dataclass(frozen=True)
class AssociationTest:
    """A test of association between moderator and direction."""

    method: str
    pvalue: float
    table: tuple[tuple[int, ...], ...]
    alternative: str = "two-sided"
    n_tables: int | None = None  # tables enumerated (exact) or simulated (Monte Carlo)
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "pvalue": self.pvalue, "alternative": self.alternative,
                "n_tables": self.n_tables, "seed": self.seed}

    def __str__(self) -> str:
        extra = f", {self.n_tables} tables" if self.n_tables else ""
        extra += f", seed {self.seed}" if self.seed is not None else ""
        return f"{self.method} ({self.alternative}{extra}): p = {_fmt_p(self.pvalue)}"


@dataclass(frozen=True)
class VoteTable:
    """Counts of directions by moderator level, with percentages, Wilson CIs and a test of association."""

    moderator: str
    rows: tuple[VoteRow, ...]
    test: AssociationTest | None = None
    level: float = 95.0
    labels: tuple[str, str, str] = DEFAULT_LABELS
    extras: Mapping[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Number of effect sizes in the top-level rows."""
        return sum(r.total for r in self.rows if r.parent is None)

    def row(self, level: str) -> VoteRow:
        """The row of one moderator level."""
        for r in self.rows:
            if r.level == level:
                return r
        raise KeyError(level)

    def to_frame(self) -> pd.DataFrame:
        """One row per level: n, then per direction count, truncated %, rounded %, Wilson CI (%)."""
        recs = []
        for r in self.rows:
            rec: dict[str, Any] = {"moderator": self.moderator, "level": r.level, "parent": r.parent,
                                   "n": r.total}
            for d, c, pt, pr, (lo, hi) in zip(DIRECTIONS, r.counts, r.pct_truncated, r.pct_rounded,
                                              r.wilson(self.level), strict=True):
                rec |= {f"{d.value}_n": c, f"{d.value}_pct_truncated": pt, f"{d.value}_pct_rounded": pr,
                        f"{d.value}_ci_lower": lo, f"{d.value}_ci_upper": hi}
            recs.append(rec)
        return pd.DataFrame.from_records(recs)

    def to_dict(self) -> dict[str, Any]:
        return {"moderator": self.moderator, "level": self.level, "labels": list(self.labels),
                "rows": self.to_frame().to_dict(orient="records"),
                "test": self.test.to_dict() if self.test else None}

    def __str__(self) -> str:
        head = f"{'':<34}{'n':>4}" + "".join(f"  {lab[:26]:<26}" for lab in self.labels)
        lines = [f"Vote count by {self.moderator} ({self.total} effect sizes; % truncated as published, "
                 f"[{self.level:g}% Wilson CI])", head]
        for r in self.rows:
            name = ("  " if r.parent else "") + r.level
            cells = "".join(
                f"  {f'{c} ({pt}%) [{lo:.0f}-{hi:.0f}]':<26}"
                for c, pt, (lo, hi) in zip(r.counts, r.pct_truncated, r.wilson(self.level), strict=True)
            )
            lines.append(f"{name[:34]:<34}{r.total:>4}{cells}")
        if self.test is not None:
            lines.append(str(self.test))
        return "\n".join(lines)


def wilson_ci(x: int, n: int, level: float = 95.0) -> tuple[float, float]:
    """Wilson score interval for a proportion ``x/n`` (as proportions; NaN for n = 0).

    >>> [round(v, 4) for v in wilson_ci(4, 12)]
    [0.1381, 0.6094]
    """
    if n == 0:
        return (math.nan, math.nan)
    if not 0 <= x <= n:
        raise InputError(f"count {x} outside 0..{n}")
    z = float(stats.norm.ppf(1 - (1 - level / 100) / 2))
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def fisher_exact(
    table: Sequence[Sequence[int]] | np.ndarray,
    *,
    alternative: Literal["two-sided", "greater", "less"] = "two-sided",
    seed: int = 20230220,
    n_sim: int = 100_000,
) -> AssociationTest:
    """Fisher's exact test of an r x c table of counts.

    2x2: scipy's (``alternative`` as in R's ``fisher.test``: "greater" means odds ratio > 1).
    r x c: the Freeman–Halton extension, exact by enumerating every table with the observed margins and
    summing the probabilities of those no more probable than the observed one (R's ``fisher.test``
    convention); beyond :data:`MAX_ENUMERATED` partial tables, a Monte Carlo p with ``n_sim`` tables and
    the stated ``seed``. Rows or columns that are all zero are dropped first.

    >>> fisher_exact([[12, 9], [10, 14]], alternative="greater").pvalue  # doctest: +ELLIPSIS
    0.2...
    """
    tab = _as_table(table)
    if tab.shape == (2, 2):
        res = stats.fisher_exact(tab, alternative=alternative)
        return AssociationTest("Fisher's exact test", float(res.pvalue), _tup(tab), alternative)
    if alternative != "two-sided":
        raise InputError("one-sided alternatives exist only for 2x2 tables", field="alternative")
    if min(tab.shape) < 2:
        return AssociationTest("Fisher's exact test", 1.0, _tup(tab))
    p, n_tables = _freeman_halton(tab)
    if p is not None:
        return AssociationTest("Fisher's exact test (Freeman-Halton, exact enumeration)", p, _tup(tab),
                               n_tables=n_tables)
    p = _monte_carlo(tab, n_sim, seed)
    return AssociationTest("Fisher's exact test (Monte Carlo)", p, _tup(tab), n_tables=n_sim, seed=seed)


def vote_table(
    directions: Sequence[str | Direction],
    moderator_values: Sequence[str],
    *,
    moderator: str = "moderator",
    order: Sequence[str] | None = None,
    level: float = 95.0,
    labels: tuple[str, str, str] = DEFAULT_LABELS,
    test: bool = True,
) -> VoteTable:
    """Cross-tabulate effect-size ``directions`` (values of :class:`Direction`) by ``moderator_values``."""
    if len(directions) != len(moderator_values):
        raise InputError(f"{len(directions)} directions but {len(moderator_values)} moderator values",
                         field=moderator)
    counts: dict[str, list[int]] = {}
    for i, (d, m) in enumerate(zip(directions, moderator_values, strict=True)):
        try:
            col = DIRECTIONS.index(Direction(d))
        except ValueError:
            raise InputError(f"unknown direction {d!r}; use one of {[x.value for x in DIRECTIONS]}",
                             line=i + 1, field="direction") from None
        counts.setdefault(str(m), [0, 0, 0])[col] += 1
    levels = list(order) if order is not None else sorted(counts)
    missing = set(counts) - set(levels)
    if missing:
        raise InputError(f"levels {sorted(missing)} missing from order", field=moderator)
    return vote_table_from_counts({lv: tuple(counts.get(lv, [0, 0, 0])) for lv in levels},  # type: ignore[misc]
                                  moderator=moderator, level=level, labels=labels, test=test)


#: the level of effect sizes that do not report an optional moderator
NOT_REPORTED = "not reported"


def vote_table_from_records(
    records: Iterable[EffectSizeRecord], *, by: str, order: Sequence[str] | None = None, level: float = 95.0,
    labels: tuple[str, str, str] = DEFAULT_LABELS, protocol: Protocol | None = None,
) -> VoteTable:
    """Cross-tabulate extracted effect sizes (directions derived) by one of their fields: ``outcome_domain``,
    ``comparison``, ``measure`` or any declared moderator (e.g. ``sample``).

    With ``protocol``, ``by`` must be ``outcome_domain`` or a declared moderator, and the rows follow the
    declared order of its levels (levels no effect size has are left out). Effect sizes without a value of
    an optional moderator are counted under "not reported". A yes/no moderator's levels are "yes"/"no".
    """
    recs = list(records)
    builtin = {"outcome_domain", "comparison", "measure"}
    declared: list[str] | None = None
    if protocol is not None:
        if by == "outcome_domain":
            declared = list(protocol.outcome_domains) or None
        else:
            spec = protocol.moderator(by)
            declared = list(spec.levels) if spec.type == "categorical" else (
                ["yes", "no"] if spec.type == "yes/no" else None)
    elif by not in builtin and recs and all(by not in r.fields for r in recs):
        raise InputError(f"effect sizes have no field {by!r}", field=by)
    values = [_level(r.value(by)) for r in recs]
    if order is None and declared is not None:
        present = set(values)
        order = [lv for lv in declared if lv in present] + ([NOT_REPORTED] if NOT_REPORTED in present else [])
    return vote_table([r.direction for r in recs], values, moderator=by, order=order, level=level,
                      labels=labels)


def _level(value: Any) -> str:
    if value is None:
        return NOT_REPORTED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def vote_table_from_counts(
    counts: Mapping[str, tuple[int, int, int]],
    *,
    moderator: str = "moderator",
    parents: Mapping[str, str] | None = None,
    level: float = 95.0,
    labels: tuple[str, str, str] = DEFAULT_LABELS,
    test: bool = True,
) -> VoteTable:
    """Build a :class:`VoteTable` from published counts (better, no difference, worse) per level.

    ``parents`` maps a sub-level to its parent level (Table 4 nests sample types under "Clinical or
    subclinical"); only top-level rows enter the test of association.
    """
    parents = parents or {}
    rows = []
    for lv, c in counts.items():
        if len(c) != 3 or any(int(v) != v or v < 0 for v in c):
            raise InputError(f"counts for {lv!r} must be three non-negative integers, got {c}", field=lv)
        rows.append(VoteRow(lv, (int(c[0]), int(c[1]), int(c[2])), parents.get(lv)))
    top = [r.counts for r in rows if r.parent is None]
    result = fisher_exact(top) if test and len(top) >= 2 else None
    return VoteTable(moderator, tuple(rows), result, level, labels)


def compare_better(
    table: VoteTable, level_a: str, level_b: str, *, alternative: Literal["greater", "two-sided"] = "greater"
) -> AssociationTest:
    """One-sided Fisher's exact test that "significantly better" is more frequent in ``level_a``.

    The 2x2 table is (better, not better) for ``level_a`` over ``level_b``; this is the formal test of
    Werntz et al.'s claim that support helps more in samples with elevated symptoms.
    """
    a, b = table.row(level_a), table.row(level_b)
    tab = [[a.counts[0], a.total - a.counts[0]], [b.counts[0], b.total - b.counts[0]]]
    return fisher_exact(tab, alternative=alternative)


# --- internals -----------------------------------------------------------------------------------


def _as_table(table: Sequence[Sequence[int]] | np.ndarray) -> np.ndarray:
    tab = np.asarray(table)
    if tab.ndim != 2 or tab.size == 0:
        raise InputError("a contingency table must be a non-empty 2-D array of counts")
    if np.any(tab < 0) or np.any(tab != np.round(tab)):
        raise InputError("contingency-table cells must be non-negative integers")
    tab = tab.astype(np.int64)
    kept: np.ndarray = tab[tab.sum(axis=1) > 0][:, tab.sum(axis=0) > 0]
    return kept


def _tup(tab: np.ndarray) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(v) for v in row) for row in tab)


def _log_prob(tab: np.ndarray) -> float:
    """log P(table | margins) under independence (multivariate hypergeometric)."""
    rows, cols, n = tab.sum(axis=1), tab.sum(axis=0), tab.sum()
    lf = special.gammaln
    return float(lf(rows + 1).sum() + lf(cols + 1).sum() - lf(n + 1) - lf(tab + 1).sum())


def _compositions(total: int, caps: Sequence[int]) -> list[tuple[int, ...]]:
    """All ways to split ``total`` into len(caps) non-negative parts, part j at most caps[j]."""
    suffix = [0] * (len(caps) + 1)
    for j in range(len(caps) - 1, -1, -1):
        suffix[j] = suffix[j + 1] + caps[j]
    out: list[tuple[int, ...]] = []

    def rec(j: int, left: int, acc: tuple[int, ...]) -> None:
        if j == len(caps) - 1:
            if left <= caps[j]:
                out.append((*acc, left))
            return
        for v in range(max(0, left - suffix[j + 1]), min(left, caps[j]) + 1):
            rec(j + 1, left - v, (*acc, v))

    rec(0, total, ())
    return out


def _freeman_halton(tab: np.ndarray) -> tuple[float | None, int]:
    """Exact r x c p value by dynamic enumeration over rows; (None, n) when the table is too large."""
    rows = [int(v) for v in tab.sum(axis=1)]
    cols = [int(v) for v in tab.sum(axis=0)]
    lfact = special.gammaln(np.arange(sum(rows) + 1) + 1.0).tolist()
    const = sum(lfact[v] for v in rows) + sum(lfact[v] for v in cols) - lfact[sum(rows)]
    # state: column totals used so far -> partial sums of -log(prod cell!) of the tables reaching it
    states: dict[tuple[int, ...], np.ndarray] = {tuple([0] * len(cols)): np.zeros(1)}
    n_partial = n_steps = 0
    for r in rows:
        new: dict[tuple[int, ...], list[np.ndarray]] = {}
        for used, acc in states.items():
            caps = [c - u for c, u in zip(cols, used, strict=True)]
            for comp in _compositions(r, caps):
                nxt = tuple(u + v for u, v in zip(used, comp, strict=True))
                new.setdefault(nxt, []).append(acc - sum(lfact[v] for v in comp))
                n_partial += acc.size
                n_steps += 1
                if n_partial > MAX_ENUMERATED or n_steps > MAX_STEPS:
                    return None, n_partial
        states = {k: np.concatenate(v) for k, v in new.items()}
    logp = const + states[tuple(cols)]
    obs = _log_prob(tab)
    probs = np.exp(logp)
    p = float(probs[logp <= obs + math.log(_REL_TOL)].sum())
    return min(1.0, p), int(len(logp))


def _monte_carlo(tab: np.ndarray, n_sim: int, seed: int, batch: int = 2000) -> float:
    """Monte Carlo Fisher p: permute column labels against row labels ``n_sim`` times (in batches)."""
    rng = np.random.default_rng(seed)
    r, c = tab.shape
    row_lab = np.repeat(np.arange(r), tab.sum(axis=1))
    col_lab = np.repeat(np.arange(c), tab.sum(axis=0))
    # with fixed margins, a table's probability only varies through -sum(log cell!)
    obs = -float(special.gammaln(tab + 1).sum())
    hits = 0
    done = 0
    while done < n_sim:
        m = min(batch, n_sim - done)
        cols = rng.permuted(np.broadcast_to(col_lab, (m, col_lab.size)), axis=1)
        codes = row_lab * c + cols + (np.arange(m) * r * c)[:, None]
        sims = np.bincount(codes.ravel(), minlength=m * r * c).reshape(m, r * c)
        score = -special.gammaln(sims + 1).sum(axis=1)
        hits += int(np.sum(score <= obs + math.log(_REL_TOL)))
        done += m
    return (hits + 1) / (n_sim + 1)


def _fmt_p(p: float) -> str:
    return f"{p:.4f}" if p >= 1e-4 else f"{p:.2e}"
