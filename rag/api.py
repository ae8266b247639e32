"""The Python API: ``ask()``, ``ask_stream()``, ``ingest()`` and index listing, over ``Pipeline``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from .indexing import Progress
from .pipeline import History, Pipeline
from .settings import Settings
from .types import Answer, DocumentInfo, IndexCheck, IngestReport, StreamEvent


def pipeline(settings: Settings | None = None) -> Pipeline:
    """Return the shared pipeline for these settings (default: env and rag.toml)."""
    return Pipeline.from_settings(settings)


def ingest(
    paths: Iterable[str | Path],
    settings: Settings | None = None,
    prune: bool = False,
    progress: Progress | None = None,
    show_bar: bool = True,
    rebuild: bool = False,
) -> IngestReport:
    """Add or update documents in the index; unchanged files cost nothing.

    Args:
        paths: Files or folders (searched recursively).
        settings: Settings; defaults to ``Settings()`` (env and rag.toml).
        prune: Also remove documents whose files are gone.
        progress: Called with (done, total, message).
        show_bar: Show a progress bar on stderr.
        rebuild: Empty the index first (e.g. after changing the embedder) and embed everything.

    Returns:
        What was seen, embedded, skipped and removed, and each file's problem.

    """
    return pipeline(settings).ingest(paths, prune, progress, show_bar, rebuild)


def list_documents(settings: Settings | None = None) -> list[DocumentInfo]:
    """Return the indexed documents with their chunk counts (empty when there is no index)."""
    return pipeline(settings).documents()


def remove_document(doc_id: str, settings: Settings | None = None) -> int:
    """Remove one document's chunks from the index; return how many were removed."""
    return pipeline(settings).remove(doc_id)


def ask_stream(
    question: str, settings: Settings | None = None, history: History = ()
) -> Iterator[StreamEvent]:
    """Answer a question, yielding the passages first, then text as generated, then the Answer.

    Args:
        question: The question.
        settings: Settings; defaults to ``Settings()``.
        history: Earlier (question, answer) turns; a follow-up is made self-contained first.

    Yields:
        ``Retrieved`` once, ``Token`` pieces, and a final ``Done`` with the checked ``Answer``.

    """
    return pipeline(settings).ask_stream(question, history)


def ask(question: str, settings: Settings | None = None, history: History = ()) -> Answer:
    """Answer a question from the indexed documents, with checked citations.

    Args:
        question: The question (at most ``answer.max_question_chars`` characters).
        settings: Settings; defaults to ``Settings()`` (env and rag.toml).
        history: Earlier (question, answer) turns for follow-up questions.

    Returns:
        The Answer: text, citations, passages, abstained flag and timings.

    """
    return pipeline(settings).ask(question, history)


def check_index(settings: Settings | None = None, repair: bool = False) -> IndexCheck:
    """Compare the vector store, the manifest and BM25, and with ``repair`` bring them into agreement.

    Args:
        settings: Settings; defaults to ``Settings()`` (env and rag.toml).
        repair: Delete orphan vectors, re-embed missing ones (or forget them when their file changed,
            so the next ingest redoes it), restore spans, rebuild BM25; then check again.

    Returns:
        The counts of each disagreement (``clean`` when none), and what a repair did.

    """
    return pipeline(settings).check(repair)
