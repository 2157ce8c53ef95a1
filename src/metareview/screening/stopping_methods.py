"""Published stopping methods beside the hypergeometric test (:mod:`metareview.screening.stopping`).

Each function is pure: it takes the decisions so far in screening order (1 relevant, 0 irrelevant), the
corpus size and, where the method needs one, a random sample; it returns a
:class:`~metareview.screening.stopping.StoppingResult` whose ``guarantee`` says what the method promises.
How each did on the 14 Cohen et al. 2006 reviews is in ``bench/results/stopping.md``.

* :func:`target_method` — Cormack & Grossman 2016, "Engineering quality and reliability in
  technology-assisted review", SIGIR '16, 75-84, doi 10.1145/2911451.2911510. Draw records at random until
  ``k`` relevant ones (the target set) are found; stop when prioritised screening has reached every target.
  The targets are a simple random sample of the relevant records, so recall at the stop is below ``tau``
  only if all ``k`` targets lie among the first ``ceil(tau R) - 1`` relevant records found, which has
  probability ``C(f, k) / C(R, k) <= tau**k``. :func:`target_size` is the smallest ``k`` with
  ``tau**k <= 1 - confidence`` (the order-statistic reading of the method by Lewis, Yang & Frieder 2021,
  "Certifying one-phase technology-assisted reviews", CIKM '21, doi 10.1145/3459637.3482415). The sample's
  records count as screened.
* :func:`knee_method` and :func:`budget_method` — Cormack & Grossman 2016 (same paper). The gain curve
  (relevant found against records screened) bends at a knee; at ``s`` screened the knee ``i`` is the point
  of the curve farthest above the chord from the origin to ``(s, rel(s))`` (the difference curve of
  Satopää et al. 2011, "Finding a 'kneedle' in a haystack", ICDCSW, without smoothing). The slope ratio is
  ``rho = (rel(i) / i) / ((rel(s) - rel(i) + 1) / (s - i))``. The knee method stops when
  ``rho >= 156 - min(rel(s), 150)`` and ``s >= 150``; the budget method when ``rho >= 6`` and
  ``s >= 10 N / rel(s)``, or when ``s >= 0.75 N``. Heuristics: no statistical guarantee (C&G report
  recall >= 70% in nearly all of their test runs).
* :func:`poisson_process` — Sneyd & Stevenson 2021, "Stopping criteria for technology assisted reviews
  based on counting processes", SIGIR '21, 2293-2297, doi 10.1145/3404835.3463013 (first as Sneyd &
  Stevenson 2019, "Modelling stopping criteria for search results using Poisson processes", EMNLP-IJCNLP,
  3484-3489). Relevant records along the ranking are an inhomogeneous Poisson process with rate
  ``lambda(x) = a x**k`` (their power-law model), fitted by least squares to the rate of relevant records
  in ``n_windows`` equal windows of the records screened so far. The relevant records in the whole ranking
  are then Poisson with mean ``Lambda = a (N**(k+1) - 1) / (k + 1)``; the rule stops when the relevant
  found reach ``tau`` times the ``confidence`` quantile of that Poisson distribution (and the fitted curve
  does not predict more than was found divided by ``tau``). The exponent is kept within [-10, 2] so that the
  fit exists when every relevant record fell in the first window (unbounded, it diverges there). Its
  guarantee holds only as far as the model fits: it is an estimate, not a test.
* :func:`quant_rule` — Yang, Lewis & Frieder 2021, "Heuristic stopping rules for technology-assisted
  review", DocEng '21, doi 10.1145/3469096.3469873 (arXiv 2106.09871): a classifier's probabilities of
  relevance ``p_i`` for every record estimate recall as ``A / (A + B)`` with ``A`` the sum of ``p_i`` over
  the screened records and ``B`` over the rest (Quant); QuantCI subtracts ``n_sd`` standard deviations,
  the variance taken by the delta method from independent Bernoulli records,
  ``Var = (B**2 Var(A) + A**2 Var(B)) / (A + B)**4`` with ``Var(A) = sum p (1 - p)``. It stops when the
  (lower) estimate reaches the target recall. A model-based estimate: it holds as far as the probabilities
  are calibrated.
* :func:`safe_procedure` — Boetje & van de Schoot 2024, "The SAFE procedure: a practical stopping heuristic
  for active learning-based screening in systematic reviews and meta-analyses", Systematic Reviews 13:81,
  doi 10.1186/s13643-024-02502-7. Screen a random set first (it estimates the number of relevant records),
  then screen in prioritised order and stop when all hold: at least twice the estimated number of relevant
  records screened, at least ``min_share`` (10%) of the records screened, and the last ``consecutive`` (50)
  records irrelevant. The paper then switches to a different model and screens until another ``consecutive``
  irrelevant records; ``extra_run`` stands in for that phase on the same ranking. A heuristic: no
  statistical guarantee.

Example::

    from metareview.screening.stopping_methods import knee_method
    knee_method([1] * 30 + [0] * 970, n_total=2000).stop      # True: the curve is flat after a sharp rise
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.optimize import curve_fit
from scipy.stats import poisson

from metareview.errors import InputError
from metareview.screening.stopping import StoppingResult, _check

_CG = "Cormack & Grossman 2016"


def _levels(target_recall: float, confidence: float) -> None:
    if not 0 < target_recall < 1 or not 0 < confidence < 1:
        raise InputError("target_recall and confidence must lie strictly between 0 and 1")


def _result(rule: str, stop: bool, y: np.ndarray, n_total: int, basis: str, **kw: object) -> StoppingResult:
    base: dict[str, object] = {
        "p_value": None, "target_recall": None, "confidence": None, "recall_lower_bound": None,
    }
    base.update(kw)
    return StoppingResult(
        rule=rule, stop=bool(stop), screened=int(y.size), n_total=int(n_total),
        relevant_found=int(y.sum()), basis=basis, **base,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------------------------------ target method


def target_size(target_recall: float = 0.95, confidence: float = 0.95) -> int:
    """Relevant records the target method's random sample must find: the smallest ``k`` with
    ``target_recall**k <= 1 - confidence`` (59 for 95% recall at 95% confidence, 9 for 70%)."""
    _levels(target_recall, confidence)
    return math.ceil(math.log(1 - confidence) / math.log(target_recall) - 1e-12)


def target_method(
    screened: Sequence[int] | np.ndarray,
    labels: Sequence[int] | np.ndarray,
    n_total: int,
    sample: Sequence[int] | np.ndarray,
    sample_labels: Sequence[int] | np.ndarray,
    target_recall: float = 0.95,
    confidence: float = 0.95,
) -> StoppingResult:
    """Cormack & Grossman's target method (see the module docstring).

    ``screened``/``labels``: record ids in prioritised screening order and their decisions; ``sample`` /
    ``sample_labels``: the random sample in the order drawn. The targets are the first
    :func:`target_size` relevant records of the sample; the rule stops once prioritised screening has
    reached all of them. ``screened`` counts the records of either list once (the cost of the claim).
    """
    k = target_size(target_recall, confidence)
    ids, y = np.asarray(screened), _check(labels, n_total)
    s_ids, s_y = np.asarray(sample), _check(sample_labels, n_total)
    if ids.size != y.size or s_ids.size != s_y.size:
        raise InputError("each record id needs one decision")
    hits = s_ids[s_y == 1]
    done_sampling = hits.size >= k or s_ids.size >= n_total
    targets = set(hits[:k].tolist())
    reached = len(targets & set(ids.tolist()))
    union = np.union1d(ids, s_ids)
    found = len(set(ids[y == 1].tolist()) | set(hits.tolist()))
    stop = (done_sampling and reached == len(targets)) or union.size >= n_total
    if not done_sampling:
        basis = f"random sample: {hits.size} of the {k} target records found in {s_ids.size} drawn"
    else:
        basis = f"{reached} of the {len(targets)} target records reached by prioritised screening"
    res = _result(
        f"target method ({_CG})", stop, y, n_total, basis, target_recall=target_recall, confidence=confidence,
        guarantee=(f"P(recall < {target_recall:.0%} at the stop) <= {target_recall:.2f}^{k} = "
                   f"{target_recall**k:.3f}: the {k} targets are a random sample of the relevant records"),
        sample_size=int(s_ids.size),
    )
    return _replace_counts(res, int(union.size), found)


def _replace_counts(res: StoppingResult, screened: int, found: int) -> StoppingResult:
    import dataclasses

    return dataclasses.replace(res, screened=screened, relevant_found=found)


# ------------------------------------------------------------------------------------- knee and budget


def slope_ratio(labels: Sequence[int] | np.ndarray) -> tuple[float, int]:
    """Cormack & Grossman's slope ratio ``rho`` at the knee of the gain curve, and the knee (records
    screened there); ``(0.0, 0)`` when there is no knee yet."""
    y = np.asarray(labels, dtype=int)
    s = y.size
    rel = np.cumsum(y)
    if s < 2 or rel[-1] == 0:
        return 0.0, 0
    i = np.arange(1, s)
    diff = rel[:-1] / rel[-1] - i / s
    knee = int(np.argmax(diff)) + 1
    r_i, r_s = float(rel[knee - 1]), float(rel[-1])
    if r_i == 0:
        return 0.0, 0
    return (r_i / knee) / ((r_s - r_i + 1) / (s - knee)), knee


def knee_method(labels: Sequence[int] | np.ndarray, n_total: int, min_screened: int = 150) -> StoppingResult:
    """Cormack & Grossman's knee method: stop when ``rho >= 156 - min(relevant found, 150)`` and at least
    ``min_screened`` records are screened (heuristic; see the module docstring)."""
    y = _check(labels, n_total)
    rho, knee = slope_ratio(y)
    need = 156 - min(int(y.sum()), 150)
    stop = (y.size >= min_screened and knee > 0 and rho >= need) or y.size == n_total
    basis = (f"slope ratio {rho:.1f} at the knee ({knee} screened) against {need} needed"
             f"{'' if y.size >= min_screened else f'; fewer than {min_screened} screened'}")
    return _result(f"knee method ({_CG})", stop, y, n_total, basis,
                   guarantee="none (heuristic; the published rule aims at recall of about 70% or more)")


def budget_method(labels: Sequence[int] | np.ndarray, n_total: int) -> StoppingResult:
    """Cormack & Grossman's budget method: stop when ``rho >= 6`` and ``10 N / relevant found`` records
    are screened, or when 75% of the records are screened (heuristic)."""
    y = _check(labels, n_total)
    rho, knee = slope_ratio(y)
    r = int(y.sum())
    budget = 10 * n_total / r if r else math.inf
    stop = (rho >= 6 and y.size >= budget) or y.size >= 0.75 * n_total
    basis = f"slope ratio {rho:.1f} (6 needed), {y.size} screened against a budget of {budget:.0f} or 75%"
    return _result(f"budget method ({_CG})", stop, y, n_total, basis, guarantee="none (heuristic)")


# ---------------------------------------------------------------------------------------- Poisson process


def _power(x: np.ndarray, a: float, k: float) -> np.ndarray:
    return np.asarray(a * np.power(x, k), dtype=float)


def _integral(a: float, k: float, upper: float) -> float:
    """``int_1^upper a x**k dx``."""
    if abs(k + 1) < 1e-9:
        return a * math.log(upper)
    return float(a * (upper ** (k + 1) - 1) / (k + 1))


def poisson_process(
    labels: Sequence[int] | np.ndarray,
    n_total: int,
    target_recall: float = 0.95,
    confidence: float = 0.95,
    n_windows: int = 10,
    min_relevant: int = 10,
    condition_on_found: bool = False,
) -> StoppingResult:
    """Sneyd & Stevenson's counting-process rule with the power-law rate (see the module docstring).

    Does not stop before ``min_relevant`` relevant records are found (the fit needs them) or before each
    window holds at least one record. ``condition_on_found`` (a variant, not the published rule): the
    bound is the relevant records found plus the ``confidence`` quantile of those the fitted rate expects
    among the records not yet screened, instead of the quantile over the whole ranking.
    """
    _levels(target_recall, confidence)
    y = _check(labels, n_total)
    found = int(y.sum())
    rule = "Poisson process (Sneyd & Stevenson 2021)"
    guarantee = (f"estimate: the relevant found reach {target_recall:.0%} of the {confidence:.0%} upper "
                 "quantile of the relevant records that the fitted rate predicts (holds if the model fits)")
    kw = {"target_recall": target_recall, "confidence": confidence, "guarantee": guarantee}
    width = y.size // n_windows
    if found < min_relevant or width < 1:
        return _result(rule, y.size == n_total, y, n_total,
                       f"{found} relevant found, {y.size} screened: too few to fit the rate", **kw)
    rates = y[: width * n_windows].reshape(n_windows, width).sum(axis=1) / width
    x = np.arange(n_windows) * width + 1.0
    fitted = _fit(x, rates)
    if fitted is None:
        return _result(rule, y.size == n_total, y, n_total, "the rate curve could not be fitted", **kw)
    a, k = fitted
    so_far = _integral(a, k, float(y.size))
    if condition_on_found:  # the records screened are known: only the rest is Poisson
        rest = max(_integral(a, k, float(n_total)) - so_far, 0.0)
        upper = found + float(poisson.ppf(confidence, rest)) if rest > 0 else float(found)
        what = f"{rest:.1f} more relevant expected in the {n_total - y.size} unscreened records"
    else:
        mu = _integral(a, k, float(n_total))
        upper = float(poisson.ppf(confidence, mu)) if mu > 0 else 0.0
        what = f"{mu:.1f} relevant expected in all {n_total} records"
    stop = (found >= target_recall * upper and found >= target_recall * so_far) or y.size == n_total
    basis = (f"fitted rate {a:.3g} x^{k:.2f}: {what}, at most {upper:.0f} relevant in all with "
             f"{confidence:.0%} probability; {found} found")
    return _result(rule, stop, y, n_total, basis, estimated_relevant=upper, **kw)


def _fit(x: np.ndarray, rates: np.ndarray) -> tuple[float, float] | None:
    """Least-squares ``a x**k`` through the window rates; the exponent is kept within [-10, 2]."""
    try:
        (a, k), _ = curve_fit(_power, x, rates, p0=(0.1, -0.5), maxfev=400)
        if np.isfinite(a) and np.isfinite(k) and a >= 0 and -10 <= k <= 2:
            return float(a), float(k)
    except (RuntimeError, ValueError, OverflowError):
        pass
    try:
        (a, k), _ = curve_fit(_power, x, rates, p0=(0.1, -0.5), bounds=((0.0, -10.0), (np.inf, 2.0)))
    except (RuntimeError, ValueError):
        return None
    return float(a), float(k)


# ------------------------------------------------------------------------------------- Quant / QuantCI


def quant_rule(
    labels: Sequence[int] | np.ndarray,
    p_screened: Sequence[float] | np.ndarray,
    p_unscreened: Sequence[float] | np.ndarray,
    target_recall: float = 0.95,
    n_sd: float = 2.0,
) -> StoppingResult:
    """Yang, Lewis & Frieder's Quant (``n_sd`` = 0) and QuantCI (``n_sd`` = 2) rules on a classifier's
    probabilities of relevance for the screened and the unscreened records (module docstring)."""
    _levels(target_recall, 0.5)
    a_p, b_p = np.asarray(p_screened, dtype=float), np.asarray(p_unscreened, dtype=float)
    n_total = a_p.size + b_p.size
    y = _check(labels, n_total)
    if y.size != a_p.size or np.any((a_p < 0) | (a_p > 1)) or np.any((b_p < 0) | (b_p > 1)):
        raise InputError("one probability in [0, 1] per screened record, and per unscreened record")
    a, b = float(a_p.sum()), float(b_p.sum())
    if a + b <= 0:
        return _result("QuantCI (Yang, Lewis & Frieder 2021)", b_p.size == 0, y, n_total,
                       "the classifier gives no record any probability of relevance",
                       target_recall=target_recall)
    var = (b**2 * float((a_p * (1 - a_p)).sum()) + a**2 * float((b_p * (1 - b_p)).sum())) / (a + b) ** 4
    est = a / (a + b)
    low = est - n_sd * math.sqrt(var)
    name = "Quant" if n_sd == 0 else f"QuantCI ({n_sd:g} sd)"
    basis = (f"estimated recall {est:.3f} (lower {low:.3f}): expected relevant {a:.1f} among the screened, "
             f"{b:.1f} among the {b_p.size} unscreened")
    return _result(f"{name} (Yang, Lewis & Frieder 2021)", low >= target_recall or b_p.size == 0, y, n_total,
                   basis, target_recall=target_recall, estimated_relevant=a + b,
                   guarantee="estimate: holds as far as the classifier's probabilities are calibrated")


# ----------------------------------------------------------------------------------------------- SAFE


def safe_procedure(
    labels: Sequence[int] | np.ndarray,
    n_total: int,
    random_screened: int = 0,
    random_relevant: int = 0,
    min_share: float = 0.10,
    consecutive: int = 50,
    extra_run: int = 0,
) -> StoppingResult:
    """The SAFE procedure's stopping heuristics (Boetje & van de Schoot 2024; module docstring).

    ``labels`` are all decisions in order, the random set first; ``random_screened`` / ``random_relevant``
    describe that random set (0 / 0: no random set, and the "twice the estimate" condition is skipped).
    ``extra_run`` > 0 asks, after the three conditions first hold, for that many further irrelevant records
    in a row (the paper's phase 3, here on the same ranking).
    """
    y = _check(labels, n_total)
    if random_screened > y.size or random_relevant > random_screened:
        raise InputError("the random set must be part of the decisions, its relevant records part of it")
    estimate = random_relevant / random_screened * n_total if random_screened else 0.0
    hits = np.flatnonzero(y)
    met_at = _safe_met(y, n_total, estimate, min_share, consecutive)
    stop = met_at is not None
    run_now = y.size - 1 - (int(hits[-1]) if hits.size else -1)
    if stop and extra_run:
        assert met_at is not None
        later = hits[hits >= met_at]
        last = int(later[-1]) if later.size else met_at - 1
        stop = y.size - 1 - last >= extra_run if later.size else y.size - met_at >= extra_run
    stop = stop or y.size == n_total
    then = f", then {extra_run} more" if extra_run else ""
    parts = [f"{y.size} screened (need {math.ceil(min_share * n_total)}, {min_share:.0%})",
             f"{run_now} irrelevant in a row (need {consecutive}{then})"]
    if random_screened:
        parts.append(f"estimated relevant {estimate:.1f} from a random set of {random_screened} "
                     f"(need {math.ceil(2 * estimate)} screened)")
    return _result("SAFE procedure (Boetje & van de Schoot 2024)", stop, y, n_total, "; ".join(parts),
                   guarantee="none (heuristic)", sample_size=int(random_screened),
                   estimated_relevant=estimate if random_screened else None)


def _safe_met(y: np.ndarray, n: int, estimate: float, share: float, run: int) -> int | None:
    """Records screened when the three SAFE conditions first held together (None: not yet)."""
    start = max(math.ceil(share * n), math.ceil(2 * estimate), run, 1)
    if y.size < start:
        return None
    last_hit = np.maximum.accumulate(np.where(y == 1, np.arange(y.size), -1))
    runs = np.arange(y.size) - last_hit  # irrelevant in a row after each record
    ok = np.flatnonzero(runs[start - 1:] >= run)
    return int(ok[0]) + start if ok.size else None
