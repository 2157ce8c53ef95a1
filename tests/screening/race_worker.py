"""Worker processes for the race tests (a module of its own so that ``spawn`` can import it)."""

from __future__ import annotations

import traceback
from typing import Any

from metareview.errors import InputError
from metareview.review import Review
from metareview.screening import decisions as sd


def act(directory: str, url: str, barrier: Any, results: Any, plan: list[tuple[str, dict[str, Any]]]) -> None:
    """Run ``plan`` (one call per round), every round released by ``barrier``; report per round
    ('ok' | 'input' | 'crash', message) to ``results``."""
    review = Review.open(directory, db_url=url)
    try:
        for rnd, (func, kwargs) in enumerate(plan):
            barrier.wait(timeout=120)
            try:
                getattr(sd, func)(review, **kwargs)
                results.put((rnd, "ok", ""))
            except InputError as exc:
                results.put((rnd, "input", str(exc)))
            except Exception:  # noqa: BLE001 - a driver error is what the test looks for
                results.put((rnd, "crash", traceback.format_exc()))
    finally:
        review.close()
