"""CLI of risk-of-bias appraisal: ``metareview appraise template|import|summary|plot``.

Thin: calls :mod:`metareview.extraction.appraisal_forms` and :mod:`metareview.report.robvis`::

    metareview appraise template rob2 --out rob2.xlsx
    metareview appraise import rob2 rob2.xlsx --review my-review
    metareview appraise summary rob2 --review my-review
    metareview appraise plot rob2 --review my-review --out rob2-traffic.svg --summary-out rob2-summary.svg
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console(soft_wrap=True)
TOOL_HELP = "rob2 (RoB 2, randomised trials), rob1 (RoB 1, Handbook 5.1) or robis (ROBIS, reviews)."


def _forms(tool: str, file: Path | None, review_dir: Path, db: str | None) -> list:  # type: ignore[type-arg]
    from metareview.extraction.appraisal_forms import read_forms, stored_appraisals

    return read_forms(tool, file) if file is not None else stored_appraisals(tool, review_dir, db=db)


def register(app: typer.Typer) -> None:
    """Add the ``appraise`` command group."""
    group = typer.Typer(no_args_is_help=True, help="Risk of bias: RoB 2, RoB 1 and ROBIS forms and plots.")
    app.add_typer(group, name="appraise")

    @group.command("template")
    def template(
        tool: str = typer.Argument(..., help=TOOL_HELP),
        out: Path = typer.Option(..., "--out", help="The empty form to write (.csv or .xlsx)."),
        review_dir: Path | None = typer.Option(
            None, "--review", help="Pre-fill the rows with the review's primary studies (robis: its reports)."
        ),
        db: str | None = typer.Option(None, "--db", help="Store URL (default: review.sqlite in the folder)."),
    ) -> None:
        """Write the empty form: one row per study (or review), one column per signalling question."""
        from metareview.extraction.appraisal_forms import review_subjects, write_template

        subjects = review_subjects(tool, review_dir, db=db) if review_dir is not None else []
        path = write_template(tool, out, subjects=subjects)
        console.print(f"wrote {path} ({len(subjects)} rows pre-filled)", markup=False, highlight=False)

    @group.command("import")
    def import_(
        tool: str = typer.Argument(..., help=TOOL_HELP),
        file: Path = typer.Argument(..., help="The filled form (.csv or .xlsx)."),
        review_dir: Path = typer.Option(Path("."), "--review", help="Review folder (holds protocol.toml)."),
        db: str | None = typer.Option(None, "--db", help="Store URL (default: review.sqlite in the folder)."),
    ) -> None:
        """Check the filled form and store it in the review (all rows or none)."""
        from metareview.extraction.appraisal_forms import read_forms, store_appraisals

        forms = read_forms(tool, file)
        counts = store_appraisals(tool, forms, review_dir, db=db)
        console.print(f"{tool}: {counts['added']} added, {counts['replaced']} replaced", markup=False)

    @group.command("summary")
    def summary(
        tool: str = typer.Argument(..., help=TOOL_HELP),
        file: Path | None = typer.Option(None, "--file", help="Read a form instead of the review's store."),
        csv: Path | None = typer.Option(None, "--csv", help="Also write the table as CSV."),
        review_dir: Path = typer.Option(Path("."), "--review", help="Review folder (holds protocol.toml)."),
        db: str | None = typer.Option(None, "--db", help="Store URL (default: review.sqlite in the folder)."),
    ) -> None:
        """Print each study's (or review's) domain and overall judgements."""
        from metareview.extraction.appraisal_forms import summary_frame

        frame = summary_frame(_forms(tool, file, review_dir, db))
        if csv is not None:
            frame.to_csv(csv, index=False)
        console.print(frame.to_string(index=False) if len(frame) else "no appraisals", markup=False,
                      highlight=False)

    @group.command("plot")
    def plot(
        tool: str = typer.Argument(..., help=TOOL_HELP),
        out: Path = typer.Option(..., "--out", help="File stem of the figures (writes .svg, .pdf, .png)."),
        file: Path | None = typer.Option(None, "--file", help="Read a form instead of the review's store."),
        weighted: bool = typer.Option(False, "--weighted", help="Weight the summary bars by `weight`."),
        review_dir: Path = typer.Option(Path("."), "--review", help="Review folder (holds protocol.toml)."),
        db: str | None = typer.Option(None, "--db", help="Store URL (default: review.sqlite in the folder)."),
    ) -> None:
        """Write the traffic-light plot (STEM-traffic-light.*) and the summary plot (STEM-summary.*)."""
        from metareview.report.robvis import save_figure, summary_bars, traffic_light

        forms = _forms(tool, file, review_dir, db)
        stem = out.with_suffix("") if out.suffix in (".svg", ".pdf", ".png") else out
        written = [*save_figure(traffic_light(forms), stem.parent / f"{stem.name}-traffic-light"),
                   *save_figure(summary_bars(forms, weighted=weighted), stem.parent / f"{stem.name}-summary")]
        for path in written:
            console.print(f"wrote {path}", markup=False, highlight=False)
