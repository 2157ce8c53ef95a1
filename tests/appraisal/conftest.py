"""Fixtures of the appraisal tests: the store URL over SQLite and PostgreSQL."""

from storefixtures import store_url  # noqa: F401
