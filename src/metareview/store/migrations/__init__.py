"""Alembic migrations of the store, run programmatically by :func:`metareview.store.db.upgrade`."""
