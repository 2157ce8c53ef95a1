"""CLI of the umbrella-synthesis area: ``votes``, ``overlap``, ``credibility``, ``protocol`` (the ``extract``
group is in :mod:`metareview.cli.extraction_cmd`).

Thin: each command parses its arguments, calls the Python API and prints (``--json`` for machines)::

    metareview votes --review my-review --by sample --compare clinical_subclinical unrestricted
    metareview protocol check --review my-review
    metareview protocol migrate --review my-review --rename-field provider=support_provider
    metareview votes --werntz2023
    metareview overlap citation_matrix.csv
    metareview credibility df.OR.csv --pi t --grade
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from metareview.cli._progress import echo_json
from metareview.errors import InputError

_BY_HELP = "outcome_domain or a moderator declared in protocol.toml"
_PROTOCOL_HELP = "protocol.toml whose declared fields the forms have (default: the review's)"
_COMPARE_HELP = "two levels: one-sided Fisher test that 'significantly better' is more frequent in the first"
_MATRIX_HELP = "citation matrix CSV (ccaR layout: study;review1;…, cells 1/0/NA) or extraction forms"
_PI_HELP = "prediction interval: t (k-1 df, metaumbrella's), z (metafor's default) or riley (k-2 df)"

protocol_app = typer.Typer(no_args_is_help=True,
                           help="Keep extracted data in step with protocol.toml: check, migrate explicitly.")


def _protocol(protocol: Path | None, review: Path | None) -> Any:
    from metareview.protocol import Protocol

    return Protocol.load_optional(protocol, review)


def votes(
    source: Annotated[Path | None, typer.Argument(help="extraction workbook or CSV folder")] = None,
    by: Annotated[str, typer.Option(help=_BY_HELP)] = "outcome_domain",
    compare: Annotated[tuple[str, str] | None, typer.Option(help=_COMPARE_HELP)] = None,
    review: Annotated[Path | None, typer.Option(
        help="review folder: its stored effect sizes (without SOURCE) and its protocol")] = None,
    protocol: Annotated[Path | None, typer.Option(help=_PROTOCOL_HELP)] = None,
    db: Annotated[str | None, typer.Option(help="database URL (default: the review's SQLite file)")] = None,
    werntz2023: Annotated[bool, typer.Option(
        "--werntz2023", help="the published Table 4 of Werntz et al. 2023 instead of SOURCE")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Vote counting: directions (derived) by a moderator, with %, Wilson CIs and Fisher's exact test."""
    from metareview.synthesis.votes import compare_better, vote_table_from_records

    if werntz2023:
        from metareview.datasets.werntz2023 import table4_vote_tables

        tables = list(table4_vote_tables().values())
    elif source is not None or review is not None:
        from metareview.extraction.templates import import_forms, stored_forms

        proto = _protocol(protocol, review)
        if source is not None:
            bundle = import_forms(source, protocol=proto)
        else:
            assert review is not None
            bundle = stored_forms(review, db=db)
        tables = [vote_table_from_records(bundle.effect_sizes, by=by, protocol=proto)]
    else:
        raise InputError("give an extraction SOURCE, --review or --werntz2023")
    extra = [compare_better(t, *compare) for t in tables if compare and _has(t, compare)]
    if as_json:
        echo_json({"tables": [t.to_dict() for t in tables], "compare": [c.to_dict() for c in extra]})
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
    protocol: Annotated[Path | None, typer.Option(help=_PROTOCOL_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Corrected covered area (Pieper 2014), overall and pairwise, adjusted for structural missingness."""
    from metareview.synthesis.overlap import CitationMatrix, cca

    if source.suffix.lower() == ".csv":
        matrix = CitationMatrix.read_csv(source, sep=sep)
    else:
        from metareview.extraction.templates import import_forms

        bundle = import_forms(source, protocol=_protocol(protocol, None))
        matrix = CitationMatrix.from_study_lists(bundle.primary_studies, bundle.reports)
    res = cca(matrix)
    if as_json:
        echo_json(res.to_dict())
    else:
        typer.echo(str(res))


def credibility(
    source: Annotated[Path, typer.Argument(
        help="metaumbrella well-formatted table, .csv or .xlsx (a row per study effect)")],
    method: Annotated[str, typer.Option(help="tau² estimator")] = "REML",
    pi: Annotated[str, typer.Option(help=_PI_HELP)] = "t",
    i2: Annotated[str, typer.Option(help="I² for the < 50% criterion: q (Q-based) or tau2")] = "q",
    min_cases: Annotated[float, typer.Option(help="classes I-III need more cases than this")] = 1000,
    esb: Annotated[str, typer.Option(
        help="excess significance: TESSPSST (metaumbrella's default), TESS, PSST or IT")] = "TESSPSST",
    true_effect: Annotated[str, typer.Option(
        help="true effect for excess significance: UWLS, largest, pooled, fixed or a number")] = "UWLS",
    largest_by: Annotated[str, typer.Option(help="largest study: n (participants) or precision")] = "n",
    r: Annotated[float, typer.Option(help="within-study correlation of outcomes (no r column)")] = 0.5,
    sheet: Annotated[str, typer.Option(help="Excel sheet (name or 0-based index)")] = "0",
    compat: Annotated[str | None, typer.Option(
        help="metaumbrella-1.1.0: reproduce its aggregation quirks exactly")] = None,
    criteria: Annotated[str, typer.Option(
        help="classification to show: Ioannidis, GRADE or Personalised (with --class-i ...)")] = "Ioannidis",
    class_i: Annotated[str | None, typer.Option(help="Personalised class I thresholds, e.g. 'n_cases=800,"
                                                     "esb_p=0.1,pi=notnull'")] = None,
    class_ii: Annotated[str | None, typer.Option(help="Personalised class II thresholds")] = None,
    class_iii: Annotated[str | None, typer.Option(help="Personalised class III thresholds")] = None,
    class_iv: Annotated[str | None, typer.Option(help="Personalised class IV thresholds")] = None,
    grade: Annotated[bool, typer.Option(help="also the algorithmic GRADE (metaumbrella's rules)")] = False,
    by: Annotated[str | None, typer.Option(
        help="a column constant within each factor: the classes counted by its levels")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Credibility of each factor as metaumbrella's umbrella() + add.evidence(): classes I-IV/ns
    (Fusar-Poli & Radua 2018), GRADE or Personalised, criteria explicit."""
    from metareview.synthesis.credibility import CredibilityCriteria, assess_umbrella
    from metareview.synthesis.evidence import add_evidence, parse_thresholds, umbrella_summary
    from metareview.synthesis.umbrella_input import read_umbrella

    if pi not in {"t", "z", "riley"} or i2 not in {"q", "tau2"}:
        raise InputError("--pi must be t, z or riley and --i2 q or tau2")
    theta: Any = true_effect
    try:
        theta = float(true_effect)
    except ValueError:
        pass
    data = read_umbrella(source, r=r, sheet=int(sheet) if sheet.isdigit() else sheet,
                         compat=compat)  # type: ignore[arg-type]
    crit = CredibilityCriteria(method=method.upper(), pi=pi, i2=i2, min_cases=min_cases,  # type: ignore[arg-type]
                               esb_method=esb.upper(), esb_theta=theta,  # type: ignore[arg-type]
                               largest_by=largest_by)  # type: ignore[arg-type]
    table = assess_umbrella(data, crit)
    evidence = None
    if criteria.lower() != "ioannidis":
        evidence = add_evidence(table, criteria, class_I=parse_thresholds(class_i),
                                class_II=parse_thresholds(class_ii), class_III=parse_thresholds(class_iii),
                                class_IV=parse_thresholds(class_iv))
    grades = add_evidence(table, "GRADE").grades if grade else ()
    grouped = None
    if by is not None:
        from metareview.synthesis.grouping import classes_by, factor_levels
        from metareview.synthesis.umbrella_input import read_table

        levels = factor_levels(read_table(source, sheet), by, source=str(source))
        grouped = classes_by(table, levels, moderator=by)
    if as_json:
        echo_json(table.to_dict() | {"grade": [g.to_dict() for g in grades],
                                       "dropped_rows": data.dropped.to_dict(orient="records"),
                                       "summary": umbrella_summary(table).to_dict(orient="records")}
                    | ({"evidence": evidence.to_dict()} if evidence is not None else {})
                    | ({"by": grouped.to_dict(orient="records")} if grouped is not None else {}))
        return
    typer.echo(str(table))
    if evidence is not None:
        typer.echo(str(evidence))
    if grouped is not None:
        typer.echo(f"\nClasses by {by}:\n{grouped.to_string(index=False)}")
    for g in grades:
        typer.echo(str(g))
    if len(data.dropped):
        typer.echo(f"{len(data.dropped)} rows left out: " + "; ".join(
            f"row {r_.row} ({r_.reason})" for r_ in data.dropped.itertuples()))


@protocol_app.command("check")
def protocol_check(
    review: Annotated[Path, typer.Option(help="review folder (with protocol.toml)")] = Path("."),
    db: Annotated[str | None, typer.Option(help="database URL (default: the review's SQLite file)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List stored values that protocol.toml no longer declares or allows (exit code 1 if any)."""
    from metareview.extraction.migrate import check_protocol

    found = check_protocol(review, db=db)
    if as_json:
        echo_json([o.to_dict() for o in found])
    elif not found:
        typer.echo("the stored extraction fits protocol.toml")
    else:
        typer.echo(f"{len(found)} stored value(s) orphaned by protocol.toml:")
        for o in found:
            typer.echo(f"  {o}")
    if found:
        raise typer.Exit(1)


@protocol_app.command("migrate")
def protocol_migrate(
    review: Annotated[Path, typer.Option(help="review folder (with protocol.toml)")] = Path("."),
    rename_field: Annotated[list[str] | None, typer.Option(help="OLD=NEW (repeatable)")] = None,
    rename_level: Annotated[list[str] | None, typer.Option(help="FIELD:OLD=NEW (repeatable)")] = None,
    rename_domain: Annotated[list[str] | None, typer.Option(
        help="outcome domain OLD=NEW (repeatable)")] = None,
    drop_field: Annotated[list[str] | None, typer.Option(
        help="delete the stored values of this field (repeatable)")] = None,
    db: Annotated[str | None, typer.Option(help="database URL (default: the review's SQLite file)")] = None,
) -> None:
    """Rewrite stored values to follow an edited protocol.toml (all or nothing)."""
    from metareview.extraction.migrate import migrate_protocol

    counts = migrate_protocol(review, rename_fields=rename_field or [], rename_levels=rename_level or [],
                              drop_fields=drop_field or [], rename_domains=rename_domain or [], db=db)
    typer.echo(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in counts.items()))


def register(app: typer.Typer) -> None:
    """Add ``votes``, ``overlap``, ``credibility`` and the ``protocol`` group."""
    app.command("votes")(votes)
    app.command("overlap")(overlap)
    app.command("credibility")(credibility)
    app.add_typer(protocol_app, name="protocol")
