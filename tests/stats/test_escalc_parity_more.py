"""Parity with metafor 3.8.1's ``escalc`` for the measures added in issue 13 (``escalc_families`` and the
new table / proportion measures), on generated data.

As ``test_escalc_parity.py``: Hypothesis draws datasets (1-6 studies each; zero counts; totals instead of
complements; every ``add``/``to``/``drop00`` option where the measure reads them, and the default ``add``
left out so that metafor's per-measure default applies; every ``vtype``); all of them go to R in ONE
``Rscript`` run, and each measure is its own test: ``yi`` and ``vi`` within 1e-10 relative / 1e-12
absolute, missing values in the same places (metafor's ``NA``, our ``nan``).

``METAREVIEW_PARITY_SEED=<int>`` draws the datasets from another Hypothesis seed.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st
from rharness import draw_distinct, parity_seed, run_r

from metareview.stats.escalc import escalc

pytestmark = pytest.mark.metafor

CASES_PER_MEASURE = 20
SEED = parity_seed(20260714)
K = st.integers(1, 6)
COUNT = st.integers(0, 60) | st.just(0)
SIZE = st.integers(1, 300)  # n = 1 makes several measures undefined (NA in metafor); Hypothesis tries it
SD = st.floats(0, 30)


def _studies(columns: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, list[Any]]]:
    def columnwise(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
        return {name: [row[name] for row in rows] for name in columns}

    return K.flatmap(
        lambda n: st.lists(st.fixed_dictionaries(columns), min_size=n, max_size=n).map(columnwise)
    )


@st.composite
def zero_cell_options(draw: st.DrawFn, drop00: bool = False) -> dict[str, Any]:
    """``add``/``to`` (``add`` sometimes left out: metafor's default for the measure), maybe ``drop00``."""
    options: dict[str, Any] = {"to": draw(st.sampled_from(["only0", "all", "if0all", "none"]))}
    add = draw(st.sampled_from([None, 0.5, 1.0, 0.25, 0.0]))
    if add is not None:
        options["add"] = add
    if drop00:
        options["drop00"] = draw(st.booleans())
    return options


@st.composite
def means_case(draw: st.DrawFn, measure: str) -> dict[str, Any]:
    mean = st.floats(0.1, 100) | st.floats(-50, 50) if measure == "CVR" else st.floats(-50, 50)
    columns = {"m1i": mean, "m2i": mean, "sd1i": SD, "sd2i": SD, "n1i": SIZE, "n2i": SIZE}
    if measure == "VR":
        columns = {k: v for k, v in columns.items() if k not in ("m1i", "m2i")}
    if measure == "SMD1":
        columns.pop("sd1i")
    vtypes = {"SMDH": ["LS", "LS2"], "SMD1": ["LS", "UB", "LS2", "AV"]}.get(measure, ["LS"])
    options = {"vtype": draw(st.sampled_from(vtypes))}
    return {"measure": measure, "args": draw(_studies(columns)), "options": options}


@st.composite
def table_case(draw: st.DrawFn, measure: str) -> dict[str, Any]:
    args = draw(_studies({"ai": COUNT, "bi": COUNT, "ci": COUNT, "di": COUNT}))
    if draw(st.booleans()):
        args["n1i"] = [a + b for a, b in zip(args["ai"], args.pop("bi"), strict=True)]
        args["n2i"] = [c + d for c, d in zip(args["ci"], args.pop("di"), strict=True)]
    return {"measure": measure, "args": args, "options": draw(zero_cell_options(drop00=True))}


@st.composite
def prop_case(draw: st.DrawFn, measure: str) -> dict[str, Any]:
    args = draw(_studies({"xi": COUNT, "mi": st.integers(1, 60)}))
    if draw(st.booleans()):
        args["ni"] = [x + m for x, m in zip(args["xi"], args.pop("mi"), strict=True)]
    options = draw(zero_cell_options())
    if measure == "PLN":
        options["vtype"] = draw(st.sampled_from(["LS", "AV"]))
    return {"measure": measure, "args": args, "options": options}


@st.composite
def rates_case(draw: st.DrawFn, measure: str) -> dict[str, Any]:
    time = st.floats(0.5, 5000)
    args = draw(_studies({"x1i": COUNT, "x2i": COUNT, "t1i": time, "t2i": time}))
    return {"measure": measure, "args": args, "options": draw(zero_cell_options(drop00=True))}


@st.composite
def rate_case(draw: st.DrawFn, measure: str) -> dict[str, Any]:
    args = draw(_studies({"xi": COUNT, "ti": st.floats(0.5, 5000)}))
    return {"measure": measure, "args": args, "options": draw(zero_cell_options())}


@st.composite
def mean_case(draw: st.DrawFn, measure: str) -> dict[str, Any]:
    mean = st.floats(0, 100) if measure in ("MNLN", "CVLN") else st.floats(-50, 50)
    columns = {"mi": mean, "sdi": SD, "ni": SIZE}
    if measure == "SDLN":
        columns.pop("mi")
    return {"measure": measure, "args": draw(_studies(columns)), "options": {}}


@st.composite
def change_case(draw: st.DrawFn, measure: str) -> dict[str, Any]:
    mean = st.floats(0.1, 100) if measure in ("ROMC", "CVRC") else st.floats(-50, 50)
    columns = {
        "m1i": mean,
        "m2i": mean,
        "sd1i": SD,
        "sd2i": SD,
        "ri": st.floats(-0.99, 0.99) | st.sampled_from([-1.0, 0.0, 1.0]),
        "ni": SIZE,
    }
    if measure == "SMCR":
        columns.pop("sd2i")
    if measure == "VRC":
        columns = {k: v for k, v in columns.items() if k not in ("m1i", "m2i")}
    vtype = draw(st.sampled_from(["LS", "LS2"])) if measure in ("SMCC", "SMCR") else "LS"
    return {"measure": measure, "args": draw(_studies(columns)), "options": {"vtype": vtype}}


STRATEGIES = {
    **{m: means_case(m) for m in ("SMDH", "SMD1", "SMD1H", "D2OR", "D2ORN", "D2ORL", "CVR", "VR")},
    **{m: table_case(m) for m in ("OR2D", "OR2DN", "OR2DL")},
    **{m: prop_case(m) for m in ("PLN", "PAS", "PFT")},
    **{m: rates_case(m) for m in ("IRR", "IRD", "IRSD")},
    **{m: rate_case(m) for m in ("IR", "IRLN", "IRS", "IRFT")},
    **{m: mean_case(m) for m in ("MN", "MNLN", "CVLN", "SDLN", "SMN")},
    **{m: change_case(m) for m in ("MC", "SMCC", "SMCR", "SMCRH", "ROMC", "CVRC", "VRC")},
}

R_CODE = """
cases <- fromJSON(cases, simplifyVector = TRUE, simplifyDataFrame = FALSE, simplifyMatrix = FALSE)
out <- lapply(cases, function(cs) {
  res <- suppressWarnings(do.call(escalc, c(list(measure = cs$measure), cs$args, cs$options)))
  list(yi = as.numeric(res$yi), vi = as.numeric(res$vi))
})
"""


@pytest.fixture(scope="module")
def parity(rscript: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    cases = [
        case
        for strategy in STRATEGIES.values()
        for case in draw_distinct(strategy, CASES_PER_MEASURE, seed=SEED)
    ]
    results = run_r(rscript, R_CODE, data={"cases": json.dumps(cases)})
    return list(zip(cases, results, strict=True))


def _as_float(values: Any) -> np.ndarray:
    return np.atleast_1d(np.array(values, dtype=np.float64))


@pytest.mark.parametrize("measure", list(STRATEGIES))
def test_escalc_matches_metafor(parity: list[tuple[dict[str, Any], dict[str, Any]]], measure: str) -> None:
    cases = [(case, r) for case, r in parity if case["measure"] == measure]
    assert len(cases) == CASES_PER_MEASURE
    computed = 0
    for case, r in cases:
        ours = escalc(case["measure"], **case["args"], **case["options"])
        want_yi = _as_float(r["yi"])
        for name, got in (("yi", ours.yi), ("vi", ours.vi)):
            want = _as_float(r[name])
            # a study whose yi cannot be computed is missing as a whole here; metafor may keep its vi (a
            # vi that does not depend on yi: IRSD with drop00, SMD1 with vtype "AV" and n2i < 3)
            want[np.isnan(want_yi)] = np.nan
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{name} missing: {case}")
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=f"{name}: {case}")
        computed += int(np.sum(~np.isnan(ours.yi)))
    assert computed >= CASES_PER_MEASURE // 2  # defined values, not a parity of NaNs alone
