"""What ``GET /metrics`` reports, in Prometheus' text format: questions, abstentions, errors, latencies."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from rag.core.types import Answer

# Seconds; a cold 1.5B answer on 2 cores takes 20-30 s, a queue of 16 several minutes.
_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 320)


class Metrics:
    """The server's counters and latency histograms, in a registry of their own (one per app)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        """Create the metrics; ``route`` is "ask" (/v1/ask) or "chat" (/v1/chat/completions)."""
        r = self.registry = CollectorRegistry()
        self.questions = Counter("rag_questions", "Questions received.", ["route"], registry=r)
        self.abstentions = Counter("rag_abstentions", "Answers that abstained.", ["route"], registry=r)
        self.errors = Counter(
            "rag_errors", "Questions that ended in an error, by type.", ["route", "type"], registry=r
        )
        self.retrieve = Histogram(
            "rag_retrieve_seconds", "Retrieval time of each answer.", registry=r, buckets=_BUCKETS
        )
        self.first_token = Histogram(
            "rag_first_token_seconds",
            "From a question's arrival to the model's first token (queue wait included).",
            registry=r,
            buckets=_BUCKETS,
        )
        self.total = Histogram(
            "rag_answer_seconds",
            "From a question's arrival to its checked answer (queue wait included).",
            registry=r,
            buckets=_BUCKETS,
        )
        self.queue_wait = Histogram(
            "rag_queue_wait_seconds", "Time waiting for a free answer slot.", registry=r, buckets=_BUCKETS
        )
        self.documents = Counter(
            "rag_document_changes", "Documents added or removed through the API.", ["change"], registry=r
        )
        for route in ("ask", "chat"):  # so a scrape shows 0 before the first question
            self.questions.labels(route)
            self.abstentions.labels(route)
        for change in ("added", "removed"):
            self.documents.labels(change)

    def answered(self, route: str, answer: Answer, seconds: float) -> None:
        """Count a finished answer: its retrieval time, its total time, and whether it abstained."""
        self.retrieve.observe(answer.timings.retrieve)
        self.total.observe(seconds)
        if answer.abstained:
            self.abstentions.labels(route).inc()

    def text(self) -> bytes:
        """Return every metric in Prometheus' text exposition format."""
        return generate_latest(self.registry)
