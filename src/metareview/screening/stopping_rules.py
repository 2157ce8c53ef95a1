"""The stopping rules a protocol may name, their parameters, and the one function that applies them.

``[screening.stopping]`` in ``protocol.toml`` names a rule, its target recall and confidence and the rule's
parameters; :func:`apply_rule` runs it on the decisions in screening order. The screening status (CLI
``screen status``, the web dashboard and screen page, the report) all get their verdict from here, through
:func:`metareview.screening.batches.batch_stopping_status`. The default is the rule that did best in
``bench/results/stopping.md`` (reliability first, then cost): the hypergeometric test, which reached >= 95%
recall in all 280 simulated runs and costs less than the target method (the only other rule at >= 95% of
runs; QuantCI too, on 42 runs, at a higher cost). This module imports only the standard library at import
time (the protocol reads it); the rules are imported when applied.

Rules (see :mod:`metareview.screening.stopping` and :mod:`metareview.screening.stopping_methods`):

* ``hypergeometric`` — Callaghan & Müller-Hansen 2020 test; no parameters;
* ``poisson`` — Sneyd & Stevenson 2021 counting process; ``n_windows`` (10), ``min_relevant`` (10),
  ``condition_on_found`` (0; 1: the variant that bounds only the unscreened records);
* ``knee`` — Cormack & Grossman 2016 knee method; ``min_screened`` (150);
* ``budget`` — Cormack & Grossman 2016 budget method; no parameters;
* ``safe`` — Boetje & van de Schoot 2024 SAFE heuristics without the random set; ``min_share`` (0.1),
  ``consecutive`` (50), ``extra_run`` (0);
* ``consecutive`` — n irrelevant records in a row; ``n`` (100).

The target method (Cormack & Grossman 2016) needs a random sample drawn before screening, which the
screening queue does not draw; it is available as a function and in the benchmark, not as a protocol rule.

Example::

    from metareview.screening.stopping_rules import apply_rule
    apply_rule("poisson", [1] * 20 + [0] * 400, 1000).stop
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from metareview.screening.stopping import StoppingResult

DEFAULT_RULE = "hypergeometric"
DEFAULT_TARGET_RECALL = 0.95
DEFAULT_CONFIDENCE = 0.95

#: rule name -> {parameter: default}
RULES: dict[str, dict[str, float | int]] = {
    "hypergeometric": {},
    "poisson": {"n_windows": 10, "min_relevant": 10, "condition_on_found": 0},
    "knee": {"min_screened": 150},
    "budget": {},
    "safe": {"min_share": 0.10, "consecutive": 50, "extra_run": 0},
    "consecutive": {"n": 100},
}

#: rules that take a target recall and confidence (the others are heuristics and ignore them)
TARGETED = {"hypergeometric", "poisson"}


def check_rule(rule: str, params: Mapping[str, Any]) -> None:
    """Raise ValueError naming the known rules or the rule's parameters when ``rule``/``params`` are not."""
    if rule not in RULES:
        raise ValueError(f"unknown stopping rule {rule!r} (known: {', '.join(RULES)})")
    allowed = RULES[rule]
    for key, value in params.items():
        if key not in allowed:
            takes = ", ".join(allowed) if allowed else "no parameters"
            raise ValueError(f"stopping rule {rule!r} takes {takes}; got {key!r}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"parameter {key!r} of stopping rule {rule!r} must be a number")
        if isinstance(allowed[key], int) and not float(value).is_integer():
            raise ValueError(f"parameter {key!r} of stopping rule {rule!r} must be a whole number")
        if value < 0 or (key == "min_share" and value > 1) or (key in ("n_windows", "n") and value < 1):
            raise ValueError(f"parameter {key!r} of stopping rule {rule!r} is out of range: {value}")


def apply_rule(
    rule: str,
    labels: Sequence[int] | np.ndarray,
    n_total: int,
    target_recall: float = DEFAULT_TARGET_RECALL,
    confidence: float = DEFAULT_CONFIDENCE,
    params: Mapping[str, Any] | None = None,
) -> StoppingResult:
    """The verdict of ``rule`` on ``labels`` (decisions in screening order) out of ``n_total`` records."""
    from metareview.errors import InputError
    from metareview.screening import stopping as st
    from metareview.screening import stopping_methods as sm

    given = dict(params or {})
    try:
        check_rule(rule, given)
    except ValueError as exc:
        raise InputError(str(exc), field="screening.stopping") from None
    p: dict[str, Any] = {**RULES[rule], **given}
    if rule == "hypergeometric":
        return st.hypergeometric_test(labels, n_total, target_recall, confidence)
    if rule == "poisson":
        return sm.poisson_process(labels, n_total, target_recall, confidence,
                                  int(p["n_windows"]), int(p["min_relevant"]), bool(p["condition_on_found"]))
    if rule == "knee":
        return sm.knee_method(labels, n_total, int(p["min_screened"]))
    if rule == "budget":
        return sm.budget_method(labels, n_total)
    if rule == "safe":
        return sm.safe_procedure(labels, n_total, min_share=float(p["min_share"]),
                                 consecutive=int(p["consecutive"]), extra_run=int(p["extra_run"]))
    return st.consecutive_irrelevant(labels, n_total, int(p["n"]))
