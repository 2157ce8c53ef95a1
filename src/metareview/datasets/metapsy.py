"""Loader for the Metapsy open meta-analytic databases of randomised trials of psychotherapies.

The Metapsy project (Cuijpers, Harrer, Karyotaki et al.; https://www.metapsy.org) publishes one GitHub
repository per database (``metapsy-project/<db>``), each with a ``data.csv`` of comparisons (one row per
arm-1-vs-arm-2 comparison x instrument x time point). The data are under the Open Data Commons Attribution
License (ODC-By 1.0): cite the database DOI (:data:`DATABASES`) and the Metapsy project wherever used.

:func:`read_database` parses one file the way its quirks require (``;`` separator, decimal commas *and*
points, ``NA``, embedded newlines in ``full_ref``). :func:`harmonise` maps it onto one common layout with
the sign of ``g`` made uniform (positive always favours the intervention arm: the GAD and panic files
code the opposite), a trial id that is the same across databases (so trials coded in two databases can be
found), the guided/unguided and digital-delivery flags, and the control-arm flag.

Example::

    from metareview.datasets import metapsy
    df = metapsy.load("data-gad-psyctr")          # harmonised rows, g > 0 favours the intervention
    df[df.digital & (df.guidance == "guided")].g.mean()
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from metareview.datasets._fetch import resolve
from metareview.errors import InputError

__all__ = [
    "DATABASES",
    "HARMONISED_COLUMNS",
    "Database",
    "harmonise",
    "load",
    "load_all",
    "read_database",
    "trial_id",
]


@dataclass(frozen=True)
class Database:
    """One Metapsy database: repository name, pinned commit, Zenodo DOI and how to read it."""

    name: str
    commit: str
    doi: str
    outcome: str
    negative_g_favours_arm1: bool = False

    @property
    def url(self) -> str:
        """Raw GitHub URL of ``data.csv`` at the pinned commit."""
        return f"https://raw.githubusercontent.com/metapsy-project/{self.name}/{self.commit}/data.csv"

    @property
    def citation(self) -> str:
        """Attribution line required by ODC-By 1.0."""
        return (
            f"Metapsy database {self.name} (metapsy-project/{self.name}@{self.commit[:7]}), "
            f"doi:{self.doi}, ODC-By 1.0"
        )


# Commits and DOIs as recorded in ../shared/data/metapsy/README.md (snapshots of the metapsy-project repos).
DATABASES: dict[str, Database] = {
    d.name: d
    for d in (
        Database("data-depression-psyctr", "ceeabb718db4a8ed6d5c5e265262d6ed7a392b72",
                 "10.5281/zenodo.7254845", "depression"),
        Database("data-depression-selfguided-psyctr", "f0a64252e35de86c5dbe041a3e93555f12feca4e",
                 "10.5281/zenodo.12705748", "depression"),
        Database("data-gad-psyctr", "71ad21890b7ec81c05122238be9ae54a326a08b0",
                 "10.5281/zenodo.10185216", "GAD", negative_g_favours_arm1=True),
        Database("data-sad-psyctr", "cc33ac16fa9c8958b64f427c4bb024dacfef1e42",
                 "10.5281/zenodo.12726122", "social anxiety"),
        Database("data-panic-psyctr", "2318d1461256c438c0eaba04970af0b06dfa0649",
                 "10.5281/zenodo.7863722", "panic", negative_g_favours_arm1=True),
        Database("data-ptsd-psyctr", "18e03cb817d8be8f65f7aceb51212d59fc8e275b",
                 "10.5281/zenodo.10027042", "PTSD"),
        Database("data-depression-anxiety-transdiagnostic", "2ded2727dd885c8988dbb3abe7c4d7deee3aa3d5",
                 "10.5281/zenodo.7243836", "transdiagnostic"),
    )
}

HARMONISED_COLUMNS = [
    "db", "row", "study", "trial", "year", "outcome", "outcome_domain", "instrument", "time",
    "arm1", "arm2", "multi_arm1", "multi_arm2", "n_arm1", "n_arm2", "g", "g_se",
    "guidance", "guidance_basis", "digital", "digital_basis", "control", "support_unguided", "full_ref",
]

# Keyword heuristic for digital delivery where the database does not code it (word boundaries matter:
# "app" must not match "approach").
_DIGITAL = re.compile(
    r"internet|online|on-line|web|computer|smartphone|smart phone|mobile|\bapps?\b|digital|e-?mail|"
    r"cd-?rom|\bi-?cbt|\bicbt|ehealth|e-health|mhealth|m-health|virtual|cyber|moodgym|"
    r"beating the blues|deprexis",
    re.IGNORECASE,
)
_UNGUIDED = re.compile(r"unguided|without support|self-guided|no therapist|pure self-help", re.IGNORECASE)
_GUIDED = re.compile(r"\bguided|assisted|supported|supplemented", re.IGNORECASE)
# Comparators that are an inactive control (each database's own codes, from variable_description.json).
_CONTROL_CODES = {"wl", "wlc", "cau", "other ctr", "pl", "waitlist", "tau", "other", "tau/nt", "app", "pe"}
_NUMERIC_HINT = re.compile(r"^-?\d+([.,]\d+)?([eE][-+]?\d+)?$")


def trial_id(study: str) -> str:
    """A trial id comparable across databases: ``"Titov, 2010"`` and ``"Titov 2010"`` -> ``"titov_2010"``.

    Example::

        >>> trial_id("Stiles-Shields, 2018a")
        'stilesshields_2018a'
    """
    text = unicodedata.normalize("NFKD", str(study)).encode("ascii", "ignore").decode().lower()
    m = re.search(r"(\d{4}[a-z]?)", text)
    year = m.group(1) if m else ""
    author = re.sub(r"[^a-z]", "", text[: m.start()] if m else text)
    return f"{author}_{year}" if year else author


def _to_number(col: pd.Series) -> pd.Series:
    """Numbers with a decimal comma or point; a column with any non-numeric value stays text."""
    values = col.dropna()
    if values.empty or not values.map(lambda v: bool(_NUMERIC_HINT.match(v))).all():
        return col
    return pd.to_numeric(col.str.replace(",", ".", regex=False))


def read_database(name: str, path: str | Path | None = None) -> pd.DataFrame:
    """Parse one Metapsy ``data.csv`` unchanged in content: numbers become floats, ``NA`` becomes missing.

    ``path`` defaults to the local copy in ``../shared/data/metapsy/<name>/data.csv`` or, without it, a cached
    download from GitHub at the pinned commit. The first (unnamed) column is kept as ``row``.
    """
    if name not in DATABASES:
        raise InputError(f"unknown Metapsy database {name!r}; known: {', '.join(DATABASES)}", field="db")
    db = DATABASES[name]
    file = Path(path) if path is not None else resolve(f"metapsy/{name}/data.csv", db.url)
    try:
        raw = pd.read_csv(file, sep=";", dtype=str, keep_default_na=False, na_values=["NA", ""],
                          encoding="utf-8")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot parse Metapsy file: {exc}", file=file) from exc
    raw = raw.rename(columns={raw.columns[0]: "row"})
    for required in ("study", ".g", ".g_se"):
        if required not in raw.columns:
            raise InputError("column missing", file=file, field=required)
    parsed: pd.DataFrame = raw.apply(_to_number)
    return parsed


def _text(df: pd.DataFrame, col: str) -> pd.Series:
    return df[col].fillna("").astype(str) if col in df.columns else pd.Series("", index=df.index)


def _number(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(df[col], errors="coerce") if col in df.columns else pd.Series(np.nan, index=df.index)


def _label(text: str, df: pd.DataFrame, where: pd.Series | None = None) -> pd.Series:
    """The basis of a derived flag, on the rows in ``where`` (all rows by default)."""
    out = pd.Series(text, index=df.index)
    return out if where is None else out.where(where, "")


def _guidance(name: str, df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Guided / unguided / None per row, with the basis of the coding."""
    none = pd.Series(None, index=df.index, dtype=object)
    if name == "data-depression-selfguided-psyctr":  # every arm in this database is unguided
        return pd.Series("unguided", index=df.index), _label("Metapsy: selfguided database", df)
    if name == "data-ptsd-psyctr":  # "Internet-based facilitated self-help" = guided
        tech = _text(df, "delivery_method").eq("Technology Assisted")
        return none.mask(tech, "guided"), _label("Metapsy: delivery_method", df, tech)
    if name == "data-panic-psyctr":  # format only says "self-help": guidance from the title
        sh = _text(df, "format").eq("self-help")
        ref = _text(df, "full_ref")
        ung = ref.str.contains(_UNGUIDED)
        both = ung & ref.str.contains(_GUIDED)  # e.g. a three-arm trial "guided vs unguided": arm unknown
        out = none.mask(sh & ung & ~both, "unguided").mask(sh & ~ung, "guided")
        return out, _label("title heuristic (derived)", df, out.notna())
    fmt = _text(df, "format").str.lower()
    out = none.mask(fmt.eq("gsh"), "guided").mask(fmt.eq("ush"), "unguided")
    return out, _label("Metapsy: format", df, out.notna())


def _digital(name: str, df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Digital delivery (internet, app, computer) per row, with the basis of the flag."""
    if name == "data-depression-selfguided-psyctr":
        fmt = _text(df, "format_unguided")
        return fmt.isin(["internet", "mobile", "computer"]), _label("Metapsy: format_unguided", df)
    if name == "data-ptsd-psyctr":
        return _text(df, "delivery_method").eq("Technology Assisted"), _label("Metapsy: delivery_method", df)
    fields = ["full_ref", "multi_arm1", "format_details", "descr_ig", "notes"]
    haystack = pd.concat([_text(df, c) for c in fields], axis=1).agg(" ".join, axis=1)
    return haystack.str.contains(_DIGITAL), _label("keyword heuristic (derived)", df)


def harmonise(name: str, raw: pd.DataFrame) -> pd.DataFrame:
    """Map a parsed database onto :data:`HARMONISED_COLUMNS`; ``g > 0`` always favours arm 1 (intervention).

    Rows without ``.g`` or ``.g_se`` are dropped (Metapsy could not compute an effect for them). For the
    transdiagnostic database the supplied ``.g``/``.g_se`` are used as is (some of its means lost their
    decimal point, so effects must not be recomputed from them).
    """
    db = DATABASES[name]
    guidance, guidance_basis = _guidance(name, raw)
    digital, digital_basis = _digital(name, raw)
    sign = -1.0 if db.negative_g_favours_arm1 else 1.0
    ref = raw["full_ref"] if "full_ref" in raw.columns else raw.get("full_reference")
    domain = _text(raw, "outcome_domain") if "outcome_domain" in raw.columns else _text(raw, "depanx")
    out = pd.DataFrame({
        "db": name,
        "row": raw["row"],
        "study": raw["study"].astype(str).str.strip(),
        "trial": raw["study"].map(trial_id),
        "year": _number(raw, "year"),
        "outcome": db.outcome,
        "outcome_domain": domain.replace("", db.outcome),
        "instrument": _text(raw, "instrument"),
        "time": _text(raw, "time"),
        "arm1": _text(raw, "condition_arm1"),
        "arm2": _text(raw, "condition_arm2"),
        "multi_arm1": _text(raw, "multi_arm1"),
        "multi_arm2": _text(raw, "multi_arm2"),
        "n_arm1": _number(raw, "n_arm1"),
        "n_arm2": _number(raw, "n_arm2"),
        "g": sign * _number(raw, ".g"),
        "g_se": _number(raw, ".g_se"),
        "guidance": guidance,
        "guidance_basis": guidance_basis,
        "digital": digital.astype(bool),
        "digital_basis": digital_basis,
        "control": _text(raw, "condition_arm2").str.lower().isin(_CONTROL_CODES),
        "support_unguided": _text(raw, "support_unguided"),
        "full_ref": ref.fillna("").astype(str) if ref is not None else "",
    })
    ok = np.isfinite(out["g"]) & np.isfinite(out["g_se"]) & (out["g_se"] > 0)
    kept: pd.DataFrame = out.loc[ok, HARMONISED_COLUMNS].reset_index(drop=True)
    return kept


def load(name: str, path: str | Path | None = None) -> pd.DataFrame:
    """Read and harmonise one database (see :func:`read_database` and :func:`harmonise`)."""
    return harmonise(name, read_database(name, path))


def load_all(names: list[str] | None = None) -> pd.DataFrame:
    """All (or the named) databases, harmonised and stacked; ``db`` tells them apart."""
    return pd.concat([load(n) for n in (names or list(DATABASES))], ignore_index=True)
