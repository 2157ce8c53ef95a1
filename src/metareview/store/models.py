"""Imports every model module that exists, so ``Base.metadata`` describes the whole store.

Each area owns its module (records: ``records_models``; screening: ``screening_models``; extraction:
``extraction_models``). Example::

    from metareview.store.models import Base
    "records" in Base.metadata.tables    # True
"""

from __future__ import annotations

from importlib import import_module

from metareview.store import records_models
from metareview.store.base import Base

_OPTIONAL = ("screening_models", "extraction_models", "team_models", "living_models", "appraisal_models")

for _name in _OPTIONAL:
    try:
        import_module(f"metareview.store.{_name}")
    except ModuleNotFoundError as exc:  # that area has not landed yet
        if exc.name != f"metareview.store.{_name}":
            raise

__all__ = ["Base", "records_models"]
