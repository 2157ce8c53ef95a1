"""CLI of the extraction area: ``extract template|import|submit|status|compare|consensus|agreement`` and
``studies link|unlink|list``.

Thin: each command parses its arguments, calls :mod:`metareview.extraction` (the engine the web pages and
the JSON API call too) and prints (``--json`` for machines)::

    metareview extract template forms.xlsx --review my-review         # columns from its protocol.toml
    metareview extract import ana.xlsx --extractor ana --review my-review   # two extractors: ana's own
    metareview extract compare --reviewer olga --review my-review      # differing fields, side by side
    metareview extract consensus heber2017 "effect[dep].estimate" --take ana --reviewer olga --review rv
    metareview extract consensus --file consensus.csv --reviewer olga --review my-review
    metareview extract agreement --review my-review                    # per field: %, Cohen's kappa
    metareview studies link 12 31 --study heber2017 --reviewer ana --review my-review
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from metareview.cli._progress import echo_json
from metareview.errors import InputError

_PROTOCOL_HELP = "protocol.toml whose declared fields the forms have (default: the review's)"
_DB_HELP = "database URL (default: the review's SQLite file, or $METAREVIEW_DB)"

extract_app = typer.Typer(no_args_is_help=True, help=(
    "Extraction: templates, import, and with two extractors per report: submit, compare, consensus, "
    "agreement."))
studies_app = typer.Typer(no_args_is_help=True, help="Studies and their reports: link several reports "
                          "(records) to one study, so PRISMA counts studies and reports apart.")

ReviewDir = Annotated[Path, typer.Option("--review", help="review folder (holds protocol.toml)")]
DbUrl = Annotated[str | None, typer.Option("--db", help=_DB_HELP)]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


def _protocol(protocol: Path | None, review: Path | None) -> Any:
    from metareview.protocol import Protocol

    return Protocol.load_optional(protocol, review)


def _name(name: str | None, option: str, required: bool = True) -> str | None:
    """The option, else $METAREVIEW_REVIEWER; never the operating-system user."""
    chosen = name or os.environ.get("METAREVIEW_REVIEWER")
    if not chosen and required:
        raise InputError(f"give --{option} NAME (or set METAREVIEW_REVIEWER)", field=option)
    return chosen or None


def _open(review: Path, db: str | None) -> Any:
    from metareview.review import Review

    return Review.open(review, db)


@extract_app.command("template")
def extract_template(
    path: Annotated[Path, typer.Argument(help="a .xlsx workbook, or a folder for three CSV files")],
    review: Annotated[Path | None, typer.Option(
        help="review folder: its protocol's fields; its reports included at full text pre-filled")
    ] = None,
    protocol: Annotated[Path | None, typer.Option(help=_PROTOCOL_HELP)] = None,
    db: DbUrl = None,
) -> None:
    """Write extraction templates (reports with AMSTAR 2, effect sizes, primary studies) whose columns are
    the built-in fields plus those the protocol declares."""
    from metareview.extraction.templates import included_reports, write_templates

    prefill = included_reports(review, db=db) if review is not None else []
    for f in write_templates(path, protocol=_protocol(protocol, review), prefill=prefill):
        typer.echo(f"wrote {f}")
    if prefill:
        typer.echo(f"pre-filled {len(prefill)} included reports")


@extract_app.command("import")
def extract_import(
    path: Annotated[Path, typer.Argument(help="filled-in .xlsx workbook or CSV folder")],
    review: Annotated[Path | None, typer.Option(help="review folder to store the forms in")] = None,
    protocol: Annotated[Path | None, typer.Option(help=_PROTOCOL_HELP)] = None,
    db: DbUrl = None,
    extractor: Annotated[str | None, typer.Option(
        help="who extracted (required with two extractors per report; default $METAREVIEW_REVIEWER)")] = None,
    draft: Annotated[bool, typer.Option(
        help="two extractors: store as your draft, not submitted")] = False,
    replace: Annotated[bool, typer.Option(help="one extractor: replace reports already stored")] = False,
    as_json: AsJson = False,
) -> None:
    """Validate filled-in templates against the protocol (errors name file, row, column and the allowed
    values) and store them in one transaction: with two extractors per report, as the extractor's own
    (blind) extraction of each report, submitted unless --draft."""
    from metareview.extraction.templates import import_forms, store_forms

    bundle = import_forms(path, protocol=_protocol(protocol, review))
    if review is not None:
        who = _name(extractor, "extractor", required=False)
        counts = store_forms(bundle, review, db=db, replace=replace, extractor=who, submit=not draft)
        by = f" as {who}'s extraction" if who else ""
        typer.echo(f"stored {counts['reports']} reports, {counts['effect_sizes']} effect sizes, "
                   f"{counts['primary_studies']} primary studies{by}")
    if as_json:
        echo_json(bundle.to_dict())
    elif review is None:
        typer.echo(f"valid: {bundle}")


@extract_app.command("submit")
def extract_submit(
    report: Annotated[str, typer.Argument(help="report id")],
    extractor: Annotated[str | None, typer.Option(help="your name (default $METAREVIEW_REVIEWER)")] = None,
    review: ReviewDir = Path("."),
    db: DbUrl = None,
) -> None:
    """Submit your extraction of a report (two extractors per report)."""
    from metareview.extraction import dual

    typer.echo(str(dual.submit(_open(review, db), report, str(_name(extractor, "extractor")))))


@extract_app.command("status")
def extract_status(
    reviewer: Annotated[str | None, typer.Option(help="your name: your own state per report")] = None,
    review: ReviewDir = Path("."),
    db: DbUrl = None,
    as_json: AsJson = False,
) -> None:
    """Where each report stands: extractions started and submitted, fields open, agreed."""
    from metareview.extraction import dual

    rows = dual.status(_open(review, db), _name(reviewer, "reviewer", required=False))
    if as_json:
        echo_json([r.to_dict() for r in rows])
        return
    for r in rows:
        typer.echo(str(r))
    if not rows:
        typer.echo("nothing extracted yet")


@extract_app.command("compare")
def extract_compare(
    report: Annotated[str | None, typer.Argument(
        help="report id (default: every report you may compare)")] = None,
    reviewer: Annotated[str | None, typer.Option(
        help="who asks (blind: default $METAREVIEW_REVIEWER)")] = None,
    all_fields: Annotated[bool, typer.Option(
        "--all", help="every field, not only the differing ones")] = False,
    open_only: Annotated[bool, typer.Option("--open", help="only reports with fields still open")] = False,
    review: ReviewDir = Path("."),
    db: DbUrl = None,
    as_json: AsJson = False,
) -> None:
    """The two extractions of a report side by side (blind: only once both have submitted)."""
    from metareview.extraction import dual

    rv, who = _open(review, db), str(_name(reviewer, "reviewer"))
    found = ([dual.compare(rv, report, who, all_fields=all_fields)] if report
             else dual.comparisons(rv, who, all_fields=all_fields, open_only=open_only))
    if as_json:
        echo_json([c.to_dict() for c in found])
        return
    typer.echo("\n\n".join(str(c) for c in found) if found else
               "no report to compare yet (a comparison opens when both extractors have submitted)")


@extract_app.command("consensus")
def extract_consensus(
    report: Annotated[str | None, typer.Argument(help="report id")] = None,
    field: Annotated[str | None, typer.Argument(
        help="field path, e.g. report.amstar2.7 or effect[KEY].estimate")] = None,
    value: Annotated[str | None, typer.Argument(help="the consensus value (or --take)")] = None,
    take: Annotated[str | None, typer.Option(help="take this extractor's value")] = None,
    correct: Annotated[bool, typer.Option(
        help="replace the consensus value recorded (a correction)")] = False,
    note: Annotated[str | None, typer.Option(help="why")] = None,
    file: Annotated[Path | None, typer.Option(
        help="CSV/XLSX of consensus values: report_id, field, value or take[, reviewer, note, correct]"),
    ] = None,
    reviewer: Annotated[str | None, typer.Option(
        help="who records it (default $METAREVIEW_REVIEWER)")] = None,
    review: ReviewDir = Path("."),
    db: DbUrl = None,
) -> None:
    """Record a consensus value (who and when are kept; one per field unless --correct), or a file of them
    in one transaction."""
    from metareview.extraction import dual

    rv = _open(review, db)
    if file is not None:
        n = dual.import_consensus(rv, file, _name(reviewer, "reviewer", required=False))
        typer.echo(f"recorded {n} consensus value(s)")
        return
    if report is None or field is None:
        raise InputError("give REPORT and FIELD (and a VALUE or --take), or --file", field="field")
    kwargs: dict[str, Any] = {"take": take} if take is not None else {}
    if value is not None:
        kwargs["value"] = value
    typer.echo(str(dual.record_consensus(rv, report, field, str(_name(reviewer, "reviewer")), correct=correct,
                                         note=note, **kwargs)))


@extract_app.command("agreement")
def extract_agreement(
    review: ReviewDir = Path("."),
    db: DbUrl = None,
    as_json: AsJson = False,
) -> None:
    """Agreement between the two extractors per field: percent agreement, Cohen's kappa (categorical)."""
    from metareview.extraction.field_agreement import extraction_agreement

    res = extraction_agreement(_open(review, db))
    if as_json:
        echo_json(res.to_dict())
    else:
        typer.echo(str(res))


@studies_app.command("link")
def studies_link(
    records: Annotated[list[int], typer.Argument(help="record ids (reports) of one study")],
    study: Annotated[str, typer.Option(help="the study's name, e.g. the main report's key")],
    reviewer: Annotated[str | None, typer.Option(
        help="who links them (default $METAREVIEW_REVIEWER)")] = None,
    note: Annotated[str | None, typer.Option(help="why")] = None,
    review: ReviewDir = Path("."),
    db: DbUrl = None,
) -> None:
    """Link reports (records) to one study: PRISMA then counts them as one study, several reports."""
    from metareview.screening.studies import link_reports

    n = link_reports(_open(review, db), records, study, str(_name(reviewer, "reviewer")), note)
    typer.echo(f"linked {n} record(s) to {study!r}")


@studies_app.command("unlink")
def studies_unlink(
    records: Annotated[list[int], typer.Argument(help="record ids")],
    reviewer: Annotated[str | None, typer.Option(
        help="who unlinks them (default $METAREVIEW_REVIEWER)")] = None,
    note: Annotated[str | None, typer.Option(help="why")] = None,
    review: ReviewDir = Path("."),
    db: DbUrl = None,
) -> None:
    """Make records their own study again."""
    from metareview.screening.studies import unlink_reports

    n = unlink_reports(_open(review, db), records, str(_name(reviewer, "reviewer")), note)
    typer.echo(f"unlinked {n} record(s)")


@studies_app.command("list")
def studies_list(
    review: ReviewDir = Path("."),
    db: DbUrl = None,
    as_json: AsJson = False,
) -> None:
    """The studies with more than one report, or named by a link."""
    from metareview.screening.studies import studies, study_of

    rv = _open(review, db)
    found = studies(rv, study_of(rv))
    if as_json:
        echo_json([s.to_dict() for s in found])
        return
    typer.echo("\n".join(str(s) for s in found) if found else "no report is linked to a study")


def register(app: typer.Typer) -> None:
    """Add the ``extract`` and ``studies`` groups."""
    app.add_typer(extract_app, name="extract")
    app.add_typer(studies_app, name="studies")
