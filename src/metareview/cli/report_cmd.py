"""CLI of the report area: ``metareview report``.

Thin: parses arguments, calls :func:`metareview.report.review_report.write_review_report` and prints
where the report is::

    metareview report --review my-review                      # my-review/report/report.html, report.docx ...
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
            help="moderator declared in protocol.toml for the evidence map (default: the first categorical) "
                 "and, when report.toml pools findings, for the subgroups of their forest plots")
        ] = None,
        quiet: bool = Quiet,
        as_json: bool = AsJson,
    ) -> None:
        """Write the review's report: a self-contained HTML page, the same as a Word document (report.docx),
        every table as CSV/XLSX and every figure as SVG, PDF and 300-dpi PNG.

        Only what the review's store holds is reported: searches and the PRISMA flow when it has screening
        data; included reviews, AMSTAR 2, ROBIS and RoB 2/RoB 1 when it has extraction forms and appraisals;
        pooled findings, credibility and the Summary of findings when report.toml names the primary-study
        field of the effect sizes. The Methods describe what ran.
        """
        from metareview.report.review_report import write_review_report

        with shown(quiet or as_json):
            files = write_review_report(review, out=out, effects=effects, db=db, by=by)
        from metareview.report.versions import keep_build

        kept = keep_build(review, files.html.parent, effects=effects, db=db, diff=diff)
        if as_json:
            echo_json({"html": files.html, "docx": files.docx, "workbook": files.tables.workbook,
                       "csv": files.tables.csv, "figures": files.figures, "version": str(kept)})
            return
        typer.echo(f"report: {files.html}")
        if files.docx is not None:
            typer.echo(f"word: {files.docx}")
        typer.echo(f"tables: {files.tables.workbook} (+ {len(files.tables.csv)} CSV files)")
        typer.echo(f"figures: {len(files.figures)} files (SVG, PDF, 300-dpi PNG) in "
                   f"{files.html.parent / 'figures'}")
        typer.echo(kept)
