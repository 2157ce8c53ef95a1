"""CLI of living reviews: ``metareview update`` and ``metareview prisma-update``.

Thin: parses the files, databases and dates, calls :func:`metareview.screening.batches.update_review`
and prints what the update did::

    metareview update pubmed-2025.nbib psycinfo-2025.ris --database PubMed --database PsycINFO \\
        --searched 2025-03-01 --review my-review
    metareview prisma-update --out prisma-update.svg --csv prisma-update.csv --review my-review
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from metareview.cli._progress import AsJson, Quiet, echo_json, shown
from metareview.errors import InputError

console = Console(soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``update`` and ``prisma-update`` to the root command group."""

    @app.command("update")
    def update(
        files: list[Path] = typer.Argument(..., help="The new search export of each database."),
        database: list[str] = typer.Option(..., "--database", help="Database of each file, in order."),
        searched: list[str] = typer.Option(
            ..., "--searched", help="New search date (YYYY-MM-DD): one for all files, or one per file."
        ),
        query: list[str] = typer.Option([], "--query", help="Search string of each file, in order."),
        fmt: str = typer.Option("auto", "--format", help="Format of the files (default: detected)."),
        actor: str = typer.Option("", "--actor", help="Who runs the update (recorded with the batch)."),
        note: str | None = typer.Option(None, "--note", help="A note kept with the batch."),
        quiet: bool = Quiet,
        as_json: bool = AsJson,
        review_dir: Path = typer.Option(Path("."), "--review", help="Review folder (holds protocol.toml)."),
        db: str | None = typer.Option(None, "--db", help="Store URL (default: review.sqlite in the folder)."),
    ) -> None:
        """Import updated searches as a new batch: deduplicated against everything the review holds, only
        the new unique records are queued; `screen status` then speaks for the new batch."""
        from metareview.review import Review
        from metareview.screening.batches import UpdateSource, update_review

        if len(database) != len(files):
            raise InputError(f"{len(files)} files but {len(database)} --database values", field="database")
        if len(searched) not in (1, len(files)):
            raise InputError("give --searched once (all files) or once per file", field="searched")
        if query and len(query) != len(files):
            raise InputError(f"{len(files)} files but {len(query)} --query values", field="query")
        dates = searched * len(files) if len(searched) == 1 else searched
        sources = [
            UpdateSource(f, d, searched=s, query=query[i] if query else None, fmt=fmt)
            for i, (f, d, s) in enumerate(zip(files, database, dates, strict=True))
        ]
        review = Review.open(review_dir, db)
        with shown(quiet or as_json):
            result = update_review(review, sources, actor=actor, note=note)
        if as_json:
            echo_json(result.to_dict())
        else:
            console.print(str(result), markup=False, highlight=False)

    @app.command("prisma-update")
    def prisma_update(
        out: Path | None = typer.Option(None, "--out", help="Diagram file (.svg, .png or .pdf)."),
        csv: Path | None = typer.Option(None, "--csv", help="PRISMA2020 field form (CSV)."),
        batch: int | None = typer.Option(None, "--batch", help="Update batch (default: the latest)."),
        review_dir: Path = typer.Option(Path("."), "--review", help="Review folder (holds protocol.toml)."),
        db: str | None = typer.Option(None, "--db", help="Store URL (default: review.sqlite in the folder)."),
    ) -> None:
        """PRISMA 2020 flow diagram for an updated review: previous studies, the update, total studies."""
        from metareview.review import Review
        from metareview.screening.prisma_update import draw_update_prisma, update_prisma_counts

        counts = update_prisma_counts(Review.open(review_dir, db), batch)
        console.print(str(counts), markup=False, highlight=False)
        if out is not None:
            console.print(f"diagram: {draw_update_prisma(counts, out)}", markup=False, highlight=False)
        if csv is not None:
            console.print(f"csv: {counts.to_csv(csv)}", markup=False, highlight=False)
