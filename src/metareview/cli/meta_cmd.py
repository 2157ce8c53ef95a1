"""CLI of the statistics core: ``metareview meta``.

Thin: parses arguments, calls :func:`metareview.tables.meta_table` and prints::

    metareview meta effects.csv --yi yi --vi vi --method REML --test knha --pi t
    metareview meta effects.csv --yi yi --sei sei --by outcome --json
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add ``meta`` to the root command group."""

    @app.command("meta")
    def meta_command(
        file: Annotated[Path, typer.Argument(help="CSV file with one effect size per row")],
        yi: Annotated[str, typer.Option("--yi", help="column of effect sizes")],
        vi: Annotated[str | None, typer.Option("--vi", help="column of sampling variances")] = None,
        sei: Annotated[
            str | None, typer.Option("--sei", help="column of standard errors (instead of --vi)")
        ] = None,
        method: Annotated[
            str, typer.Option(help="tau^2 estimator: EE/FE, DL, HE, HS, HSk, SJ, ML, REML, EB, PM, PMM")
        ] = "REML",
        test: Annotated[
            str, typer.Option(help="z, t, knha (Knapp-Hartung) or adhoc (knha, its factor floored at 1)")
        ] = "z",
        pi: Annotated[
            str, typer.Option("--pi", help="prediction interval: z, t (k-1 df) or riley (k-2 df)")
        ] = "z",
        level: Annotated[float, typer.Option(help="confidence level in percent")] = 95.0,
        by: Annotated[
            str | None, typer.Option(help="column of group labels: one meta-analysis per group")
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="print JSON (an array of objects with --by)")
        ] = False,
    ) -> None:
        """Fit a random-effects meta-analysis (metafor's rma) to a CSV of effect sizes."""
        from metareview.tables import meta_json, meta_table

        if as_json:
            typer.echo(
                meta_json(file, yi=yi, vi=vi, sei=sei, by=by, method=method, test=test, pi=pi, level=level)
            )
            return
        fits = meta_table(file, yi=yi, vi=vi, sei=sei, by=by, method=method, test=test, pi=pi, level=level)
        for group, res in fits:
            if group is not None:
                typer.echo(f"=== {by} = {group} ===")
            typer.echo(str(res))
