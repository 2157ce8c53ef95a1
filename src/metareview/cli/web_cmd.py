"""CLI of the team server: ``metareview serve`` and ``metareview users add``.

Thin: the server lives in ``metareview.team`` and ``metareview.web``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from metareview.errors import InputError

users_app = typer.Typer(no_args_is_help=True, help="Accounts of the team server.")

DataDir = typer.Option(Path("metareview-server"), "--data", help="Server data folder (reviews, uploads).")
DbUrl = typer.Option(
    None, "--db", help="Server database URL (default: <data>/server.sqlite, or $METAREVIEW_DB)."
)

_APP_ENV = ("METAREVIEW_SERVER_DATA", "METAREVIEW_SERVER_DB")


def app_factory():  # type: ignore[no-untyped-def]
    """The ASGI app for uvicorn's ``--factory`` (settings from the environment, one per worker)."""
    from metareview.team.server import Server
    from metareview.web.app import create_app

    return create_app(Server.open(os.environ[_APP_ENV[0]], os.environ.get(_APP_ENV[1]) or None))


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (HTTPS: a reverse proxy)."),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers", min=1, help="App processes sharing the database."),
    data: Path = DataDir,
    db: str | None = DbUrl,
) -> None:
    """Run the team web app (pages and the JSON API at /api, described at /api/openapi.json)."""
    import uvicorn

    from metareview.team.accounts import user_count
    from metareview.team.server import Server

    server = Server.open(data, db)  # creates and migrates once, before the workers start
    if user_count(server) == 0:
        typer.echo("no account yet: create one with `metareview users add NAME --owner`", err=True)
    server.close()
    os.environ[_APP_ENV[0]] = str(data.resolve())
    if db:
        os.environ[_APP_ENV[1]] = db
    typer.echo(f"metareview team server on http://{host}:{port}/ (data: {data.resolve()})")
    uvicorn.run("metareview.cli.web_cmd:app_factory", factory=True, host=host, port=port, workers=workers,
                proxy_headers=True, log_level="info")


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="Sign-in name."),
    owner: bool = typer.Option(False, "--owner", help="A server administrator (may create reviews)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    data: Path = DataDir,
    db: str | None = DbUrl,
) -> None:
    """Create an account. The password is asked for (or read from stdin) and never printed."""
    from metareview.team.accounts import create_user
    from metareview.team.server import Server

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise InputError("no password given", field="password")
    server = Server.open(data, db)
    try:
        account = create_user(server, name, password, admin=owner)
    finally:
        server.close()
    typer.echo(f"account {account.name!r} created" + (" (server owner)" if owner else ""))


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``users`` to the main app."""
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
