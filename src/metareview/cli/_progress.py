"""The CLI's display of the engine's progress (:mod:`metareview.progress`): a rich progress bar on
standard error with the count, the rate and the time left, one line per task. Shown only when
standard error is a terminal and neither ``--quiet`` nor ``--json`` was given, so scripts and pipes
get no progress output; ``--json`` commands print exactly one JSON object on standard output.

    with shown(quiet):
        result = import_file(review, path, database)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from metareview.progress import Step, reporting

Quiet = typer.Option(False, "--quiet", "-q", help="No progress bar (for scripts).")
AsJson = typer.Option(False, "--json", help="Print the result as one JSON object (no progress bar).")


class RichProgress:
    """A :data:`metareview.progress.Hook` that draws each task as a rich progress bar."""

    def __init__(self, console: Any | None = None, transient: bool = True) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            TimeElapsedColumn(),
            console=console if console is not None else Console(stderr=True),
            transient=transient,
        )
        self.tasks: dict[str, Any] = {}

    def __call__(self, step: Step) -> None:
        task = self.tasks.get(step.task)
        if task is None:
            task = self.bar.add_task(step.task, total=step.total, count="", rate="")
            self.tasks[step.task] = task
        self.bar.update(task, completed=step.done, total=step.total, count=_count(step))
        speed = self.bar.tasks[self.bar.task_ids.index(task)].speed
        if speed:
            self.bar.update(task, rate=f"{speed:,.0f} {step.unit}/s")

    def __enter__(self) -> RichProgress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


def _count(step: Step) -> str:
    if step.total is None:
        return f"{step.done:,} {step.unit}"
    return f"{step.done:,}/{step.total:,} {step.unit}"


@contextmanager
def shown(quiet: bool = False) -> Iterator[None]:
    """Show the progress of the engine work done in the block (unless ``quiet`` or not a terminal)."""
    if quiet:
        yield
        return
    from rich.console import Console

    console = Console(stderr=True)
    if not console.is_terminal:
        yield
        return
    with RichProgress(console) as hook, reporting(hook):
        yield


def echo_json(value: Any) -> None:
    """Print ``value`` as one JSON object (dates and paths as text)."""
    typer.echo(json.dumps(value, indent=2, default=str))
