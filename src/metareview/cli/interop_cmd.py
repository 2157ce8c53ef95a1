"""CLI of the interop area: ``export-decisions``, ``import-decisions`` and ``asreview import/export``.

Thin: parses options, calls :mod:`metareview.interop.decisions` or
:mod:`metareview.interop.asreview_project`, prints::

    metareview export-decisions decisions.ris --reviewer ana
    metareview import-decisions asreview_export.ris --reviewer asreview
    metareview asreview import screening.asreview --reviewer asreview --review my-review
    metareview asreview export handback.asreview --reviewer ana --review my-review
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

ReviewDir = typer.Option(Path("."), "--review", help="Review folder (holds protocol.toml).")
DbUrl = typer.Option(
    None, "--db", help="Store URL (default: review.sqlite in the folder, or $METAREVIEW_DB)."
)


def export_decisions_cmd(
    out: Path = typer.Argument(..., help="Output file: .ris (ASReview labels in N1), .csv or .xlsx."),
    reviewer: str | None = typer.Option(
        None, "--reviewer", help="Who asks (blind mode shows only what this reviewer may see)."
    ),
    fmt: str | None = typer.Option(None, "--format", help="ris, csv or xlsx (default: from the suffix)."),
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Export the records with their screening state per stage (decision, votes, reasons, notes)."""
    from metareview.interop.decisions import export_decisions
    from metareview.review import Review

    count = export_decisions(Review.open(review_dir, db), out, fmt, reviewer=reviewer)
    typer.echo(f"wrote {count} records with their decisions to {out}")


def import_decisions_cmd(
    file: Path = typer.Argument(..., help="CSV/XLSX with a decision column, or RIS with ASReview labels."),
    reviewer: str = typer.Option(..., "--reviewer", help="Whose votes these are (e.g. asreview, rayyan)."),
    stage: str | None = typer.Option(None, "--stage", help="title_abstract (default) or full_text."),
    decision: str | None = typer.Option(
        None, "--decision", help="Decision of every row of a file without one (a list of one stage)."
    ),
    covidence_list: str | None = typer.Option(
        None,
        "--covidence-list",
        help="Which Covidence list the export is (screen, irrelevant, select, included, excluded); "
        "default: from Covidence's file name.",
    ),
    reason: str | None = typer.Option(
        None, "--reason", help="Full-text exclusion reason of a Covidence 'excluded' list's rows."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the match report as JSON."),
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Import decisions matched by record id, DOI, PMID or normalised title + year (one transaction)."""
    from metareview.interop.decisions import import_decisions
    from metareview.review import Review

    report = import_decisions(
        Review.open(review_dir, db),
        file,
        reviewer=reviewer,
        stage=stage,
        decision=decision,
        covidence_list=covidence_list,
        reason=reason,
    )
    typer.echo(json.dumps(report.to_dict(), indent=2) if as_json else str(report))


asreview_app = typer.Typer(no_args_is_help=True, help="ASReview LAB project files (.asreview) in and out.")


@asreview_app.command("import")
def asreview_import_cmd(
    file: Path = typer.Argument(..., help="An ASReview project file (.asreview, ASReview LAB 2 or later)."),
    reviewer: str = typer.Option(..., "--reviewer", help="Whose title/abstract votes the labels become."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Import an ASReview screening: records (a search of 'ASReview'), labels in order, notes."""
    from dataclasses import asdict

    from metareview.interop.asreview_project import import_asreview
    from metareview.review import Review

    report = import_asreview(Review.open(review_dir, db), file, reviewer=reviewer)
    if as_json:
        out = {
            "records": asdict(report.records),
            "labels": report.labels.to_dict(),
            "labelled": report.labelled,
        }
        typer.echo(json.dumps(out, indent=2))
    else:
        typer.echo(str(report))


@asreview_app.command("export")
def asreview_export_cmd(
    out: Path = typer.Argument(..., help="Output project file (.asreview) for ASReview LAB."),
    reviewer: str | None = typer.Option(
        None, "--reviewer", help="Who asks (blind mode labels only what this reviewer may see)."
    ),
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Write the records and title/abstract labels (in decision order, with notes) as an ASReview project."""
    from metareview.interop.asreview_project import export_asreview
    from metareview.review import Review

    count = export_asreview(Review.open(review_dir, db), out, reviewer=reviewer)
    typer.echo(f"wrote {count} records to the ASReview project {out}")


def register(app: typer.Typer) -> None:
    """Add the interop commands to the ``metareview`` app."""
    app.command("export-decisions")(export_decisions_cmd)
    app.command("import-decisions")(import_decisions_cmd)
    app.add_typer(asreview_app, name="asreview")
