"""CLI of simulation studies: ``metareview simulate-meta``.

Thin: parses the grid of conditions, calls :func:`metareview.simulation.run_study` (on a Dask cluster
with ``--workers N`` or ``--scheduler ADDRESS``) and writes the summary and the plot::

    metareview simulate-meta --k 2,3,5,10 --tau2 0,0.1 --measure generic --reps 10000 \\
        --methods DL,REML --tests z,knha --seed 1 --out sim/
"""

from __future__ import annotations

from itertools import product
from pathlib import Path

import typer
from rich.console import Console

from metareview.cells import neutralise_frame
from metareview.cli._progress import AsJson, Quiet, echo_json, shown
from metareview.errors import InputError
from metareview.filemodes import make_dir, restrict

console = Console(soft_wrap=True)


def _floats(text: str, name: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"--{name} takes numbers separated by commas, not {text!r}", field=name) from None


def _words(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def register(app: typer.Typer) -> None:
    """Add ``simulate-meta`` to the root command group."""

    @app.command("simulate-meta")
    def simulate_meta(
        k: str = typer.Option("3,5,10", "--k", help="Numbers of studies, comma-separated."),
        tau2: str = typer.Option("0,0.1", "--tau2", help="Between-study variances, comma-separated."),
        mu: float = typer.Option(0.0, "--mu", help="True mean effect (analysis scale)."),
        measure: str = typer.Option("generic", "--measure", help="generic, MD, SMD or OR."),
        n_min: int = typer.Option(40, "--n-min", help="Smallest total sample size of a study."),
        n_max: int = typer.Option(200, "--n-max", help="Largest total sample size of a study."),
        large_share: float = typer.Option(0.0, "--large-share", help="Share of studies made larger."),
        large_factor: float = typer.Option(10.0, "--large-factor", help="How many times larger."),
        publish_nonsig: float = typer.Option(
            1.0, "--publish-nonsig", help="Small-study bias: chance a non-significant study is published."
        ),
        p0: float = typer.Option(0.2, "--p0", help="Control-arm risk (OR)."),
        reps: int = typer.Option(1000, "--reps", help="Meta-analyses per condition."),
        methods: str = typer.Option("DL,REML", "--methods", help="tau^2 estimators, comma-separated."),
        tests: str = typer.Option("z,knha", "--tests", help="Tests / interval methods: z, knha."),
        seed: int = typer.Option(0, "--seed", help="Seed of the whole study."),
        chunk: int = typer.Option(10_000, "--chunk", help="Meta-analyses per task."),
        workers: int = typer.Option(0, "--workers", help="Run on a local Dask cluster of N processes."),
        scheduler: str | None = typer.Option(None, "--scheduler", help="Dask scheduler address."),
        out: Path | None = typer.Option(None, "--out", help="Folder for summary.csv and plot.png."),
        quiet: bool = Quiet,
        as_json: bool = AsJson,
    ) -> None:
        """Simulation study of meta-analytic methods: bias, RMSE, coverage and width per condition."""
        from metareview.simulation import Condition, run_study

        conditions = [
            Condition(
                k=int(kk),
                tau2=t,
                mu=mu,
                measure=measure,
                n_min=n_min,
                n_max=n_max,
                large_share=large_share,
                large_factor=large_factor,
                publish_nonsig=publish_nonsig,
                p0=p0,
            )
            for kk, t in product(_floats(k, "k"), _floats(tau2, "tau2"))
        ]
        kwargs = {
            "reps": reps,
            "methods": _words(methods),
            "tests": _words(tests),
            "seed": seed,
            "chunk": chunk,
        }
        with shown(quiet or as_json):
            if workers or scheduler:
                from metareview.simulation.distributed import cluster_client

                with cluster_client(scheduler, n_workers=workers or 2) as client:
                    study = run_study(conditions, client=client, **kwargs)  # type: ignore[arg-type]
            else:
                study = run_study(conditions, **kwargs)  # type: ignore[arg-type]
        if not as_json:
            console.print(str(study), markup=False, highlight=False)
        if out is not None:
            make_dir(out)
            neutralise_frame(study.summary()).to_csv(out / "summary.csv", index=False)
            restrict(out / "summary.csv")
            study.plot(out / "plot.png")
            if not as_json:
                console.print(
                    f"written: {out / 'summary.csv'}, {out / 'plot.png'}", markup=False, highlight=False
                )
        if as_json:
            echo_json(study.to_dict())
