"""The reference meta-review: Werntz et al. 2023, *Providing Human Support for the Use of Digital Mental
Health Interventions: Systematic Meta-review*, J Med Internet Res 25:e42864, doi:10.2196/42864 (PMC9941905).

Three small transcriptions of the article live in the shared-data folder (``../shared/data``; see its
README): Table 4 (counts of the 45 effect sizes), the first rows of Table 2, and what the abstracts of 12
included meta-analyses report about guided vs unguided effects. They are transcribed from the article's
web pages, which publish no machine-readable file, so there is no download address: outside a checkout
with the shared folder, point ``METAREVIEW_SHARED_DATA`` at a folder holding them::

    >>> from metareview.datasets import werntz2023
    >>> tables = werntz2023.table4_vote_tables()  # doctest: +SKIP
    >>> tables["Outcome domain"].total  # doctest: +SKIP
    45
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from metareview.datasets._fetch import resolve
from metareview.errors import InputError
from metareview.synthesis.votes import VoteTable, vote_table_from_counts

CITATION = ("Werntz A, Amado S, Jasman M, Ervin A, Rhodes JE. Providing Human Support for the Use of Digital "
            "Mental Health Interventions: Systematic Meta-review. J Med Internet Res 2023;25:e42864. "
            "doi:10.2196/42864")
TABLE4 = "werntz2023_table4.csv"
TABLE2_PARTIAL = "werntz2023_table2_partial.csv"
META_ANALYSES_FOUND = "dmhi_meta_analyses_found.csv"
#: Table 4's count columns, in the order of :data:`metareview.synthesis.votes.DIRECTIONS`
TABLE4_COUNT_COLUMNS = ("human_supported_sig_greater_n", "no_sig_difference_n", "unsupported_sig_greater_n")
TABLE4_PCT_COLUMNS = ("human_supported_sig_greater_pct_as_printed", "no_sig_difference_pct_as_printed",
                      "unsupported_sig_greater_pct_as_printed")
TABLE4_LABELS = ("Human-supported significantly greater", "No significant difference",
                 "Unsupported significantly greater")


def _read(name: str, url: str | None = None) -> pd.DataFrame:
    path: Path = resolve(name, url)
    try:
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read: {exc}", file=path) from exc


def load_table4() -> pd.DataFrame:
    """Table 4 as transcribed: one row per category, counts and the percentages as printed."""
    frame = _read(TABLE4)
    required = {"group", "category", "parent_category", "total_effect_sizes", *TABLE4_COUNT_COLUMNS}
    missing = required - set(frame)
    if missing:
        raise InputError(f"missing columns {sorted(missing)}", file=TABLE4)
    return frame


def table4_vote_tables(level: float = 95.0) -> dict[str, VoteTable]:
    """Table 4 as one :class:`VoteTable` per moderator (outcome domain, sample, RCT quality, support type).

    Sub-categories (the sample types under "Clinical or subclinical") keep their parent; only top-level
    rows enter each table's Fisher test.
    """
    frame = load_table4()
    out: dict[str, VoteTable] = {}
    for group, sub in frame.groupby("group", sort=False):
        counts = {str(r.category): tuple(int(getattr(r, c)) for c in TABLE4_COUNT_COLUMNS)
                  for r in sub.itertuples()}
        parents = {str(r.category): str(r.parent_category) for r in sub.itertuples()
                   if isinstance(r.parent_category, str)}
        out[str(group)] = vote_table_from_counts(counts, moderator=str(group), parents=parents,  # type: ignore[arg-type]
                                                 level=level, labels=TABLE4_LABELS)
    return out


def load_table2_partial() -> pd.DataFrame:
    """The first rows of Table 2's 31 (human support by meta-analysis; paraphrased; 11 complete, 1 cut)."""
    return _read(TABLE2_PARTIAL)


def load_meta_analyses_found() -> pd.DataFrame:
    """What 12 included meta-analyses' abstracts report about guided vs unguided effects (partial)."""
    return _read(META_ANALYSES_FOUND)
