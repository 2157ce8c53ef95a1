"""``metareview users add`` (password from stdin, never printed) and ``metareview serve`` wiring."""

from __future__ import annotations

from typer.testing import CliRunner

from metareview.cli import app
from metareview.team import accounts
from metareview.team.server import Server


def test_users_add_reads_password_from_stdin_and_never_prints_it(tmp_path):
    data = tmp_path / "srv"
    secret = "a very long secret phrase"
    r = CliRunner().invoke(app, ["users", "add", " Ana ", "--owner", "--password-stdin", "--data", str(data)],
                           input=secret + "\n")
    assert r.exit_code == 0, r.output
    assert secret not in r.output and "'ana'" in r.output
    server = Server.open(data)
    sid, _ = accounts.authenticate(server, "ANA", secret)
    assert accounts.session_account(server, sid).is_admin
    again = CliRunner().invoke(app, ["users", "add", "ana", "--password-stdin", "--data", str(data)],
                               input=secret + "\n")
    assert again.exit_code != 0 and "taken" in str(again.exception or again.output)
    short = CliRunner().invoke(app, ["users", "add", "bob", "--password-stdin", "--data", str(data)],
                               input="short\n")
    assert short.exit_code != 0 and secret not in short.output
    server.close()


def test_serve_is_registered_with_its_options():
    r = CliRunner().invoke(app, ["serve", "--help"])
    assert r.exit_code == 0
    for opt in ("--host", "--port", "--workers", "--data", "--db"):
        assert opt in r.output
