"""What every route of one server shares: the settings, the answer queue, the write lock, the metrics."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from rag import api
from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.core.types import Done, Scope, StreamEvent, Token
from rag.serve.gate import AnswerGate
from rag.serve.metrics import Metrics

MAX_TOP_K = 20  # as the chat page's slider


@dataclass
class ServerState:
    """One server's shared parts; the Pipeline itself is ``api.pipeline(settings)``, one per process."""

    settings: Settings
    gate: AnswerGate
    metrics: Metrics = field(default_factory=Metrics)
    writes: threading.Lock = field(default_factory=threading.Lock)  # uploads and removals, one at a time

    def with_top_k(self, top_k: int | None) -> Settings:
        """Return the settings for one question: the server's, with the caller's passage count if given."""
        if top_k is None:
            return self.settings
        retrieve = self.settings.retrieve.model_copy(update={"top_k": top_k})
        return self.settings.model_copy(update={"retrieve": retrieve})

    def answer(
        self,
        route: str,
        question: str,
        top_k: int | None = None,
        history: Sequence[tuple[str, str]] = (),
        as_of: str | None = None,
        where: Scope | None = None,
    ) -> Iterator[StreamEvent]:
        """Answer in turn (waiting for a slot) and count it: ``ask_stream``'s events, in its order.

        Blocking: iterate it in a worker thread (``gate.drain``).
        """
        m, start, first = self.metrics, time.perf_counter(), True
        m.questions.labels(route).inc()
        try:
            with self.gate.held() as waited:
                m.queue_wait.observe(waited)
                settings = self.with_top_k(top_k)
                for event in api.ask_stream(question, settings, history, as_of, where):
                    if isinstance(event, Token) and first:
                        first = False
                        m.first_token.observe(time.perf_counter() - start)
                    elif isinstance(event, Done):
                        m.answered(route, event.answer, time.perf_counter() - start)
                    yield event
        except RagError as exc:
            m.errors.labels(route, type(exc).__name__).inc()
            raise
        except Exception:
            m.errors.labels(route, "InternalError").inc()
            raise
