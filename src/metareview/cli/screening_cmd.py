"""CLI of the screening area: ``screen next|decide|resolve|retrieval|import|status``, ``conflicts``,
``agreement``, ``simulate`` and ``prisma``.

Thin: each command parses its options, calls the Python API and prints.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from metareview.cli._defaults import DEFAULT_MODEL, TITLE_ABSTRACT
from metareview.cli._progress import AsJson, Quiet, echo_json, shown
from metareview.errors import InputError

if TYPE_CHECKING:
    from rich.text import Text


def _console() -> Any:
    """A rich console, made (and rich imported) only by the commands that print highlighted text."""
    from rich.console import Console

    return Console(soft_wrap=True)
screen_app = typer.Typer(no_args_is_help=True, help="Screen records: next, decide, resolve, import, status.")

ReviewDir = typer.Option(Path("."), "--review", help="Review folder (holds protocol.toml).")
DbUrl = typer.Option(
    None, "--db", help="Store URL (default: review.sqlite in the folder, or $METAREVIEW_DB)."
)
Stage = typer.Option(TITLE_ABSTRACT, "--stage", help="title_abstract or full_text.")


def _say(text: object) -> None:
    typer.echo(str(text))


def _reviewer(name: str | None) -> str:
    """--reviewer, else $METAREVIEW_REVIEWER; never the operating-system user (a vote is a roster name)."""
    chosen = name or os.environ.get("METAREVIEW_REVIEWER")
    if not chosen:
        raise InputError("give --reviewer NAME (or set METAREVIEW_REVIEWER)", field="reviewer")
    return chosen


def _highlighted(text: str, include: list[str], exclude: list[str]) -> Text:
    from rich.text import Text

    from metareview.screening.highlight import keyword_spans

    out = Text(text)
    for start, end, kind in keyword_spans(text, include, exclude):
        out.stylize("bold black on green" if kind == "include" else "bold white on red", start, end)
    return out


@screen_app.command("next")
def next_(
    reviewer: str | None = typer.Option(None, "--reviewer", help="Your name (default $METAREVIEW_REVIEWER)."),
    stage: str = Stage,
    model: str | None = typer.Option(
        None, "--model", help="Ranker used to order the records (default: the protocol's, else the default)."
    ),
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Show the next record to screen, with the protocol's keywords highlighted."""
    from metareview.review import Review
    from metareview.screening.queue import next_record

    review = Review.open(review_dir, db)
    nxt = next_record(review, _reviewer(reviewer), stage, model)
    if nxt is None:
        _say(f"nothing left for {_reviewer(reviewer)} at {stage}")
        return
    kw = review.protocol.screening.keywords
    how = f"ranked first by {nxt.model}" if nxt.trained else "import order (ranker not trained yet)"
    _say(f"record {nxt.record_id}  ({stage}; {how}; {nxt.remaining} left for you)")
    console = _console()
    console.print(_highlighted(nxt.title, kw.include, kw.exclude), style="bold")
    console.print(_highlighted(nxt.abstract, kw.include, kw.exclude))


@screen_app.command("decide")
def decide(
    record: int = typer.Argument(..., help="Record id."),
    reviewer: str | None = typer.Option(None, "--reviewer", help="Your name (default $METAREVIEW_REVIEWER)."),
    include: bool = typer.Option(False, "--include"),
    exclude: bool = typer.Option(False, "--exclude"),
    maybe: bool = typer.Option(False, "--maybe"),
    reason: str | None = typer.Option(None, "--reason", help="Exclusion reason from the protocol."),
    note: str | None = typer.Option(None, "--note"),
    stage: str = Stage,
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Record your decision on a record (a changed decision is appended, never overwritten)."""
    from metareview.review import Review
    from metareview.screening import decisions as sd

    chosen = [name for name, flag in (("include", include), ("exclude", exclude), ("maybe", maybe)) if flag]
    if len(chosen) != 1:
        raise InputError("give exactly one of --include, --exclude, --maybe", field="decision")
    review = Review.open(review_dir, db)
    _say(sd.decide(review, record, _reviewer(reviewer), chosen[0], stage, reason, note))


@screen_app.command("retract")
def retract(
    record: int = typer.Argument(..., help="Record id."),
    reviewer: str | None = typer.Option(None, "--reviewer", help="Your name (default $METAREVIEW_REVIEWER)."),
    note: str | None = typer.Option(None, "--note"),
    stage: str = Stage,
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Withdraw your own vote on a record (an appended event, shown in the history)."""
    from metareview.review import Review
    from metareview.screening import decisions as sd

    review = Review.open(review_dir, db)
    _say(sd.retract(review, record, _reviewer(reviewer), stage, note))


@screen_app.command("resolve")
def resolve(
    record: int = typer.Argument(..., help="Record id in conflict."),
    reviewer: str | None = typer.Option(None, "--reviewer", help="Who resolves (a third reviewer)."),
    include: bool = typer.Option(False, "--include"),
    exclude: bool = typer.Option(False, "--exclude"),
    reason: str | None = typer.Option(None, "--reason"),
    note: str | None = typer.Option(None, "--note"),
    consensus: bool = typer.Option(False, "--consensus", help="Resolved by the reviewers' consensus."),
    correct: bool = typer.Option(False, "--correct", help="Correct an existing resolution (an event)."),
    stage: str = Stage,
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Resolve a conflict with a final include or exclude."""
    from metareview.review import Review
    from metareview.screening import decisions as sd

    if include == exclude:
        raise InputError("give exactly one of --include, --exclude", field="decision")
    review = Review.open(review_dir, db)
    method = "consensus" if consensus else "third_reviewer"
    decision = "include" if include else "exclude"
    act = sd.correct_resolution if correct else sd.resolve
    _say(act(review, record, _reviewer(reviewer), decision, stage, reason, note, method))


@screen_app.command("retrieval")
def retrieval(
    record: int = typer.Argument(..., help="Record id included at title/abstract."),
    not_retrieved: bool = typer.Option(False, "--not-retrieved", help="The full text could not be obtained."),
    reviewer: str | None = typer.Option(None, "--reviewer"),
    note: str | None = typer.Option(None, "--note"),
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Record whether a record's full-text report was retrieved."""
    from metareview.review import Review
    from metareview.screening import decisions as sd

    review = Review.open(review_dir, db)
    sd.mark_retrieval(review, record, _reviewer(reviewer), not not_retrieved, note)
    _say(f"record {record}: {'not retrieved' if not_retrieved else 'retrieved'}")


@screen_app.command("import")
def import_(
    file: Path = typer.Argument(
        ..., help="CSV/XLSX with record_id, reviewer, decision[, stage, reason, note]."
    ),
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Import decisions in bulk (one transaction: a bad row leaves the store unchanged)."""
    from metareview.review import Review
    from metareview.screening import decisions as sd

    review = Review.open(review_dir, db)
    _say(f"imported {sd.import_decisions(review, file)} decisions from {file}")


@screen_app.command("log")
def log(
    out: Path = typer.Option(..., "--out", help="decision log file: .csv or .xlsx"),
    reviewer: str | None = typer.Option(None, "--reviewer", help="Who is asking (blind mode hides votes)."),
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Export the full decision log: who, when, what, why (as blind mode allows)."""
    from metareview.review import Review
    from metareview.screening import decisions as sd

    review = Review.open(review_dir, db)
    n = sd.export_decision_log(review, out, reviewer or os.environ.get("METAREVIEW_REVIEWER"))
    _say(f"wrote {n} events to {out}")


@screen_app.command("status")
def status(
    stage: str = Stage,
    target_recall: float | None = typer.Option(
        None, "--target-recall", help="Target recall (default: the protocol's [screening.stopping])."
    ),
    confidence: float | None = typer.Option(
        None, "--confidence", help="Confidence (default: the protocol's)."
    ),
    rule: str | None = typer.Option(None, "--rule", help="Stopping rule (default: the protocol's)."),
    batch: int | None = typer.Option(None, "--batch", help="Update batch to speak for (default: latest)."),
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Progress at a stage and the stopping rules (estimated recall, what it rests on), per update batch."""
    from metareview.review import Review
    from metareview.screening import decisions as sd
    from metareview.screening.batches import batch_stopping_status

    review = Review.open(review_dir, db)
    _say(sd.progress(review, stage))
    _say(batch_stopping_status(review, batch, target_recall, confidence, rule=rule))


def conflicts(
    reviewer: str | None = typer.Option(None, "--reviewer", help="Who is asking (blind mode hides votes)."),
    stage: str = Stage,
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """List records whose reviewers disagree (or said maybe)."""
    from metareview.review import Review
    from metareview.screening import decisions as sd

    review = Review.open(review_dir, db)
    found = sd.conflicts(review, stage, reviewer or os.environ.get("METAREVIEW_REVIEWER"))
    _say(f"{len(found)} conflict(s) at {stage}")
    for state in found:
        _say(state)


def agreement(
    stage: str = Stage,
    level: float = typer.Option(0.95, "--level", help="Confidence level of the intervals."),
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Inter-rater agreement at a stage: percent agreement, Cohen's and Fleiss' kappa with CIs."""
    from metareview.review import Review
    from metareview.screening.queue import review_agreement

    review = Review.open(review_dir, db)
    for result in review_agreement(review, stage, level):
        _say(result)


def simulate(
    file: Path = typer.Argument(..., help="Labelled CSV with title, abstract and a 0/1 label column."),
    label: str = typer.Option(..., "--label", help="Label column, e.g. label_included."),
    model: str = typer.Option(DEFAULT_MODEL, "--model"),
    seeds: int = typer.Option(1, "--seeds"),
    prior: int = typer.Option(
        1, "--prior", help="Relevant and irrelevant records known at the start (each)."
    ),
    out: Path | None = typer.Option(None, "--out", help="Folder for recall_curve.png/.csv and metrics.csv."),
    quiet: bool = Quiet,
    as_json: bool = AsJson,
) -> None:
    """Replay screening with the labels as oracle: recall curve, WSS@95/100, ATD, RRF@10, stopping point."""
    from metareview.screening.simulate import simulate_file

    with shown(quiet or as_json):
        result = simulate_file(file, label, model=model, seeds=seeds, prior=prior, out=out)
    if as_json:
        echo_json(result.to_dict())
        return
    _say(result)
    if out is not None:
        _say(f"wrote {out / 'recall_curve.png'}, {out / 'recall_curve.csv'}, {out / 'metrics.csv'}")


def prisma(
    out: Path = typer.Option(..., "--out", help="Diagram file: .svg, .png or .pdf."),
    csv: Path | None = typer.Option(None, "--csv", help="Also write the PRISMA2020 field CSV."),
    title: str | None = typer.Option(None, "--title"),
    review_dir: Path = ReviewDir,
    db: str | None = DbUrl,
) -> None:
    """Draw the PRISMA 2020 flow diagram from the review's history (counts that don't add up are errors)."""
    from metareview.review import Review
    from metareview.screening.prisma import draw_prisma, prisma_counts

    review = Review.open(review_dir, db)
    counts = prisma_counts(review)
    _say(counts)
    _say(f"wrote {draw_prisma(counts, out, title)}")
    if csv is not None:
        _say(f"wrote {counts.to_csv(csv)}")


def register(app: typer.Typer) -> None:
    """Add the screening commands to the root app."""
    app.add_typer(screen_app, name="screen")
    app.command("conflicts")(conflicts)
    app.command("agreement")(agreement)
    app.command("simulate")(simulate)
    app.command("prisma")(prisma)
