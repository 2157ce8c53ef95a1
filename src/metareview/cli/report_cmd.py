"""CLI of the report area: ``metareview report``.

Thin: parses arguments, calls :mod:`metareview.report.review_report` and prints where the report is::

    metareview report --review my-review --effects effects.csv --out my-review/report
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
    ) -> None:
        """Write the review's report: one self-contained HTML file plus CSV/XLSX tables.

        The PRISMA diagram is included when the review's store holds screening data; the included
        meta-analyses, vote count, evidence map and overlap when it holds extraction forms.
        """
        from metareview.protocol import Protocol
        from metareview.report.html import write_report
        from metareview.report.review_report import (
            build_report,
            extraction_sections,
            prisma_section,
            read_effects,
        )
        from metareview.review import SQLITE_FILE, Review
        from metareview.store.extraction_repo import load_bundle

        protocol = Protocol.load(review / "protocol.toml")
        extra = []
        if db is not None or (review / SQLITE_FILE).is_file():
            rv = Review.open(review, db)
            try:
                prisma = prisma_section(rv)
                with rv.session() as session:
                    bundle = load_bundle(session)
            finally:
                rv.close()
            extra = ([prisma] if prisma is not None else []) + extraction_sections(bundle)
        frame = read_effects(effects) if effects is not None else None
        report = build_report(protocol, effects=frame, extra_sections=extra)
        files = write_report(report, out or review / "report")
        typer.echo(f"report: {files.html}")
        typer.echo(f"tables: {files.tables.workbook} (+ {len(files.tables.csv)} CSV files)")
