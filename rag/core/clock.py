"""A stage clock for one answer: per-stage seconds, with one-time loading reported on its own."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from rag.core.types import Timings

T = TypeVar("T")


class StageClock:
    """Stage timer: laps exclude one-time loading, which is reported on its own."""

    def __init__(self) -> None:
        self.stages: dict[str, float] = {"load": 0.0}
        self._last = self._gen_start = time.perf_counter()
        self._first = 0.0

    def load(self, build: Callable[[], T]) -> T:
        """Build something once-only (a model, a store) and count its time as loading."""
        start = time.perf_counter()
        value = build()
        self.stages["load"] += time.perf_counter() - start
        self._last += time.perf_counter() - start
        return value

    def lap(self, stage: str) -> None:
        """Record the time since the last lap as ``stage``."""
        now = time.perf_counter()
        self.stages[stage] = now - self._last
        self._last = self._gen_start = now

    def first_token(self) -> None:
        """Note the first generated token (only the first call counts)."""
        self._first = self._first or time.perf_counter() - self._gen_start

    def timings(self, prompt_tokens: int, completion_tokens: int) -> Timings:
        """Return the stages as Timings; ``total`` excludes loading."""
        work = sum(v for k, v in self.stages.items() if k != "load")
        return Timings(
            **self.stages,
            first_token=self._first,
            total=work,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )
