"""Overlap of primary studies between reviews: citation matrix and corrected covered area (CCA).

Pieper et al. 2014 (J Clin Epidemiol 67:368) define ``CCA = (N - r) / (r c - r)`` for a citation matrix
of r unique primary studies (rows) by c reviews (columns) with N inclusions (ones). A study published
after a review's last search could not have been included by it: that cell is *structurally missing*
(NaN here, ``NA`` in ccaR) and leaves the denominator, ``CCA = (N - r) / (r c - r - X)`` with X such cells
(Bougioukas et al. 2023, GROOVE; the ccaR package). Pairwise CCAs use the same formula on the two
columns, over the studies that at least one of the two includes. Pieper's bands: slight (0–5%),
moderate (6–10%), high (11–15%), very high (>15%)::

    >>> m = CitationMatrix.from_inclusions([("R1", "s1"), ("R1", "s2"), ("R2", "s2")])
    >>> res = cca(m)
    >>> round(res.cca_pct, 2), res.band
    (50.0, 'very high')
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from metareview.errors import InputError
from metareview.extraction.forms import MetaAnalysisReport, PrimaryStudyList


@dataclass(frozen=True)
class CitationMatrix:
    """Primary studies (rows) x reviews (columns): 1 included, 0 not, NaN structurally missing."""

    studies: tuple[str, ...]
    reviews: tuple[str, ...]
    cells: np.ndarray

    def __post_init__(self) -> None:
        shape = (len(self.studies), len(self.reviews))
        if self.cells.shape != shape:
            raise InputError(f"citation matrix has shape {self.cells.shape}, expected {shape}")
        ok = np.isnan(self.cells) | (self.cells == 0) | (self.cells == 1)
        if not ok.all():
            i, j = np.argwhere(~ok)[0]
            raise InputError(f"cell must be 1, 0 or missing, got {self.cells[i, j]}", line=int(i) + 1,
                             field=self.reviews[j])

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, study_column: str | None = None) -> CitationMatrix:
        """From a data frame: one column of study ids (default: the first), one 1/0/NA column per review."""
        col = study_column or str(frame.columns[0])
        reviews = [str(c) for c in frame.columns if c != col]
        try:
            cells = frame[reviews].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
        except (ValueError, TypeError) as exc:
            raise InputError(f"citation-matrix cells must be 1, 0 or NA: {exc}") from exc
        studies = tuple(str(s) for s in frame[col])
        if len(set(studies)) != len(studies):
            dup = pd.Series(studies)[pd.Series(studies).duplicated()].iloc[0]
            raise InputError(f"primary study {dup!r} appears twice", field=col)
        return cls(studies, tuple(reviews), cells)

    @classmethod
    def read_csv(cls, path: str | Path, sep: str = ";") -> CitationMatrix:
        """Read ccaR's layout: ``Primary_study;Review1;Review2;…`` with 1/0/NA cells."""
        try:
            frame = pd.read_csv(path, sep=sep, na_values=["NA", ""], keep_default_na=False)
            return cls.from_frame(frame)
        except InputError as exc:
            raise InputError(exc.message, file=path, line=exc.line, field=exc.field) from exc

    @classmethod
    def from_inclusions(
        cls,
        inclusions: Iterable[tuple[str, str]],
        *,
        study_dates: Mapping[str, date] | None = None,
        search_dates: Mapping[str, date] | None = None,
    ) -> CitationMatrix:
        """Build from (review, primary study) pairs; with both date maps, mark structural missingness.

        A cell is NaN when the study was published after the review's last search date and the review
        does not include it.
        """
        pairs = list(dict.fromkeys(inclusions))
        reviews = tuple(dict.fromkeys(r for r, _ in pairs))
        studies = tuple(dict.fromkeys(s for _, s in pairs))
        ri = {r: j for j, r in enumerate(reviews)}
        si = {s: i for i, s in enumerate(studies)}
        cells = np.zeros((len(studies), len(reviews)))
        if study_dates is not None and search_dates is not None:
            for s, i in si.items():
                for r, j in ri.items():
                    if s in study_dates and r in search_dates and study_dates[s] > search_dates[r]:
                        cells[i, j] = np.nan
        for r, s in pairs:
            cells[si[s], ri[r]] = 1.0
        return cls(studies, reviews, cells)

    @classmethod
    def from_study_lists(
        cls, lists: Iterable[PrimaryStudyList], reports: Iterable[MetaAnalysisReport] = ()
    ) -> CitationMatrix:
        """From extraction forms: each report's primary studies; with the reports' search dates and the
        studies' publication dates, cells a review could not have included are structurally missing."""
        lists = list(lists)
        pairs = [(lst.report_id, s.label) for lst in lists for s in lst.studies]
        published = {s.label: s.publication_date for lst in lists for s in lst.studies if s.publication_date}
        searched = {r.id: r.search_date for r in reports if r.search_date}
        return cls.from_inclusions(pairs, study_dates=published, search_dates=searched)

    def to_frame(self) -> pd.DataFrame:
        """The matrix as a data frame (index: studies; columns: reviews; NaN = structurally missing)."""
        index = pd.Index(self.studies, name="study")
        return pd.DataFrame(self.cells, index=index, columns=list(self.reviews))


@dataclass(frozen=True)
class CCA:
    """CCA of a set of reviews: N inclusions, r studies, c reviews, X structurally missing cells."""

    reviews: tuple[str, ...]
    n: int
    r: int
    c: int
    x: int
    cca: float  # proportion

    @property
    def cca_pct(self) -> float:
        return 100 * self.cca

    @property
    def band(self) -> str:
        return pieper_band(self.cca_pct)

    def to_dict(self) -> dict[str, Any]:
        return {"reviews": list(self.reviews), "N": self.n, "r": self.r, "c": self.c,
                "structural_missing": self.x, "cca": self.cca, "cca_pct": self.cca_pct, "band": self.band}


@dataclass(frozen=True)
class OverlapResult:
    """Overall and pairwise CCA of a citation matrix."""

    matrix: CitationMatrix
    overall: CCA
    pairwise: tuple[CCA, ...]

    @property
    def n_unique(self) -> int:
        """Number of unique primary studies (r)."""
        return self.overall.r

    @property
    def cca_pct(self) -> float:
        return self.overall.cca_pct

    @property
    def band(self) -> str:
        return self.overall.band

    def pair(self, a: str, b: str) -> CCA:
        """The pairwise CCA of reviews ``a`` and ``b`` (either order)."""
        for p in self.pairwise:
            if set(p.reviews) == {a, b}:
                return p
        raise KeyError((a, b))

    def pairwise_matrix(self) -> pd.DataFrame:
        """Symmetric review x review frame of pairwise CCA in % (NaN on the diagonal): for a heatmap."""
        revs = list(self.matrix.reviews)
        out = pd.DataFrame(np.nan, index=revs, columns=revs)
        for p in self.pairwise:
            a, b = p.reviews
            out.loc[a, b] = out.loc[b, a] = p.cca_pct
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per pair, then the overall row (ccaR's ``cca_table`` layout)."""
        recs = [{"reviews": " vs. ".join(p.reviews), "overlapping": p.n - p.r, **_row(p)}
                for p in self.pairwise]
        recs.append({"reviews": "Overall", "overlapping": None, **_row(self.overall)})
        return pd.DataFrame.from_records(recs)

    def to_dict(self) -> dict[str, Any]:
        return {"overall": self.overall.to_dict(), "pairwise": [p.to_dict() for p in self.pairwise]}

    def __str__(self) -> str:
        o = self.overall
        adj = f", adjusted for {o.x} structurally missing cells" if o.x else ""
        lines = [f"Corrected covered area (Pieper 2014){adj}",
                 f"N = {o.n} inclusions, r = {o.r} unique primary studies, c = {o.c} reviews",
                 f"Overall CCA = {o.cca_pct:.2f}% ({o.band} overlap)", "Pairwise CCA (%):"]
        width = max(len(" vs. ".join(p.reviews)) for p in self.pairwise) if self.pairwise else 0
        lines += [f"  {' vs. '.join(p.reviews):<{width}}  {p.cca_pct:6.1f}  {p.band}" for p in self.pairwise]
        return "\n".join(lines)


def pieper_band(cca_pct: float) -> str:
    """Pieper et al. 2014's overlap bands for a CCA in %: slight ≤5, moderate ≤10, high ≤15, very high >15.

    >>> pieper_band(4.0), pieper_band(41.43)
    ('slight', 'very high')
    """
    if math.isnan(cca_pct):
        return "undefined"
    if cca_pct <= 5:
        return "slight"
    if cca_pct <= 10:
        return "moderate"
    if cca_pct <= 15:
        return "high"
    return "very high"


def cca(matrix: CitationMatrix) -> OverlapResult:
    """Overall and pairwise corrected covered area, adjusted for structurally missing cells."""
    if len(matrix.reviews) < 2:
        raise InputError("overlap needs at least two reviews")
    overall = _cca(matrix.cells, matrix.reviews)
    pairs = tuple(
        _cca(matrix.cells[:, [i, j]], (matrix.reviews[i], matrix.reviews[j]))
        for i, j in itertools.combinations(range(len(matrix.reviews)), 2)
    )
    return OverlapResult(matrix, overall, pairs)


def _cca(cells: np.ndarray, reviews: tuple[str, ...]) -> CCA:
    included = np.nansum(cells, axis=1) > 0  # studies at least one of these reviews includes
    sub = cells[included]
    n = int(np.nansum(sub))
    r, c = sub.shape
    x = int(np.isnan(sub).sum())
    denom = r * c - r - x
    value = (n - r) / denom if denom > 0 else math.nan
    return CCA(tuple(reviews), n, r, c, x, value)


def _row(p: CCA) -> dict[str, Any]:
    return {"N": p.n, "r": p.r, "c": p.c, "structural_missing": p.x, "cca_pct": p.cca_pct, "band": p.band}
