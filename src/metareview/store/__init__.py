"""The store: SQLAlchemy models, Alembic migrations and repository functions (the only SQL).

Example::

    from metareview.store.db import make_engine, upgrade
    upgrade(make_engine("sqlite:///review.sqlite"))
"""
