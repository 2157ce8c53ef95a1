"""The ``escalc`` measures beyond the common ones: metafor 3.8's formulas, defaults and ``vtype``s.

Called by :func:`metareview.stats.escalc.escalc` (which validates the options and cleans up the output);
each function returns ``(yi, vi)`` before that clean-up. Formulas follow ``metafor::escalc`` 3.8-1 line by
line (Viechtbauer 2010; the ``?escalc`` help page cites the sources of each measure):

* two-group means (``m1i, m2i, sd1i, sd2i, n1i, n2i``): ``SMDH`` (Bonett's heteroscedastic SMD, with
  Hedges' J), ``SMD1`` / ``SMD1H`` (standardised by the second group's SD), ``D2ORN`` / ``D2ORL`` /
  ``D2OR`` (SMD to log odds ratio, normal / logistic), ``CVR`` (log coefficient-of-variation ratio), ``VR``
  (log variability ratio; needs ``sd1i, sd2i, n1i, n2i``);
* incidence rates of two groups (``x1i, x2i, t1i, t2i``): ``IRR``, ``IRD``, ``IRSD``;
* one incidence rate (``xi, ti``): ``IR``, ``IRLN``, ``IRS``, ``IRFT``;
* one mean (``mi, sdi, ni``): ``MN``, ``MNLN``, ``CVLN``, ``SDLN`` (``sdi, ni``), ``SMN``;
* change scores / matched pairs (``m1i, m2i, sd1i, sd2i, ri, ni``): ``MC``, ``SMCC``, ``SMCR`` (no
  ``sd2i``), ``SMCRH``, ``ROMC``, ``CVRC``, ``VRC`` (no means).

``OR2D``/``OR2DN``/``OR2DL`` (2×2 tables) and ``PLN``/``PAS``/``PFT`` (proportions) sit with their families
in :mod:`metareview.stats.escalc`.
"""

from __future__ import annotations

import math

import numpy as np

from metareview.stats.escalc import (
    FloatArray,
    _add_to_cells,
    _require,
    _weighted_mean,
    hedges_correction,
    reject,
)

_LOGISTIC = math.pi / math.sqrt(3)  # D2OR / D2ORL: the logistic distribution's SD
_NORMAL = 1.65  # D2ORN: Cox's factor


def _positive_sizes(code: str, **sizes: FloatArray) -> None:
    for name, n in sizes.items():
        reject(n <= 0, name, n, f"sample sizes must be > 0 for {code}")


def _nonnegative_sds(**sds: FloatArray) -> None:
    for name, sd in sds.items():
        reject(sd < 0, name, sd, "standard deviations must be >= 0")


def _correlations(r: FloatArray) -> None:
    reject(np.abs(r) > 1, "ri", r, "correlations must lie between -1 and 1")


def from_means_more(code: str, data: dict[str, FloatArray], vtype: str) -> tuple[FloatArray, FloatArray]:
    """SMDH, SMD1, SMD1H, D2OR, D2ORN, D2ORL, CVR, VR from two groups' means, SDs and sizes."""
    if code == "VR":
        sd1, sd2, n1, n2 = _require(code, data, ["sd1i", "sd2i", "n1i", "n2i"])
    elif code == "SMD1":
        m1, m2, sd2, n1, n2 = _require(code, data, ["m1i", "m2i", "sd2i", "n1i", "n2i"])
        sd1 = data.get("sd1i", np.zeros_like(n1))
    else:
        m1, m2, sd1, sd2, n1, n2 = _require(code, data, ["m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i"])
    _nonnegative_sds(sd1i=sd1, sd2i=sd2)
    _positive_sizes(code, n1i=n1, n2i=n2)
    n = n1 + n2
    if code == "VR":
        return (
            np.log(sd1 / sd2) + 1 / (2 * (n1 - 1)) - 1 / (2 * (n2 - 1)),
            1 / (2 * (n1 - 1)) + 1 / (2 * (n2 - 1)),
        )
    if code == "CVR":
        yi = np.log(sd1 / m1) + 1 / (2 * (n1 - 1)) - np.log(sd2 / m2) - 1 / (2 * (n2 - 1))
        vi = 1 / (2 * (n1 - 1)) + sd1**2 / (n1 * m1**2) + 1 / (2 * (n2 - 1)) + sd2**2 / (n2 * m2**2)
        return yi, vi
    if code in ("SMD1", "SMD1H"):
        mi, sdp, npi = n2 - 1, sd2, n2
    else:
        mi = n - 2
        sdp = np.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / mi)
        npi = n
    di = (m1 - m2) / sdp
    if code in ("D2OR", "D2ORL", "D2ORN"):
        f = _NORMAL if code == "D2ORN" else _LOGISTIC
        return f * di, f**2 * (1 / n1 + 1 / n2 + di**2 / (2 * n))
    cmi = hedges_correction(mi)
    if code == "SMDH":
        s2 = sd1**2 + sd2**2
        yi = cmi * (m1 - m2) / np.sqrt(s2 / 2)
        if vtype == "LS2":
            vi = (
                yi**2 * sd1**2 / (2 * n1 * s2**2)
                + yi**2 * sd2**2 / (2 * n2 * s2**2)
                + 2 * sd1**2 / (n1 * s2)
                + 2 * sd2**2 / (n2 * s2)
            )
        else:
            vi = yi**2 * (sd1**4 / (n1 - 1) + sd2**4 / (n2 - 1)) / (2 * s2**2) + (
                sd1**2 / (n1 - 1) + sd2**2 / (n2 - 1)
            ) / (s2 / 2)
            vi = cmi**2 * vi
        return yi, vi
    yi = cmi * di
    if code == "SMD1H":
        return yi, (sd1**2 / sd2**2) / n1 + 1 / n2 + yi**2 / (2 * n2)
    base = 1 / n1 + 1 / n2  # SMD1: SMD's variance types with the second group's SD and size
    if vtype == "UB":
        return yi, base + (1 - (mi - 2) / (mi * cmi**2)) * yi**2
    if vtype == "LS2":
        return yi, cmi**2 * (base + di**2 / (2 * npi))
    if vtype == "AV":
        return yi, base + _weighted_mean(yi, n) ** 2 / (2 * npi)
    return yi, base + yi**2 / (2 * npi)


def _zero_cells(cells: list[FloatArray], add: float, to: str, drop00: bool) -> list[FloatArray]:
    drop = np.ones(cells[0].size, dtype=bool) if drop00 else None
    if drop is not None:
        for c in cells:
            drop &= c == 0
    return _add_to_cells(cells, add, to, drop)


def from_rates(
    code: str, data: dict[str, FloatArray], add: float, to: str, drop00: bool
) -> tuple[FloatArray, FloatArray]:
    """IRR, IRD, IRSD from events ``x1i``, ``x2i`` and person-times ``t1i``, ``t2i`` of two groups."""
    x1, x2, t1, t2 = _require(code, data, ["x1i", "x2i", "t1i", "t2i"])
    for name, x in (("x1i", x1), ("x2i", x2)):
        reject(x < 0, name, x, "counts must be >= 0")
    for name, t in (("t1i", t1), ("t2i", t2)):
        reject(t <= 0, name, t, "person-times must be > 0")
    x1, x2 = _zero_cells([x1, x2], add, to, drop00)
    ir1, ir2 = x1 / t1, x2 / t2
    if code == "IRR":
        return np.log(ir1) - np.log(ir2), 1 / x1 + 1 / x2
    if code == "IRD":
        return ir1 - ir2, ir1 / t1 + ir2 / t2
    return np.sqrt(ir1) - np.sqrt(ir2), 1 / (4 * t1) + 1 / (4 * t2)


def from_rate(code: str, data: dict[str, FloatArray], add: float, to: str) -> tuple[FloatArray, FloatArray]:
    """IR, IRLN, IRS, IRFT from events ``xi`` and person-time ``ti``."""
    x, t = _require(code, data, ["xi", "ti"])
    reject(x < 0, "xi", x, "counts must be >= 0")
    reject(t <= 0, "ti", t, "person-times must be > 0")
    (x,) = _add_to_cells([x], add, to)
    ir = x / t
    if code == "IR":
        return ir, ir / t
    if code == "IRLN":
        return np.log(ir), 1 / x
    if code == "IRS":
        return np.sqrt(ir), 1 / (4 * t)
    return 0.5 * (np.sqrt(ir) + np.sqrt(ir + 1 / t)), 1 / (4 * t)


def from_mean(code: str, data: dict[str, FloatArray]) -> tuple[FloatArray, FloatArray]:
    """MN, MNLN, CVLN, SDLN, SMN from one group's mean ``mi``, SD ``sdi`` and size ``ni``."""
    if code == "SDLN":
        sd, n = _require(code, data, ["sdi", "ni"])
    else:
        m, sd, n = _require(code, data, ["mi", "sdi", "ni"])
        if code in ("MNLN", "CVLN"):
            reject(m < 0, "mi", m, f"means must be >= 0 for {code}")
    _nonnegative_sds(sdi=sd)
    _positive_sizes(code, ni=n)
    if code == "SDLN":
        return np.log(sd) + 1 / (2 * (n - 1)), 1 / (2 * (n - 1))
    if code == "MN":
        return m, sd**2 / n
    if code == "MNLN":
        return np.log(m), sd**2 / (n * m**2)
    if code == "CVLN":
        return np.log(sd / m) + 1 / (2 * (n - 1)), 1 / (2 * (n - 1)) + sd**2 / (n * m**2)
    yi = hedges_correction(n - 1) * m / sd  # SMN
    return yi, 1 / n + yi**2 / (2 * n)


def from_change(code: str, data: dict[str, FloatArray], vtype: str) -> tuple[FloatArray, FloatArray]:
    """MC, SMCC, SMCR, SMCRH, ROMC, CVRC, VRC from two measurements of one group (pre/post, matched pairs):
    means ``m1i``, ``m2i``, SDs ``sd1i``, ``sd2i``, their correlation ``ri`` and the size ``ni``."""
    if code == "SMCR":
        m1, m2, sd1, n, r = _require(code, data, ["m1i", "m2i", "sd1i", "ni", "ri"])
        sd2 = data.get("sd2i", np.zeros_like(n))
    elif code == "VRC":
        sd1, sd2, n, r = _require(code, data, ["sd1i", "sd2i", "ni", "ri"])
    else:
        m1, m2, sd1, sd2, n, r = _require(code, data, ["m1i", "m2i", "sd1i", "sd2i", "ni", "ri"])
    _nonnegative_sds(sd1i=sd1, sd2i=sd2)
    _correlations(r)
    _positive_sizes(code, ni=n)
    if code == "VRC":
        return np.log(sd1 / sd2), (1 - r**2) / (n - 1)
    if code == "MC":
        return m1 - m2, (sd1**2 + sd2**2 - 2 * r * sd1 * sd2) / n
    if code == "ROMC":
        vi = sd1**2 / (n * m1**2) + sd2**2 / (n * m2**2) - 2 * r * sd1 * sd2 / (m1 * m2 * n)
        return np.log(m1 / m2), vi
    if code == "CVRC":
        vi = (1 - r**2) / (n - 1) + (m1**2 * sd2**2 + m2**2 * sd1**2 - 2 * m1 * m2 * r * sd1 * sd2) / (
            m1**2 * m2**2 * n
        )
        return np.log(sd1 / m1) - np.log(sd2 / m2), vi
    cmi = hedges_correction(n - 1)
    if code == "SMCC":
        di = (m1 - m2) / np.sqrt(sd1**2 + sd2**2 - 2 * r * sd1 * sd2)
        yi = cmi * di
        if vtype == "LS2":
            return yi, cmi**2 * (1 / n + di**2 / (2 * n))
        return yi, 1 / n + yi**2 / (2 * n)
    if code == "SMCR":
        di = (m1 - m2) / sd1
        yi = cmi * di
        if vtype == "LS2":
            return yi, cmi**2 * (2 * (1 - r) / n + di**2 / (2 * n))
        return yi, 2 * (1 - r) / n + yi**2 / (2 * n)
    vardi = sd1**2 + sd2**2 - 2 * r * sd1 * sd2  # SMCRH
    yi = cmi * (m1 - m2) / sd1
    return yi, cmi**2 * (vardi / (sd1**2 * (n - 1)) + yi**2 / (2 * (n - 1)))


__all__ = ["from_change", "from_mean", "from_means_more", "from_rate", "from_rates"]
