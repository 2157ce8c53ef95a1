"""Worker processes for the dual-extraction race tests (a module of its own so that ``spawn`` can import
it)."""

from __future__ import annotations

import traceback
from typing import Any

from dualfixtures import extraction

from metareview.errors import InputError
from metareview.extraction import dual
from metareview.review import Review


def act(directory: str, url: str, barrier: Any, results: Any, plan: list[tuple[str, dict[str, Any]]]) -> None:
    """Run ``plan`` (one call per round), every round released by ``barrier``; report per round
    ('ok' | 'input' | 'crash', message) to ``results``. ``save`` builds the extraction from its
    ``key`` and ``estimate``; ``consensus`` calls ``record_consensus``."""
    review = Review.open(directory, db_url=url)
    try:
        for rnd, (func, kwargs) in enumerate(plan):
            barrier.wait(timeout=120)
            try:
                if func == "save":
                    ex = extraction(kwargs["key"], estimate=kwargs["estimate"])
                    dual.save_extraction(review, ex, kwargs["extractor"], submit=True)
                else:
                    dual.record_consensus(review, **kwargs)
                results.put((rnd, "ok", ""))
            except InputError as exc:
                results.put((rnd, "input", str(exc)))
            except Exception:  # noqa: BLE001 - a driver error is what the test looks for
                results.put((rnd, "crash", traceback.format_exc()))
    finally:
        review.close()
