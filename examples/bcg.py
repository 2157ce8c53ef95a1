"""BCG vaccine trials: a random-effects meta-analysis and a meta-regression, printed like metafor.

Data: 13 trials of the BCG vaccine against tuberculosis (Colditz GA et al. 1994, "Efficacy of BCG
vaccine in the prevention of tuberculosis: meta-analysis of the published literature", JAMA
271:698-702; metafor's ``dat.bcg``). The same analyses are the running example of Viechtbauer W
(2010), "Conducting meta-analyses in R with the metafor package", J Stat Softw 36(3); the numbers
below agree with metafor 3.8.1 (tests/stats/test_analysis_bcg.py).

Run: ``.venv/bin/python examples/bcg.py``
"""

from __future__ import annotations

import math

import metareview as mr

# per trial: TB cases / non-cases among vaccinated (tpos, tneg) and controls (cpos, cneg), absolute latitude
TRIALS = [
    ("Aronson 1948", 4, 119, 11, 128, 44),
    ("Ferguson & Simes 1949", 6, 300, 29, 274, 55),
    ("Rosenthal et al 1960", 3, 228, 11, 209, 42),
    ("Hart & Sutherland 1977", 62, 13536, 248, 12619, 52),
    ("Frimodt-Moller et al 1973", 33, 5036, 47, 5761, 13),
    ("Stein & Aronson 1953", 180, 1361, 372, 1079, 44),
    ("Vandiviere et al 1973", 8, 2537, 10, 619, 19),
    ("TPT Madras 1980", 505, 87886, 499, 87892, 13),
    ("Coetzee & Berjak 1968", 29, 7470, 45, 7232, 27),
    ("Rosenthal et al 1961", 17, 1699, 65, 1600, 42),
    ("Comstock et al 1974", 186, 50448, 141, 27197, 18),
    ("Comstock & Webster 1969", 5, 2493, 3, 2338, 33),
    ("Comstock et al 1976", 27, 16886, 29, 17825, 33),
]


def main() -> None:
    _, tpos, tneg, cpos, cneg, ablat = zip(*TRIALS, strict=True)
    es = mr.escalc("RR", ai=tpos, bi=tneg, ci=cpos, di=cneg)  # log risk ratios

    res = mr.meta(es.yi, es.vi, method="REML")
    print(res)
    print(
        f"Pooled risk ratio: {math.exp(res.estimate):.2f} "
        f"[{math.exp(res.ci_lower):.2f}, {math.exp(res.ci_upper):.2f}]"
    )

    reg = mr.meta_reg(es.yi, es.vi, {"ablat": list(ablat)}, method="REML")
    print(reg)


if __name__ == "__main__":
    main()
