"""Progress of long work, reported by the engine and shown by whichever interface runs it.

The engine never draws anything: a long job (an import, deduplication, a simulation, the report,
embedding texts) opens a :class:`Tracker` and updates it; the tracker hands :class:`Step` values to
the *hook* that the caller installed with :func:`reporting` (a context variable, so every thread or
asyncio task has its own) or passed explicitly. Without a hook an update costs one comparison. The
CLI's hook draws a rich progress bar with the rate and the time left (``metareview.cli._progress``);
the web layer can install a hook that stores the steps for a page to poll. Example::

    from metareview import progress

    steps = []
    with progress.reporting(steps.append):
        deduplicate(review)                  # engine code calls progress.track(...).update(...)
    steps[-1]                                # Step(task='comparing candidate pairs', done=..., ...)

    with progress.track("embedding texts", total=len(texts), unit="texts") as bar:
        for i, chunk in enumerate(chunks):
            ...
            bar.update((i + 1) * len(chunk))
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType


@dataclass(frozen=True)
class Step:
    """How far one task has come: ``done`` of ``total`` (None when not known) ``unit``; ``finished``
    on the task's last step."""

    task: str
    done: int
    total: int | None
    unit: str
    finished: bool = False


Hook = Callable[[Step], None]
_HOOK: ContextVar[Hook | None] = ContextVar("metareview_progress_hook", default=None)
MIN_INTERVAL = 0.1
"""Seconds between two steps handed to the hook (the first and last steps always go)."""


@contextmanager
def reporting(hook: Hook | None) -> Iterator[None]:
    """Send the steps of the work done inside the block to ``hook`` (None: report nothing)."""
    token = _HOOK.set(hook)
    try:
        yield
    finally:
        _HOOK.reset(token)


def current_hook() -> Hook | None:
    """The hook installed by the innermost :func:`reporting` block, if any."""
    return _HOOK.get()


class Tracker:
    """One task's progress. :meth:`update` with the count done so far (and the total when it becomes
    known or changes); :meth:`finish` (or leaving the ``with`` block) sends the last step."""

    __slots__ = ("task", "total", "unit", "hook", "done", "_last")

    def __init__(self, task: str, total: int | None, unit: str, hook: Hook | None) -> None:
        self.task, self.total, self.unit, self.hook = task, total, unit, hook
        self.done = 0
        self._last = 0.0
        if hook is not None:
            hook(Step(task, 0, total, unit))
            self._last = time.monotonic()

    def update(self, done: int, total: int | None = None) -> None:
        """Record ``done`` units (a running count, not an increment)."""
        if self.hook is None:
            return
        self.done = done
        if total is not None:
            self.total = total
        now = time.monotonic()
        if now - self._last >= MIN_INTERVAL:
            self._last = now
            self.hook(Step(self.task, done, self.total, self.unit))

    def finish(self) -> None:
        """Send the final step (``done`` becomes the total when one is known)."""
        if self.hook is None:
            return
        done = self.total if self.total is not None else self.done
        self.hook(Step(self.task, done, self.total, self.unit, finished=True))
        self.hook = None

    def __enter__(self) -> Tracker:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.finish()
        else:
            self.hook = None  # a failed task is not reported as finished


def track(task: str, total: int | None = None, unit: str = "items", hook: Hook | None = None) -> Tracker:
    """A :class:`Tracker` reporting to ``hook``, else to the hook of the enclosing :func:`reporting`."""
    return Tracker(task, total, unit, hook if hook is not None else _HOOK.get())
