"""Result objects of the random-effects core and the helpers that print them like metafor.

Every result has ``to_dict()`` (plain scalars), ``to_frame()`` (pandas, imported lazily so
``stats`` needs only numpy/scipy to import) and ``__str__`` (laid out like metafor's
``print.rma.uni``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

_PI_LABELS = {
    "z": "z, metafor's default for test='z'",
    "t": "t with k-1 df",
    "riley": "t with k-2 df, Riley et al. 2011",
}


def format_p(p: float) -> str:
    """A p-value the way metafor prints it: ``<.0001`` below 1e-4, else 4 decimals."""
    if math.isnan(p):
        return "NA"
    return "<.0001" if p < 1e-4 else f"{p:.4f}"


def p_clause(p: float) -> str:
    """``p-val < .0001`` or ``p-val = 0.0123``, as metafor writes a test's p-value."""
    text = format_p(p)
    return f"p-val < {text[1:]}" if text.startswith("<") else f"p-val = {text}"


def _stars(p: float) -> str:
    if math.isnan(p):
        return ""
    for cut, mark in ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")):
        if p < cut:
            return mark
    return ""


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    value = float(value)
    return "NA" if math.isnan(value) else f"{value:.4f}"


def scalar_fields(obj: Any) -> dict[str, Any]:
    """The dataclass fields of ``obj`` that are plain scalars (arrays and fitted models left out): the
    ``to_dict`` of the small test results."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        val = getattr(obj, f.name)
        if isinstance(val, bool | int | float | str) or val is None:
            out[f.name] = val
    return out


def coefficient_rows(names: Sequence[str], label: str = "name", **columns: Any) -> list[dict[str, Any]]:
    """One dict per coefficient, ``{label: name, column: value as float, ...}``: the coefficient tables
    of every result object (``columns`` maps a key to an array with one value per name)."""
    return [{label: n, **{key: float(col[j]) for key, col in columns.items()}} for j, n in enumerate(names)]


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Right-aligned text table (numbers with 4 decimals, NaN as ``NA``), first column left-aligned."""
    cells = [list(header)] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[j]) for r in cells) for j in range(len(header))]
    lines = []
    for r in cells:
        parts = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines) + "\n"


def coefficient_table(
    names: Sequence[str] | None,
    estimate: Sequence[float],
    se: Sequence[float],
    statistic: Sequence[float],
    pvalue: Sequence[float],
    ci_lower: Sequence[float],
    ci_upper: Sequence[float],
    ddf: float,
) -> str:
    """metafor's "Model Results" block (``zval``, or ``tval`` and ``df`` under Knapp–Hartung)."""
    knha = not math.isnan(ddf)
    head = [
        "estimate",
        "se",
        "tval" if knha else "zval",
        *(["df"] if knha else []),
        "pval",
        "ci.lb",
        "ci.ub",
        "",
    ]
    rows = []
    for j in range(len(estimate)):
        row: list[Any] = [
            estimate[j],
            se[j],
            statistic[j],
            *([int(ddf)] if knha else []),
            format_p(float(pvalue[j])),
            ci_lower[j],
            ci_upper[j],
            _stars(float(pvalue[j])),
        ]
        rows.append(row if names is None else [names[j], *row])
    if names is not None:
        head = ["", *head]
        return format_table(head, rows)
    # no row names: metafor right-aligns every column, including the first
    return format_table(["", *head], [["", *r] for r in rows]).replace("\n  ", "\n").lstrip(" ")


def _tau2_block(
    tau2: float, se_tau2: float, tau: float, i2: float, h2: float, r2: float | None = None
) -> list[str]:
    """The τ²/τ/I²/H² (and, for meta-regression, R²) lines, labels aligned as metafor aligns them."""
    residual = r2 is not None
    what = "residual" if residual else "total"
    var = "unaccounted" if residual else "total"
    se = "" if math.isnan(se_tau2) else f" (SE = {se_tau2:.4f})"
    items = [
        (f"tau^2 (estimated amount of {what} heterogeneity):", f"{tau2:.4f}{se}"),
        ("tau (square root of estimated tau^2 value):", f"{tau:.4f}"),
        (f"I^2 ({what} heterogeneity / {var} variability):", f"{i2:.2f}%"),
        (f"H^2 ({var} variability / sampling variability):", f"{h2:.2f}"),
    ]
    if r2 is not None and not math.isnan(r2):
        items.append(("R^2 (amount of heterogeneity accounted for):", f"{r2:.2f}%"))
    width = max(len(label) for label, _ in items) + 1
    return [label.ljust(width) + value for label, value in items]


def _model_title(method: str, k: int, with_mods: bool) -> str:
    if method == "EE":
        return f"{'Fixed-Effects with Moderators' if with_mods else 'Equal-Effects'} Model (k = {k})"
    return f"{'Mixed' if with_mods else 'Random'}-Effects Model (k = {k}; tau^2 estimator: {method})"


@dataclass(frozen=True)
class MetaResult:
    """A fitted equal- or random-effects model (metafor's ``rma.uni`` without moderators).

    Names follow metafor: ``estimate`` is ``b``, ``ci_lower``/``ci_upper`` are ``ci.lb``/``ci.ub``,
    ``i2``/``h2`` are metafor's τ²-based values (in %, and a ratio), ``i2_q``/``h2_q`` the Q-based
    ones, ``tau2_ci_*``/``i2_ci_*``/``h2_ci_*`` the Q-profile interval (``confint(res)``),
    ``pi_*`` the prediction interval under ``pi_method``, ``ddf`` the t degrees of freedom under
    Knapp–Hartung (NaN under ``test="z"``) and ``weights`` the weights in percent. Undefined
    quantities are ``nan``.

    Example::

        >>> from metareview.stats import meta
        >>> res = meta([0.1, 0.3, 0.2], [0.01, 0.02, 0.015], method="DL")
        >>> res.k, res.method, round(res.tau2, 4)
        (3, 'DL', 0.0)
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
    ddf: float = math.nan
    user_weights: FloatArray | None = None
    omitted: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """All scalar fields as plain Python values (the arrays ``yi``, ``vi``, ``weights``,
        ``user_weights`` left out; ``omitted`` as a list)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "user_weights"}
        out = {name: val for name, val in values.items() if not isinstance(val, np.ndarray)}
        out["omitted"] = list(self.omitted)
        return out

    def to_frame(self) -> Any:
        """A one-row :class:`pandas.DataFrame` of :meth:`to_dict`."""
        import pandas as pd

        return pd.DataFrame([self.to_dict()])

    def __str__(self) -> str:
        lines = ["", _model_title(self.method, self.k, False), ""]
        if self.method != "EE":
            lines += _tau2_block(self.tau2, self.se_tau2, self.tau, self.i2, self.h2)
        else:
            lines += [
                f"I^2 (total heterogeneity / total variability):   {self.i2:.2f}%",
                f"H^2 (total variability / sampling variability):  {self.h2:.2f}",
            ]
        lines += [
            "",
            "Test for Heterogeneity:",
            f"Q(df = {self.q_df}) = {self.q:.4f}, {p_clause(self.q_pvalue)}",
            "",
            "Model Results:",
            "",
        ]
        table = coefficient_table(
            None,
            [self.estimate],
            [self.se],
            [self.statistic],
            [self.pvalue],
            [self.ci_lower],
            [self.ci_upper],
            self.ddf,
        )
        lines += [table]
        lvl = f"{self.level:g}%"
        if not math.isnan(self.tau2_ci_lower):
            # a bound at the end of the search range [0, max(100, 10 tau^2)] is only a bound: ">" as metafor
            gt = ">" if self.tau2_ci_upper >= max(100.0, 10 * self.tau2) else ""
            lines.append(
                f"{lvl} CI (Q-profile): tau^2 [{self.tau2_ci_lower:.4f}, {gt}{self.tau2_ci_upper:.4f}], "
                f"I^2 [{self.i2_ci_lower:.2f}%, {gt}{self.i2_ci_upper:.2f}%], "
                f"H^2 [{self.h2_ci_lower:.2f}, {gt}{self.h2_ci_upper:.2f}]"
            )
        if not math.isnan(self.pi_lower):
            lines.append(
                f"{lvl} prediction interval ({_PI_LABELS[self.pi_method]}): "
                f"[{self.pi_lower:.4f}, {self.pi_upper:.4f}]"
            )
        lines += ["---", "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1", ""]
        return "\n".join(lines)


@dataclass(frozen=True)
class MetaRegResult:
    """A mixed-effects meta-regression (metafor's ``rma.uni`` with ``mods``).

    ``names``/``estimates``/``se``/... are per coefficient; ``qm`` tests all coefficients but the
    intercept (a chi-square with ``qm_df`` df, or under Knapp–Hartung an F with ``qm_df`` and
    ``qm_df2`` df); ``qe`` is the test for residual heterogeneity; ``r2`` is metafor's pseudo-R²
    in percent, max(0, 100·(τ²₀ − τ²)/τ²₀) with τ²₀ from the model without moderators, and for an
    equal-effects (``EE``) model metafor's max(0, 100 × the adjusted R² of the weighted least-squares
    regression of yi on the moderators) (NaN without an intercept). I²/H² are the residual ones.

    Example::

        >>> from metareview.stats import meta_reg
        >>> res = meta_reg([0.1, 0.3, 0.5, 0.6], [0.01, 0.02, 0.01, 0.02], mods={"x": [1, 2, 3, 4]})
        >>> res.names
        ['intrcpt', 'x']
    """

    k: int
    method: str
    test: str
    level: float
    names: list[str]
    estimates: FloatArray
    se: FloatArray
    statistic: FloatArray
    pvalue: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    vcov: FloatArray
    ddf: float
    tau2: float
    se_tau2: float
    tau: float
    i2: float
    h2: float
    r2: float
    qe: float
    qe_df: int
    qe_pvalue: float
    qm: float
    qm_df: int
    qm_df2: float
    qm_pvalue: float
    tau2_ci_lower: float
    tau2_ci_upper: float
    X: FloatArray
    yi: FloatArray
    vi: FloatArray
    converged: bool
    iterations: int
    user_weights: FloatArray | None = None
    omitted: tuple[int, ...] = ()

    def coefficients(self) -> list[dict[str, Any]]:
        """One dict per coefficient: name, estimate, se, statistic, pvalue, ci_lower, ci_upper."""
        return coefficient_rows(self.names, estimate=self.estimates, se=self.se, statistic=self.statistic,
                                pvalue=self.pvalue, ci_lower=self.ci_lower, ci_upper=self.ci_upper)

    def to_dict(self) -> dict[str, Any]:
        """Scalars plus ``coefficients`` (a list of dicts); arrays left out."""
        out: dict[str, Any] = {}
        for f in fields(self):
            val = getattr(self, f.name)
            if not isinstance(val, np.ndarray | list | tuple) and f.name != "user_weights":
                out[f.name] = val
        out["omitted"] = list(self.omitted)
        out["coefficients"] = self.coefficients()
        return out

    def to_frame(self) -> Any:
        """The coefficient table as a :class:`pandas.DataFrame` (one row per coefficient)."""
        import pandas as pd

        return pd.DataFrame(self.coefficients())

    def __str__(self) -> str:
        lines = ["", _model_title(self.method, self.k, True), ""]
        if self.method != "EE":
            lines += _tau2_block(self.tau2, self.se_tau2, self.tau, self.i2, self.h2, self.r2)
            lines.append("")
        else:  # metafor prints I^2, H^2 and (with an intercept) R^2 for fixed-effects meta-regression too
            items = [
                ("I^2 (residual heterogeneity / unaccounted variability):", f"{self.i2:.2f}%"),
                ("H^2 (unaccounted variability / sampling variability):", f"{self.h2:.2f}"),
            ]
            if not math.isnan(self.r2):
                items.append(("R^2 (amount of heterogeneity accounted for):", f"{self.r2:.2f}%"))
            width = max(len(label) for label, _ in items) + 1
            lines += [label.ljust(width) + value for label, value in items] + [""]
        lines += [
            "Test for Residual Heterogeneity:",
            f"QE(df = {self.qe_df}) = {self.qe:.4f}, {p_clause(self.qe_pvalue)}",
            "",
        ]
        coefs = "coefficient" + ("s" if self.qm_df > 1 else "")
        lines.append(
            f"Test of Moderators ({coefs} {_span(len(self.names) - self.qm_df + 1, len(self.names))}):"
        )
        if math.isnan(self.qm_df2):
            lines.append(f"QM(df = {self.qm_df}) = {self.qm:.4f}, {p_clause(self.qm_pvalue)}")
        else:
            lines.append(
                f"F(df1 = {self.qm_df}, df2 = {int(self.qm_df2)}) = {self.qm:.4f}, {p_clause(self.qm_pvalue)}"
            )
        lines += ["", "Model Results:", ""]
        lines.append(
            coefficient_table(
                self.names,
                self.estimates.tolist(),
                self.se.tolist(),
                self.statistic.tolist(),
                self.pvalue.tolist(),
                self.ci_lower.tolist(),
                self.ci_upper.tolist(),
                self.ddf,
            )
        )
        lines += ["---", "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1", ""]
        return "\n".join(lines)


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}:{last}"
