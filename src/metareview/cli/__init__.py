"""The ``metareview`` command line. Thin: each area registers its commands from its own module,
which parses arguments, calls the Python API and prints. No domain logic lives here.

Start-up is kept short (``bench/bench_cli_startup.py``): the top-level group knows each command's
name, area module and one-line help from :data:`COMMANDS`, and imports an area module (and builds its
commands) only when one of its commands runs or shows its help. ``metareview --help`` and
``metareview version`` import no area at all, and the top-level help is click's plain layout (typer's
rich layout would import every area to list them). ``tests/cli/test_startup_imports.py`` checks that
:data:`COMMANDS` matches what the areas register.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperGroup

from metareview import __version__
from metareview.errors import MetareviewError

# top-level command -> (area module under metareview.cli, its one-line help); each area module
# defines ``register(app: typer.Typer) -> None``.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("records_cmd", "Create a review: a commented protocol.toml template and the store."),
    "import": (
        "records_cmd",
        "Import a search export as one search (one transaction; re-importing a file adds nothing).",
    ),
    "dedup": (
        "records_cmd",
        "Find duplicates across all imported records; confirm or reject uncertain pairs; undo clusters.",
    ),
    "status": (
        "records_cmd",
        "Counts per database: searches, records, duplicates; unique records; pairs to review.",
    ),
    "records": ("records_cmd", "List, show, search and export the records."),
    "screen": ("screening_cmd", "Screen records: next, decide, resolve, import, status."),
    "conflicts": ("screening_cmd", "List records whose reviewers disagree (or said maybe)."),
    "agreement": (
        "screening_cmd",
        "Inter-rater agreement at a stage: percent agreement, Cohen's and Fleiss' kappa with CIs.",
    ),
    "simulate": (
        "screening_cmd",
        "Replay screening with the labels as oracle: recall curve, WSS@95/100, ATD, RRF@10, "
        "stopping point.",
    ),
    "prisma": (
        "screening_cmd",
        "Draw the PRISMA 2020 flow diagram from the review's history (counts that don't add up are "
        "errors).",
    ),
    "export-decisions": (
        "interop_cmd",
        "Export the records with their screening state per stage (decision, votes, reasons, notes).",
    ),
    "import-decisions": (
        "interop_cmd",
        "Import decisions matched by record id, DOI, PMID or normalised title + year (one transaction).",
    ),
    "asreview": ("interop_cmd", "ASReview LAB project files (.asreview) in and out."),
    "update": (
        "update_cmd",
        "Import updated searches as a new batch: deduplicated against everything the review holds, "
        "only the new unique records are queued; `screen status` then speaks for the new batch.",
    ),
    "prisma-update": (
        "update_cmd",
        "PRISMA 2020 flow diagram for an updated review: previous studies, the update, total studies.",
    ),
    "extract": (
        "extraction_cmd",
        "Extraction: templates, import, and with two extractors per report: submit, compare, consensus, "
        "agreement.",
    ),
    "studies": (
        "extraction_cmd",
        "Studies and their reports: link several reports (records) to one study, so PRISMA counts studies "
        "and reports apart.",
    ),
    "protocol": (
        "synthesis_cmd",
        "Keep extracted data in step with protocol.toml: check, migrate explicitly.",
    ),
    "appraise": ("appraisal_cmd", "Risk of bias: RoB 2, RoB 1 and ROBIS forms and plots."),
    "meta": ("meta_cmd", "Fit a random-effects meta-analysis (metafor's rma) to a CSV of effect sizes."),
    "votes": (
        "synthesis_cmd",
        "Vote counting: directions (derived) by a moderator, with %, Wilson CIs and Fisher's exact test.",
    ),
    "overlap": (
        "synthesis_cmd",
        "Corrected covered area (Pieper 2014), overall and pairwise, adjusted for structural missingness.",
    ),
    "credibility": (
        "synthesis_cmd",
        "Credibility of each factor as metaumbrella's umbrella() + add.evidence(): classes I-IV/ns "
        "(Fusar-Poli & Radua 2018), GRADE or Personalised, criteria explicit.",
    ),
    "simulate-meta": (
        "simulation_cmd",
        "Simulation study of meta-analytic methods: bias, RMSE, coverage and width per condition.",
    ),
    "report": (
        "report_cmd",
        "Write the review's report: a self-contained HTML page, the same as a Word document (report.docx), "
        "every table as CSV/XLSX and every figure as SVG, PDF and 300-dpi PNG.",
    ),
    "serve": (
        "web_cmd", "Run the team web app (pages and the JSON API at /api, described at /api/openapi.json).",
    ),
    "users": ("web_cmd", "Accounts of the team server."),
}
AREAS = tuple(dict.fromkeys(area for area, _ in COMMANDS.values()))


def area_commands(area: str) -> dict[str, Any]:
    """The click commands one area module registers (imports the module and builds its commands)."""
    sub = typer.Typer()
    import_module(f"metareview.cli.{area}").register(sub)
    return dict(typer.main.get_group(sub).commands)


class _LazyGroup(TyperGroup):
    """A top-level group that imports an area only when one of its commands is used."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*self.commands, *(name for name in COMMANDS if name not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            for name, command in area_commands(COMMANDS[cmd_name][0]).items():
                self.commands.setdefault(name, command)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = [(name, cmd.get_short_help_str(200)) for name, cmd in self.commands.items() if not cmd.hidden]
        rows += [(name, text) for name, (_, text) in COMMANDS.items() if name not in self.commands]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        known = self.list_commands(ctx)
        if args and not args[0].startswith("-") and args[0] not in known:
            from difflib import get_close_matches

            matches = get_close_matches(args[0], known)
            hint = f" Did you mean {', '.join(map(repr, matches))}?" if matches else ""
            ctx.fail(f"No such command {args[0]!r}.{hint}")
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=_LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    help="metareview: systematic meta-reviews from search exports to a graded synthesis.",
)


@app.callback()
def _root() -> None:
    """metareview: systematic meta-reviews from search exports to a graded synthesis."""


@app.command()
def version() -> None:
    """Print the installed version."""
    typer.echo(__version__)


def main() -> None:
    """Console-script entry point: project errors become one clear line and exit code 2."""
    if sys.argv[1:] == ["version"]:
        # answered before typer runs a command: typer 0.29 builds a pydantic validator for the --help
        # flag of every command it invokes, which would double this command's start-up
        print(__version__)
        return
    try:
        app()
    except MetareviewError as exc:
        from rich.console import Console

        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
