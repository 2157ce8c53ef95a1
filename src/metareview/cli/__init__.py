"""The ``metareview`` command line. Thin: each area registers its commands from its own module,
which parses arguments, calls the Python API and prints. No domain logic lives here."""

from __future__ import annotations

import sys
from importlib import import_module

import typer
from rich.console import Console

from metareview import __version__
from metareview.errors import MetareviewError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="metareview: systematic meta-reviews from search exports to a graded synthesis.",
)
err_console = Console(stderr=True)

# One module per area; each defines ``register(app: typer.Typer) -> None``.
_AREAS = ("meta_cmd", "records_cmd", "screening_cmd", "synthesis_cmd", "report_cmd", "web_cmd",
          "update_cmd", "simulation_cmd", "interop_cmd", "appraisal_cmd", "extraction_cmd")


@app.callback()
def _root() -> None:
    """metareview: systematic meta-reviews from search exports to a graded synthesis."""


@app.command()
def version() -> None:
    """Print the installed version."""
    typer.echo(__version__)


for _area in _AREAS:
    try:
        _mod = import_module(f"metareview.cli.{_area}")
    except ModuleNotFoundError as exc:  # an area not built yet
        if exc.name != f"metareview.cli.{_area}":
            raise
        continue
    _mod.register(app)


def main() -> None:
    """Console-script entry point: project errors become one clear line and exit code 2."""
    try:
        app()
    except MetareviewError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
