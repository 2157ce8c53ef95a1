"""Keyword highlighting for screening: where the protocol's include / exclude keywords occur in a text.

Matching is case-insensitive on word boundaries (a keyword may be a phrase); overlapping matches keep the
longest. Example::

    from metareview.screening.highlight import keyword_spans
    keyword_spans("A meta-analysis of guided apps", include=["meta-analysis", "guided"], exclude=["apps"])
    # [(2, 15, 'include'), (19, 25, 'include'), (26, 30, 'exclude')]
"""

from __future__ import annotations

import re
from collections.abc import Sequence


def keyword_spans(
    text: str, include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[tuple[int, int, str]]:
    """(start, end, 'include' | 'exclude') for every keyword occurrence in ``text``, in text order."""
    found: list[tuple[int, int, str]] = []
    for kind, words in (("include", include), ("exclude", exclude)):
        for word in words:
            if word.strip():
                pattern = rf"(?<!\w){re.escape(word.strip())}(?!\w)"
                found += [(m.start(), m.end(), kind) for m in re.finditer(pattern, text, re.IGNORECASE)]
    found.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    out: list[tuple[int, int, str]] = []
    for span in found:
        if not out or span[0] >= out[-1][1]:
            out.append(span)
    return out
