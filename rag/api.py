"""The Python API: ``ask()``, ``ask_stream()``, ``ingest()`` and index listing; wiring only."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

from .cite import ABSTAIN_TEXT, abstain_reason, check_answer, render, weak_evidence
from .clock import StageClock
from .embed import Embedder, make_embedder
from .errors import QuestionError
from .indexing import Progress, remove_from_index, reset_index, run_ingest
from .lexical import BM25Index
from .manifest import Manifest, require_manifest
from .models import ChatModel, make_model
from .prompt import build_messages, condense_messages
from .retrieve import Retriever
from .settings import EmbedSettings, ModelSettings, Settings, StoreSettings, load_settings
from .store import VectorStore, make_store
from .types import (
    Answer,
    DocumentInfo,
    Done,
    IngestReport,
    Retrieved,
    SentenceCheck,
    StreamEvent,
    Token,
)

History = Sequence[tuple[str, str]]


@lru_cache(maxsize=2)
def embedder_for(settings: EmbedSettings) -> Embedder:
    """Return the embedder for these settings, loaded once per process."""
    return make_embedder(settings)


@lru_cache(maxsize=2)
def model_for(settings: ModelSettings) -> ChatModel:
    """Return the chat model for these settings, loaded once per process."""
    return make_model(settings)


@lru_cache(maxsize=4)
def _store(settings: StoreSettings, index_dir: Path, name: str, dim: int) -> VectorStore:
    return make_store(settings, index_dir, name, dim)


def _resolve(settings: Settings | None) -> Settings:
    return settings if settings is not None else load_settings()


def open_store(settings: Settings) -> tuple[Embedder, VectorStore]:
    """Return the embedder and the vector store of the settings' index (both cached)."""
    embedder = embedder_for(settings.embed)
    store = _store(settings.store, settings.index_dir.resolve(), embedder.name, embedder.dim)
    return embedder, store


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
    """
    s = _resolve(settings)
    embedder, store = open_store(s)
    if rebuild:
        reset_index(s.index_dir, store)
    return run_ingest([Path(p) for p in paths], s, embedder, store, prune, progress, show_bar)


def list_documents(settings: Settings | None = None) -> list[DocumentInfo]:
    """Return the indexed documents with their chunk counts (empty when there is no index)."""
    manifest = Manifest.load(_resolve(settings).index_dir)
    return manifest.infos() if manifest else []


def remove_document(doc_id: str, settings: Settings | None = None) -> int:
    """Remove one document's chunks from the index; return how many were removed."""
    s = _resolve(settings)
    _, store = open_store(s)
    return remove_from_index(s.index_dir, store, doc_id)


def check_question(question: str, settings: Settings) -> str:
    """Return the stripped question, or raise QuestionError saying how to fix it."""
    q = question.strip()
    if not q:
        raise QuestionError('The question is empty. Ask something, e.g. rag ask "What did NATO endorse?"')
    limit = settings.answer.max_question_chars
    if len(q) > limit:
        raise QuestionError(
            f"The question is {len(q):,} characters; the limit is {limit:,}. Shorten it, or raise "
            "RAG_ANSWER__MAX_QUESTION_CHARS."
        )
    return q


def retriever_for(s: Settings) -> Retriever:
    """Return a retriever over the index, refusing a missing index or another embedder's."""
    manifest = require_manifest(s.index_dir)
    embedder, store = open_store(s)
    manifest.check_embedder(embedder.name, embedder.dim, s.index_dir)
    return Retriever(embedder, store, BM25Index.load(s.index_dir), s.retrieve)


def condense(question: str, history: History, settings: Settings | None = None) -> str:
    """Rewrite a follow-up question as a self-contained one using the chat history."""
    if not history:
        return question
    s = _resolve(settings)
    text = "".join(d.text for d in model_for(s.model).stream(condense_messages(history, question)))
    line = next((x.strip() for x in text.splitlines() if x.strip()), "")
    line = re.sub(r"^(?:Q|Question|Rewritten question)\s*:\s*", "", line, flags=re.I)  # echoed prompt format
    return line if 0 < len(line) <= s.answer.max_question_chars else question


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
    s = _resolve(settings)
    q = check_question(question, s)
    clock = StageClock()
    retriever = clock.load(lambda: retriever_for(s))  # embedder and store are cached after first use
    standalone = condense(q, history, s)
    passages = tuple(retriever.retrieve(standalone))
    clock.lap("retrieve")
    yield Retrieved(passages)
    weak = weak_evidence(passages, s.answer.min_dense_score)
    draft, counts = "", (0, 0)
    if not weak:
        model = clock.load(lambda: model_for(s.model))  # loaded once, after the passages are shown
        messages = build_messages(standalone, passages)
        clock.lap("prompt")
        for delta in model.stream(messages):
            if delta.text:
                clock.first_token()
                draft += delta.text
                yield Token(delta.text)
            if delta.prompt_tokens or delta.completion_tokens:
                counts = (delta.prompt_tokens, delta.completion_tokens)
        clock.lap("generate")
    checks, citations, invalid = check_answer(draft, passages, s.answer.min_term_overlap)
    relevance = answer_relevance(retriever.embedder, standalone, checks)
    reason = weak or abstain_reason(checks, passages, s.answer, relevance)
    clock.lap("check")
    yield Done(
        Answer(
            question=q,
            text=ABSTAIN_TEXT if reason else render(checks),
            citations=() if reason else tuple(citations),
            passages=passages,
            abstained=bool(reason),
            timings=clock.timings(*counts),
            sentences=tuple(checks),
            draft=draft,
            rewritten=standalone if standalone != q else "",
            abstain_reason=reason,
            invalid_citations=tuple(invalid),
        )
    )


def answer_relevance(embedder: Embedder, question: str, checks: Sequence[SentenceCheck]) -> float:
    """Return the best cosine similarity between the question and a supported sentence (0 if none)."""
    supported = [c.text for c in checks if c.supported]
    if not supported:
        return 0.0
    q, *sentences = embedder.embed([question, *supported])
    return max(sum(a * b for a, b in zip(q, v, strict=True)) for v in sentences)


def ask(question: str, settings: Settings | None = None, history: History = ()) -> Answer:
    """Answer a question from the indexed documents, with checked citations.

    Args:
        question: The question (at most ``answer.max_question_chars`` characters).
        settings: Settings; defaults to ``Settings()`` (env and rag.toml).
        history: Earlier (question, answer) turns for follow-up questions.

    Returns:
        The Answer: text, citations, passages, abstained flag and timings.

    """
    answer = None
    for event in ask_stream(question, settings, history):
        if isinstance(event, Done):
            answer = event.answer
    assert answer is not None
    return answer
