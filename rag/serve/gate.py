"""Answers at once: one for an in-process model (the page's rule), ``ui.concurrency`` for a model server.

Answers run in worker threads; a stream is read one event per thread hop, and closed (which stops the
model and frees the slot) however the client leaves.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import TypeVar

import anyio
from starlette.concurrency import run_in_threadpool

from rag.core.settings import Settings

T = TypeVar("T")
_LOCAL = ("bundled", "gguf")
_END = object()


def answer_slots(settings: Settings) -> int:
    """Answers generated at once: 1 in-process (as ``rag.ui.handlers.concurrency``), else ui.concurrency."""
    return 1 if settings.model.backend in _LOCAL else settings.ui.concurrency


class AnswerGate:
    """A queue in front of the model: at most ``slots`` answers run, the others wait their turn."""

    def __init__(self, slots: int, lock: threading.Lock | None = None) -> None:
        """Allow ``slots`` answers at once, or share ``lock`` (one at a time, e.g. with the chat page)."""
        self.slots = 1 if lock is not None else slots
        self._slots: threading.Lock | threading.BoundedSemaphore = lock or threading.BoundedSemaphore(slots)

    @contextmanager
    def held(self) -> Iterator[float]:
        """Wait for a slot (in the calling worker thread) and hold it; yields the seconds waited."""
        start = time.perf_counter()
        self._slots.acquire()
        try:
            yield time.perf_counter() - start
        finally:
            self._slots.release()


async def next_in_thread(events: Iterator[T]) -> T | None:
    """Return the next item of a blocking iterator, computed in a worker thread (None at its end)."""
    item = await run_in_threadpool(next, events, _END)
    return None if item is _END else item  # type: ignore[return-value]


async def drain(events: Iterator[T], first: T | None = None) -> AsyncIterator[T]:
    """Yield ``first`` and then the iterator's items, each computed in a worker thread; always close it."""
    try:
        if first is not None:
            yield first
        while (item := await next_in_thread(events)) is not None:
            yield item
    finally:
        with anyio.CancelScope(shield=True):  # a client that left still frees the model and its slot
            await run_in_threadpool(_close, events)


def _close(events: Iterator[object]) -> None:
    close = getattr(events, "close", None)
    if close is not None:
        close()
