"""The CLI's light copies of option defaults (``cli/_defaults.py``) equal the values of the modules
that own them, so a default cannot drift when the owner changes it."""

from __future__ import annotations

from metareview.cli import _defaults


def test_defaults_match_their_owners() -> None:
    from metareview.records.dedup import DEFAULT_THRESHOLD
    from metareview.records.detect import FORMATS
    from metareview.records.export import EXPORT_FORMATS
    from metareview.screening.models import DEFAULT_MODEL
    from metareview.screening.stages import TITLE_ABSTRACT

    assert _defaults.DEDUP_THRESHOLD == DEFAULT_THRESHOLD
    assert _defaults.EXPORT_FORMATS == EXPORT_FORMATS
    assert _defaults.RECORD_FORMATS == FORMATS
    assert _defaults.DEFAULT_MODEL == DEFAULT_MODEL
    assert _defaults.TITLE_ABSTRACT == TITLE_ABSTRACT
