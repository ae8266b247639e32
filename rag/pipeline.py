"""The Pipeline: one object that owns the parts (settings, embedder, store, BM25, model) and uses them.

``Pipeline.from_settings()`` builds it once per settings and shares loaded models between pipelines;
tests pass their own parts. The CLI, the UI, the eval and the benchmarks all go through it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

from .cite import ABSTAIN_TEXT, abstain_reason, check_answer, render, weak_evidence
from .clock import StageClock
from .embed import Embedder, make_embedder
from .errors import QuestionError, StoreError
from .indexing import Progress, remove_from_index, reset_index, run_ingest
from .manifest import Manifest, no_index_error
from .models import ChatModel, make_model
from .prompt import build_messages, condense_messages
from .retrieve import Retriever
from .settings import EmbedSettings, ModelSettings, Settings, StoreSettings, load_settings
from .snapshot import IndexHandle, Snapshot
from .store import VectorStore, make_store
from .types import (
    Answer,
    DocumentInfo,
    Done,
    IndexCheck,
    IngestReport,
    Passage,
    Retrieved,
    SentenceCheck,
    StreamEvent,
    Token,
)

History = Sequence[tuple[str, str]]


@lru_cache(maxsize=2)
def shared_embedder(settings: EmbedSettings) -> Embedder:
    """Return the embedder for these settings, loaded once per process."""
    return make_embedder(settings)


@lru_cache(maxsize=2)
def shared_model(settings: ModelSettings) -> ChatModel:
    """Return the chat model for these settings, loaded once per process."""
    return make_model(settings)


_HANDLES: dict[tuple[StoreSettings, Path, str, int], IndexHandle] = {}
_HANDLES_LOCK = threading.Lock()


def shared_handle(store: StoreSettings, index_dir: Path, name: str, dim: int) -> IndexHandle:
    """Return the one handle per index in this process (one Chroma client per folder, never evicted)."""
    key = (store, index_dir, name, dim)
    with _HANDLES_LOCK:
        if key not in _HANDLES:
            _HANDLES[key] = IndexHandle(index_dir, lambda: make_store(store, index_dir, name, dim))
        return _HANDLES[key]


class Pipeline:
    """Answers questions from an index and keeps it up to date."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        store: VectorStore | None = None,
        model: ChatModel | None = None,
    ) -> None:
        """Use the given parts, or load each from the settings on first use.

        Args:
            settings: All settings.
            embedder: An embedder (default: the settings' model, shared per process).
            store: A vector store (default: Chroma as the settings say, reopened after commits).
            model: A chat model (default: the settings' model, shared per process).

        """
        self.settings = settings
        self._embedder, self._model = embedder, model
        self._fixed_store = store
        self._handle: IndexHandle | None = None

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Pipeline:
        """Return the pipeline for these settings (default: env and rag.toml), built once per process."""
        return _cached_pipeline(settings if settings is not None else load_settings())

    @property
    def embedder(self) -> Embedder:
        """The embedder, loaded on first use."""
        if self._embedder is None:
            self._embedder = shared_embedder(self.settings.embed)
        return self._embedder

    @property
    def model(self) -> ChatModel:
        """The chat model, loaded on first use (after the passages are shown)."""
        if self._model is None:
            self._model = shared_model(self.settings.model)
        return self._model

    @property
    def index(self) -> IndexHandle:
        """The process's handle on the index: vector store and committed snapshot."""
        if self._handle is None:
            s, e = self.settings, self.embedder
            if self._fixed_store is not None:
                store = self._fixed_store
                self._handle = IndexHandle(s.index_dir, lambda: store, reopenable=False)
            else:
                self._handle = shared_handle(s.store, s.index_dir.resolve(), e.name, e.dim)
        return self._handle

    # --- the index ---------------------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[str | Path],
        prune: bool = False,
        progress: Progress | None = None,
        show_bar: bool = True,
        rebuild: bool = False,
    ) -> IngestReport:
        """Add or update documents in the index; see ``rag.api.ingest``."""
        with self.index.writing() as store:
            if rebuild:
                reset_index(self.settings.index_dir, store)
            files = [Path(p) for p in paths]
            report = run_ingest(files, self.settings, self.embedder, store, prune, progress, show_bar)
        self.index.committed(report.generation)
        return report

    def documents(self) -> list[DocumentInfo]:
        """Return the indexed documents with their chunk counts (empty when there is no index)."""
        manifest = Manifest.load(self.settings.index_dir)
        return manifest.infos() if manifest else []

    def remove(self, doc_id: str) -> int:
        """Remove one document's chunks from the index; return how many were removed."""
        with self.index.writing() as store:
            removed, generation = remove_from_index(self.settings.index_dir, store, doc_id)
        self.index.committed(generation)
        return removed

    def check(self, repair: bool = False) -> IndexCheck:
        """Compare the vector store, the manifest and BM25 (fixing them with ``repair``); see ``rag.api``."""
        from .consistency import check_index

        with self.index.writing() as store:
            result = check_index(self.settings, store, self.embedder, repair)
        if repair:
            self.index.committed(result.generation)
        return result

    def retrieve(self, question: str, top_k: int | None = None) -> list[Passage]:
        """Return the top passages among the committed chunks; a collection changed elsewhere is reopened.

        Raises:
            NoIndexError: Nothing is indexed yet (the message says how to ingest).
            EmbedderMismatchError: The index was built with another embedder.

        """
        for attempt in (1, 2):
            try:
                with self.index.use() as (store, snap):
                    return self._retriever(store, snap).retrieve(question, top_k)
            except StoreError:
                if attempt == 2:
                    raise
                self.index.reopen()
        raise AssertionError("unreachable")  # pragma: no cover

    def _retriever(self, store: VectorStore, snap: Snapshot) -> Retriever:
        """Return a retriever over one commit, refusing a missing index or another embedder's."""
        if snap.manifest is None or not snap.manifest.documents:
            raise no_index_error(self.settings.index_dir)
        snap.manifest.check_embedder(self.embedder.name, self.embedder.dim, self.settings.index_dir)
        return Retriever(self.embedder, store, snap.bm25, self.settings.retrieve, snap.committed)

    # --- questions ---------------------------------------------------------------------------------

    def check_question(self, question: str) -> str:
        """Return the stripped question, or raise QuestionError saying how to fix it."""
        q = question.strip()
        if not q:
            raise QuestionError('The question is empty. Ask something, e.g. rag ask "What did NATO endorse?"')
        limit = self.settings.answer.max_question_chars
        if len(q) > limit:
            raise QuestionError(
                f"The question is {len(q):,} characters; the limit is {limit:,}. Shorten it, or raise "
                "RAG_ANSWER__MAX_QUESTION_CHARS."
            )
        return q

    def condense(self, question: str, history: History) -> str:
        """Rewrite a follow-up question as a self-contained one using the chat history."""
        if not history:
            return question
        text = "".join(d.text for d in self.model.stream(condense_messages(history, question)))
        line = next((x.strip() for x in text.splitlines() if x.strip()), "")
        line = re.sub(r"^(?:Q|Question|Rewritten question)\s*:\s*", "", line, flags=re.I)  # echoed format
        return line if 0 < len(line) <= self.settings.answer.max_question_chars else question

    def ask_stream(self, question: str, history: History = ()) -> Iterator[StreamEvent]:
        """Answer a question: the passages first, then text as generated, then the checked Answer."""
        s = self.settings
        q = self.check_question(question)
        clock = StageClock()
        clock.load(lambda: self.embedder)  # loaded on first use; later uses are free
        standalone = self.condense(q, history)
        passages = tuple(self.retrieve(standalone))
        clock.lap("retrieve")
        yield Retrieved(passages)
        weak = weak_evidence(passages, s.answer.min_dense_score)
        draft, counts = "", (0, 0)
        if not weak:
            model = clock.load(lambda: self.model)
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
        relevance = answer_relevance(self.embedder, standalone, checks)
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

    def ask(self, question: str, history: History = ()) -> Answer:
        """Answer a question and return the checked Answer (see ``ask_stream``)."""
        for event in self.ask_stream(question, history):
            if isinstance(event, Done):
                return event.answer
        raise AssertionError("ask_stream ended without an answer")  # pragma: no cover


@lru_cache(maxsize=8)
def _cached_pipeline(settings: Settings) -> Pipeline:
    return Pipeline(settings)


def answer_relevance(embedder: Embedder, question: str, checks: Sequence[SentenceCheck]) -> float:
    """Return the best cosine similarity between the question and a supported sentence (0 if none)."""
    supported = [c.text for c in checks if c.supported]
    if not supported:
        return 0.0
    q, *sentences = embedder.embed([question, *supported])
    return max(sum(a * b for a, b in zip(q, v, strict=True)) for v in sentences)
