"""CLI of the records area: ``init``, ``import``, ``dedup``, ``records``, ``status``.

Thin: each command parses its options, calls the Python API and prints.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from metareview.cli._defaults import DEDUP_THRESHOLD, EXPORT_FORMATS
from metareview.cli._defaults import RECORD_FORMATS as FORMATS
from metareview.cli._progress import AsJson, Quiet, echo_json, shown

console = Console(soft_wrap=True)


def _say(text: object) -> None:
    console.print(str(text), markup=False, highlight=False)


ReviewDir = typer.Option(Path("."), "--review", help="Review folder (holds protocol.toml).")
DbUrl = typer.Option(
    None, "--db", help="Store URL (default: review.sqlite in the folder, or $METAREVIEW_DB)."
)


def init(
    directory: Path = typer.Argument(Path("."), help="Folder to create the review in."),
    db: str | None = DbUrl,
) -> None:
    """Create a review: a commented protocol.toml template and the store."""
    from metareview.review import Review
    review = Review.init(directory, db)
    _say(f"created {review}\nedit {directory / 'protocol.toml'} to describe your review")


def import_(
    file: Path = typer.Argument(..., help="Search export: RIS, MEDLINE, PubMed XML, BibTeX, CSV/TSV/XLSX."),
    database: str = typer.Option(..., "--database", help="Database searched, e.g. PubMed, PsycINFO."),
    fmt: str = typer.Option("auto", "--format", help=f"One of: {', '.join(FORMATS)}."),
    searched: str | None = typer.Option(None, "--searched", help="Date searched, YYYY-MM-DD."),
    query: str | None = typer.Option(None, "--query", help="The search string used."),
    skip_damaged: bool = typer.Option(
        False, "--skip-damaged", help="Import the rest of a file with damaged records; list each one skipped."
    ),
    quiet: bool = Quiet,
    as_json: bool = AsJson,
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Import a search export as one search (one transaction; re-importing a file adds nothing)."""
    from metareview.records.importer import import_file
    from metareview.review import Review
    review = Review.open(review_dir, db)
    with shown(quiet or as_json):
        result = import_file(
            review, file, database, fmt=fmt, searched=searched, query=query, skip_damaged=skip_damaged
        )
    if as_json:
        echo_json(result.to_dict())
    else:
        _say(result)


def dedup(
    threshold: float = typer.Option(
        DEDUP_THRESHOLD, "--threshold", help="Title similarity (0-1) for automatic matches."
    ),
    review_pairs: bool = typer.Option(False, "--review-pairs", help="Go through the uncertain pairs now."),
    confirm: list[int] = typer.Option([], "--confirm", help="Pair id to confirm as duplicates (repeatable)."),
    reject: list[int] = typer.Option([], "--reject", help="Pair id to reject (repeatable)."),
    undo: list[int] = typer.Option([], "--undo", help="Cluster id to dissolve (repeatable)."),
    reset: bool = typer.Option(False, "--reset", help="Dissolve every duplicate cluster."),
    quiet: bool = Quiet,
    as_json: bool = AsJson,
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Find duplicates across all imported records; confirm or reject uncertain pairs; undo clusters."""
    from metareview.records import dedup as dedup_api
    from metareview.review import Review
    review = Review.open(review_dir, db)
    if reset:
        _say(f"dissolved {dedup_api.reset(review)} clusters")
        return
    for cluster in undo:
        dedup_api.undo_cluster(review, cluster)
        _say(f"dissolved cluster {cluster}")
    for pair in confirm:
        dedup_api.decide(review, pair, confirm=True)
        _say(f"pair {pair} confirmed as duplicates")
    for pair in reject:
        dedup_api.decide(review, pair, confirm=False)
        _say(f"pair {pair} rejected")
    if undo or confirm or reject:
        return
    with shown(quiet or as_json):
        result = dedup_api.deduplicate(review, threshold=threshold)
    if as_json:
        echo_json(result.to_dict())
        return
    _say(result)
    if review_pairs:
        for view in dedup_api.uncertain_pairs(review):
            _say(view)
            answer = typer.prompt("duplicates? [y]es / [n]o / [s]kip / [q]uit", default="s").strip().lower()
            if answer.startswith("q"):
                break
            if answer[:1] in ("y", "n"):
                dedup_api.decide(review, view.pair_id, confirm=answer.startswith("y"))


records_app = typer.Typer(help="List, show, search and export the records.", no_args_is_help=False)


@records_app.callback(invoke_without_command=True)
def records(
    ctx: typer.Context,
    export: str | None = typer.Option(
        None, "--export", help=f"Write the records as {'|'.join(EXPORT_FORMATS)}."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Export file (default: records.<format> in the review)."
    ),
    duplicates: bool = typer.Option(False, "--duplicates", help="Include the records flagged as duplicates."),
    included: str | None = typer.Option(
        None, "--included", help="Only the records included at this stage: title_abstract|full_text."
    ),
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """List the records (first 20) or export them; subcommands `show` and `search`."""
    if ctx.invoked_subcommand is not None:
        return
    from metareview.records.export import export_records, records_frame
    from metareview.review import Review
    review = Review.open(review_dir, db)
    if export is not None:
        stem = "records" if included is None else f"included_{included}"
        path = out or review_dir / f"{stem}.{export}"
        n = export_records(review, path, export, duplicates=duplicates, included=included)
        _say(f"wrote {n} records to {path}")
        return
    frame = records_frame(review, duplicates=duplicates)
    if included is not None:
        from metareview.records.browse import included_ids

        frame = frame[frame["id"].isin(included_ids(review, included))]
    _say(frame[["id", "database", "status", "year", "title"]].head(20).to_string(index=False))
    _say(f"({len(frame)} records)")


@records_app.command("show")
def show(
    record_id: int = typer.Argument(..., help="Record id."),
    reviewer: str | None = typer.Option(
        None,
        "--reviewer",
        envvar="METAREVIEW_REVIEWER",
        help="Who asks (blind mode shows what they may see).",
    ),
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Every field of a record, its search, its duplicate cluster and its screening state per stage."""
    from metareview.records.browse import show_record
    from metareview.review import Review
    _say(show_record(Review.open(review_dir, db), record_id, reviewer=reviewer))


@records_app.command("search")
def search(
    text: str = typer.Argument(..., help="Words to find in title, abstract, authors, DOI or PMID."),
    page: int = typer.Option(1, "--page", help="Page of results (from 1)."),
    per_page: int = typer.Option(20, "--per-page", help="Results per page."),
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Search the records (case-insensitive; every word must occur), one page at a time."""
    from metareview.records.browse import search_records
    from metareview.review import Review
    _say(search_records(Review.open(review_dir, db), text, page=page, per_page=per_page))


def status(review_dir: Path = ReviewDir, db: str | None = DbUrl) -> None:
    """Counts per database: searches, records, duplicates; unique records; pairs to review."""
    from metareview.records.status import records_status
    from metareview.review import Review
    _say(records_status(Review.open(review_dir, db)))


def register(app: typer.Typer) -> None:
    """Add the records commands to the ``metareview`` app."""
    app.command("init")(init)
    app.command("import")(import_)
    app.command("dedup")(dedup)
    app.add_typer(records_app, name="records")
    app.command("status")(status)
