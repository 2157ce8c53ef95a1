"""CLI of the report area: ``metareview report``.

Thin: parses arguments, calls :func:`metareview.report.review_report.write_review_report` and prints
where the report is::

    metareview report --review my-review --effects effects.csv --out my-review/report
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from metareview.cli._progress import AsJson, Quiet, echo_json, shown

_EFFECTS_HELP = ("CSV of primary-study effects to re-pool (outcome, trial, guidance = guided|unguided, yi, "
                 "vi; optional study, n_arm1, n_arm2, instrument, arm2)")


def register(app: typer.Typer) -> None:
    """Add ``report`` to the root command group."""

    @app.command("report")
    def report(
        review: Annotated[Path, typer.Option(help="review folder (with protocol.toml)")] = Path("."),
        out: Annotated[Path | None, typer.Option(help="output folder (default: <review>/report)")] = None,
        effects: Annotated[Path | None, typer.Option(help=_EFFECTS_HELP)] = None,
        db: Annotated[str | None, typer.Option(help="database URL (default: <review>/review.sqlite)")] = None,
        diff: Annotated[str | None, typer.Option(help="say what changed since report version vN")] = None,
        by: Annotated[str | None, typer.Option(
            help="moderator declared in protocol.toml for the evidence map (default: the first categorical)")
        ] = None,
        quiet: bool = Quiet,
        as_json: bool = AsJson,
    ) -> None:
        """Write the review's report: one self-contained HTML file plus CSV/XLSX tables.

        The PRISMA diagram is included when the review's store holds screening data; the included
        meta-analyses, vote count by each declared moderator, evidence map and overlap when it holds
        extraction forms.
        """
        from metareview.report.review_report import write_review_report

        with shown(quiet or as_json):
            files = write_review_report(review, out=out, effects=effects, db=db, by=by)
        from metareview.report.versions import keep_build

        kept = keep_build(review, files.html.parent, effects=effects, db=db, diff=diff)
        if as_json:
            echo_json({"html": files.html, "workbook": files.tables.workbook, "csv": files.tables.csv,
                       "version": str(kept)})
            return
        typer.echo(f"report: {files.html}")
        typer.echo(f"tables: {files.tables.workbook} (+ {len(files.tables.csv)} CSV files)")
        typer.echo(kept)
