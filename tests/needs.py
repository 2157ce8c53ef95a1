"""What a test needs from outside the repository, and what happens when it is missing:
a skip with the reason on a user's machine, a failure under ``CI=true`` (CI must never pass by skipping)."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def skip_or_fail(reason: str) -> None:
    """Skip locally; fail under CI=true (a skip there would hide a missing dependency)."""
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)
