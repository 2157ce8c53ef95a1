"""Keeping extracted data and the protocol in step: check a review's store against its ``protocol.toml``
and migrate stored values explicitly when a field or level is renamed or dropped.

A protocol edit that would orphan extracted values (a level removed, a field renamed) is refused by every
stage that reads the forms (:func:`metareview.extraction.schema.ensure_no_orphans`); the user either
restores the protocol or says how the stored data follow it::

    metareview protocol check --review my-review
    metareview protocol migrate --review my-review --rename-field provider=support_provider \\
        --rename-level sample:clinical=clinical_subclinical

Both commands call the functions here (one transaction; a migration that still leaves orphans is rolled
back and nothing changes).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from metareview.errors import InputError
from metareview.extraction.schema import Orphan, ensure_no_orphans, orphans

__all__ = ["check_protocol", "migrate_protocol", "parse_renames"]


def check_protocol(review_dir: str | Path, *, db: str | None = None) -> list[Orphan]:
    """The stored values that the review's current ``protocol.toml`` no longer declares or allows."""
    from metareview.review import Review

    review = Review.open(review_dir, db)
    try:
        with review.session() as session:
            return orphans(_everything(session), review.protocol)
    finally:
        review.close()


def _everything(session: Any) -> Any:
    """The final values and every extractor's own extraction (dual extraction), as one bundle."""
    from metareview.extraction.dual import drafts_bundle
    from metareview.extraction.templates import ExtractionBundle
    from metareview.store.extraction_repo import load_bundle

    final, drafts = load_bundle(session), drafts_bundle(session)
    return ExtractionBundle(final.reports + drafts.reports, final.effect_sizes + drafts.effect_sizes,
                            final.primary_studies + drafts.primary_studies)


def parse_renames(pairs: Iterable[str], *, option: str) -> dict[str, str]:
    """``["a=b", ...]`` -> ``{"a": "b"}``; :class:`InputError` naming the option for a malformed pair."""
    out: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise InputError(f"expected OLD=NEW, got {pair!r}", field=option)
        out[old.strip()] = new.strip()
    return out


def migrate_protocol(review_dir: str | Path, *, rename_fields: Iterable[str] = (),
                     rename_levels: Iterable[str] = (), drop_fields: Iterable[str] = (),
                     rename_domains: Iterable[str] = (), db: str | None = None) -> dict[str, Any]:
    """Rewrite the stored values to follow the edited protocol, in one transaction.

    ``rename_fields``: ``"old=new"``; ``rename_levels``: ``"field:old=new"`` (field by its new name);
    ``drop_fields``: names whose stored values are deleted (said explicitly, never implied);
    ``rename_domains``: ``"old=new"`` outcome domains. After the rewrite the store must fit the protocol,
    else :class:`InputError` lists what is still orphaned and nothing is changed. Returns the counts.
    """
    from metareview.review import Review
    from metareview.store.extraction_repo import migrate_fields

    fields = parse_renames(rename_fields, option="--rename-field")
    levels: dict[tuple[str, str], str] = {}
    for pair in rename_levels:
        field, sep, rest = pair.partition(":")
        if not sep or not field.strip():
            raise InputError(f"expected FIELD:OLD=NEW, got {pair!r}", field="--rename-level")
        for old, new in parse_renames([rest], option="--rename-level").items():
            levels[(field.strip(), old)] = new
    domains = parse_renames(rename_domains, option="--rename-domain")
    review = Review.open(review_dir, db)
    try:
        with review.session() as session:
            counts = migrate_fields(session, rename_fields=fields, rename_levels=levels,
                                    drop_fields=list(drop_fields), rename_domains=domains)
            ensure_no_orphans(_everything(session), review.protocol,
                              source=str(Path(review_dir) / "protocol.toml"))
        return counts
    finally:
        review.close()
