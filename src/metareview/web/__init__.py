"""The team web app (FastAPI + Jinja2): pages and a JSON API over the same engine functions.

``create_app(server)`` builds the app; ``metareview serve`` runs it with uvicorn. Example::

    from metareview.team.server import Server
    from metareview.web.app import create_app
    app = create_app(Server.open("server-data"))
"""
