"""CLI of the extraction and umbrella-synthesis area: ``votes``, ``overlap``, ``credibility``, ``extract``.

Thin: each command parses its arguments, calls the Python API and prints (``--json`` for machines)::

    metareview extract template forms.xlsx
    metareview extract import forms.xlsx --review my-review
    metareview votes forms.xlsx --by sample --compare clinical_subclinical unrestricted
    metareview votes --werntz2023
    metareview overlap citation_matrix.csv
    metareview credibility df.OR.csv --pi t --grade
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from metareview.errors import InputError

_BY_HELP = "moderator: sample, support_provider, outcome_domain, rct_quality"
_COMPARE_HELP = "two levels: one-sided Fisher test that 'significantly better' is more frequent in the first"
_MATRIX_HELP = "citation matrix CSV (ccaR layout: study;review1;…, cells 1/0/NA) or extraction forms"
_PI_HELP = "prediction interval: t (k-1 df, metaumbrella's), z (metafor's default) or riley (k-2 df)"

extract_app = typer.Typer(no_args_is_help=True, help="Extraction templates: write them, import them back.")


def _print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str, allow_nan=True))


@extract_app.command("template")
def extract_template(
    path: Annotated[Path, typer.Argument(help="a .xlsx workbook, or a folder for three CSV files")],
) -> None:
    """Write empty extraction templates (reports with AMSTAR 2, effect sizes, primary studies)."""
    from metareview.extraction.templates import write_templates

    for f in write_templates(path):
        typer.echo(f"wrote {f}")


@extract_app.command("import")
def extract_import(
    path: Annotated[Path, typer.Argument(help="filled-in .xlsx workbook or CSV folder")],
    review: Annotated[Path | None, typer.Option(help="review folder to store the forms in")] = None,
    db: Annotated[str | None, typer.Option(help="database URL (default: the review's SQLite file)")] = None,
    replace: Annotated[bool, typer.Option(help="replace reports already stored")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the validated forms as JSON")] = False,
) -> None:
    """Validate filled-in templates (errors name file, row and column) and store them in one transaction."""
    from metareview.extraction.templates import import_forms, store_forms

    bundle = import_forms(path)
    if review is not None:
        counts = store_forms(bundle, review, db=db, replace=replace)
        typer.echo(f"stored {counts['reports']} reports, {counts['effect_sizes']} effect sizes, "
                   f"{counts['primary_studies']} primary studies")
    if as_json:
        _print_json(bundle.to_dict())
    elif review is None:
        typer.echo(f"valid: {bundle}")


def votes(
    source: Annotated[Path | None, typer.Argument(help="extraction workbook or CSV folder")] = None,
    by: Annotated[str, typer.Option(help=_BY_HELP)] = "sample",
    compare: Annotated[tuple[str, str] | None, typer.Option(help=_COMPARE_HELP)] = None,
    werntz2023: Annotated[bool, typer.Option(
        "--werntz2023", help="the published Table 4 of Werntz et al. 2023 instead of SOURCE")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Vote counting: directions (derived) by a moderator, with %, Wilson CIs and Fisher's exact test."""
    from metareview.synthesis.votes import compare_better, vote_table_from_records

    if werntz2023:
        from metareview.datasets.werntz2023 import table4_vote_tables

        tables = list(table4_vote_tables().values())
    elif source is not None:
        from metareview.extraction.templates import import_forms

        tables = [vote_table_from_records(import_forms(source).effect_sizes, by=by)]
    else:
        raise InputError("give an extraction SOURCE or --werntz2023")
    extra = [compare_better(t, *compare) for t in tables if compare and _has(t, compare)]
    if as_json:
        _print_json({"tables": [t.to_dict() for t in tables], "compare": [c.to_dict() for c in extra]})
        return
    typer.echo("\n\n".join(str(t) for t in tables))
    for c in extra:
        typer.echo(f"\n{compare[0]} vs {compare[1]} (significantly better vs not): {c}")  # type: ignore[index]


def _has(table: Any, levels: tuple[str, str]) -> bool:
    names = {r.level for r in table.rows}
    return all(lv in names for lv in levels)


def overlap(
    source: Annotated[Path, typer.Argument(help=_MATRIX_HELP)],
    sep: Annotated[str, typer.Option(help="CSV separator of a citation matrix")] = ";",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Corrected covered area (Pieper 2014), overall and pairwise, adjusted for structural missingness."""
    from metareview.synthesis.overlap import CitationMatrix, cca

    if source.suffix.lower() == ".csv":
        matrix = CitationMatrix.read_csv(source, sep=sep)
    else:
        from metareview.extraction.templates import import_forms

        bundle = import_forms(source)
        matrix = CitationMatrix.from_study_lists(bundle.primary_studies, bundle.reports)
    res = cca(matrix)
    if as_json:
        _print_json(res.to_dict())
    else:
        typer.echo(str(res))


def credibility(
    source: Annotated[Path, typer.Argument(help="metaumbrella well-formatted CSV (a row per study effect)")],
    method: Annotated[str, typer.Option(help="tau² estimator")] = "REML",
    pi: Annotated[str, typer.Option(help=_PI_HELP)] = "t",
    i2: Annotated[str, typer.Option(help="I² for the < 50% criterion: q (Q-based) or tau2")] = "q",
    min_cases: Annotated[float, typer.Option(help="classes I-III need more cases than this")] = 1000,
    grade: Annotated[bool, typer.Option(help="also the algorithmic GRADE rating")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Credibility classes I-IV/ns (Fusar-Poli & Radua 2018) of each factor, criteria explicit."""
    from metareview.synthesis.credibility import CredibilityCriteria, assess_umbrella
    from metareview.synthesis.grade import grade_assessment
    from metareview.synthesis.umbrella_input import read_umbrella

    if pi not in {"t", "z", "riley"} or i2 not in {"q", "tau2"}:
        raise InputError("--pi must be t, z or riley and --i2 q or tau2")
    data = read_umbrella(source)
    crit = CredibilityCriteria(method=method.upper(), pi=pi, i2=i2, min_cases=min_cases)  # type: ignore[arg-type]
    table = assess_umbrella(data, crit)
    rob = {f.name: f.rob_low_pct for f in data.factors}
    grades = [grade_assessment(a, rob[a.name]) for a in table.assessments] if grade else []
    if as_json:
        _print_json(table.to_dict() | {"grade": [g.to_dict() for g in grades],
                                       "dropped_rows": data.dropped.to_dict(orient="records")})
        return
    typer.echo(str(table))
    for g in grades:
        typer.echo(str(g))
    if len(data.dropped):
        typer.echo(f"{len(data.dropped)} rows left out: " + "; ".join(
            f"row {r.row} ({r.reason})" for r in data.dropped.itertuples()))


def register(app: typer.Typer) -> None:
    """Add ``votes``, ``overlap``, ``credibility`` and the ``extract`` group to the root app."""
    app.command("votes")(votes)
    app.command("overlap")(overlap)
    app.command("credibility")(credibility)
    app.add_typer(extract_app, name="extract")
