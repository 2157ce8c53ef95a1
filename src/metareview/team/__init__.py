"""The team server's engine: accounts, hosted reviews, membership, invitations, API tokens, sessions.

The web layer (``metareview.web``) and the CLI (``metareview users``, ``metareview serve``) call these
functions; no SQL lives here (``store.team_repo``). Example::

    from metareview.team.server import Server
    from metareview.team import accounts
    server = Server.open("server-data")            # server.sqlite + reviews/<slug>/ (SQLite default)
    accounts.create_user(server, "ana", "a long passphrase", admin=True)
"""
