"""Alembic environment: migrates the connection handed over in ``config.attributes['connection']``
(see :func:`metareview.store.db.upgrade`), or the URL in ``sqlalchemy.url`` when run by hand."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from metareview.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as con:
        _run(con)
