"""The Pipeline: one object that owns the parts (settings, embedder, store, BM25, model) and uses them.

``Pipeline.from_settings()`` builds it once per settings and shares loaded models between pipelines;
tests pass their own parts. The CLI, the UI, the eval and the benchmarks all go through it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import replace
from datetime import date
from pathlib import Path

from rag.answer.answerer import Answerer
from rag.answer.steps import (
    condense,
    make_query,
    query_day,
    split_flagged,
    validate_question,
)
from rag.components import Components, Shared, shared_confidence
from rag.core.clock import StageClock
from rag.core.errors import IndexDamagedError, StoreDamagedError, StoreError
from rag.core.settings import Settings, load_settings
from rag.core.types import (
    Answer,
    Conflict,
    DocumentInfo,
    Done,
    IndexCheck,
    IngestReport,
    Passage,
    Query,
    Retrieved,
    Scope,
    StreamEvent,
    Token,
)
from rag.index.handle import Snapshot
from rag.index.manifest import DAY_SCHEMA, MANIFEST, Manifest, no_index_error
from rag.index.vector_store import VectorStore
from rag.ingestion.unchanged import unchanged_ingest
from rag.ingestion.writer import Progress, empty_index, remove_from_index, run_ingest
from rag.retrieval.retriever import Retriever
from rag.retrieval.scope import check_collection, resolve
from rag.verify.verifier import Verifier

History = Sequence[tuple[str, str]]


class Pipeline(Components):
    """Answers questions from an index and keeps it up to date."""

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Pipeline:
        """Return the pipeline for these settings (default: env and rag.toml), built once per process."""
        return _cached_pipeline(settings if settings is not None else load_settings())

    # --- the index ---------------------------------------------------------------------------------

    def ingest(
        self,
        paths: Iterable[str | Path],
        prune: bool = False,
        progress: Progress | None = None,
        show_bar: bool = True,
        rebuild: bool = False,
        collection: str | None = None,
        prune_under: Sequence[Path] = (),
    ) -> IngestReport:
        """Add or update documents in the index; see ``rag.api.ingest``."""
        collection = None if collection is None else check_collection(collection)
        files = [Path(p) for p in paths]
        if not rebuild and self._fixed_store is None:
            e = self.embedder
            index_dir, named = self.settings.index_dir, (e.name, e.dim)
            stored_as = self.settings.store.collection
            quick = unchanged_ingest(files, index_dir, named, prune, collection, prune_under, stored_as)
            if quick is not None:
                return quick
        with self.index.writing("rebuild" if rebuild else "write") as store:
            if rebuild:
                empty_index(self.settings.index_dir, store)
            report = run_ingest(
                files, self.settings, self.embedder, store, prune, progress, show_bar, collection, prune_under
            )
        self.index.committed(report.generation)
        notes = self.index.take_notes()
        return replace(report, notes=notes + report.notes) if notes else report

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

    def check(self, repair: bool = False, force: bool = False) -> IndexCheck:
        """Compare the vector store, the manifest and BM25 (fixing them with ``repair``); see ``rag.api``."""
        from rag.ingestion.check import inspect_index, unopenable
        from rag.ingestion.repair import repair_index

        if not repair:
            try:
                with self.index.writing("check") as store:
                    return inspect_index(self.settings, store, self.embedder)
            except StoreDamagedError as exc:
                return unopenable(self.settings.index_dir, exc)
        with self.index.writing("repair") as store:
            done, unplaced, lost = repair_index(self.settings, store, self.embedder, force)
            result = inspect_index(self.settings, store, self.embedder)
        self.index.committed(result.generation)
        notes = list(result.notes)
        if unplaced:
            notes.append(
                f"{unplaced} vectors belong to no document (no document id or path): kept. rag check "
                "--repair --force deletes them."
            )
        if lost:
            notes.append(
                f"{lost} listed chunks have no vector and their files are gone: kept. Restore the files "
                "and run rag check --repair again, or rag check --repair --force forgets them."
            )
        repairs = (*self.index.take_notes(), *done)
        return replace(result, repairs=repairs, notes=tuple(notes))

    def retrieve(
        self, question: Query | str, top_k: int | None = None, where: Scope | None = None
    ) -> list[Passage]:
        """Return the top passages among the committed chunks; a collection changed elsewhere is reopened.

        ``where`` (else the query's own scope) limits the documents searched, inside both searches.

        Raises:
            NoIndexError: Nothing is indexed yet (the message says how to ingest).
            EmbedderMismatchError: The index was built with another embedder.
            ScopeError: The scope is malformed or matches no document.

        """
        scope = where or (question.scope if isinstance(question, Query) else None)
        for attempt in (1, 2):
            try:
                with self.index.use() as (store, snap):
                    retriever = self._retriever(store, snap)
                    within = resolve(scope, snap.manifest, self.settings.index_dir) if snap.manifest else None
                    return retriever.retrieve(question, top_k, within)
            except StoreError:
                if attempt == 2:
                    raise
                self.index.reopen()
        raise AssertionError("unreachable")  # pragma: no cover

    def _retriever(self, store: VectorStore, snap: Snapshot) -> Retriever:
        """Return a retriever over one commit, refusing a missing index or another embedder's."""
        if snap.manifest is None and (n := store.count()):
            raise IndexDamagedError(
                f"The manifest {self.settings.index_dir / MANIFEST} is missing, while the vector store holds "
                f"{n} chunks. Run `rag check --repair`: it rebuilds the manifest from them."
            )
        if snap.manifest is None or not snap.manifest.documents:
            raise no_index_error(self.settings.index_dir)
        snap.manifest.check_embedder(self.embedder.name, self.embedder.dim, self.settings.index_dir)
        snap.manifest.check_collection(self.settings.store.collection, self.settings.index_dir)
        newest = snap.newest_day if snap.manifest.schema >= DAY_SCHEMA else 0  # no "day" to filter on
        return Retriever(self.embedder, store, snap.bm25, self.settings.retrieve, snap.committed, newest)

    # --- questions ---------------------------------------------------------------------------------

    def ask_stream(
        self,
        question: str,
        history: History = (),
        as_of: date | str | None = None,
        where: Scope | None = None,
    ) -> Iterator[StreamEvent]:
        """Answer a question: the passages first, then text as generated, then the checked Answer.

        Args:
            question: The question.
            history: Earlier (question, answer) turns; a follow-up is made self-contained first.
            as_of: The day the question is asked (default today): documents dated later are not
                used, and "this week" or "on Monday" mean that day's week or Monday.
            where: Only these documents are searched (paths, titles, collections, dates).

        """
        s = self.settings
        q = validate_question(question, s.answer.max_question_chars)
        day = query_day(as_of)
        clock = StageClock()
        self.preload_model()  # a cold start loads the model and the embedder side by side
        with self.generating() if history else nullcontext():  # a follow-up is rewritten by the model
            standalone = condense(lambda: self.model, q, history, s.answer.max_question_chars)
        query = replace(make_query(standalone, day), scope=where or None)
        found = split_flagged(self.retrieve(query, s.retrieve.top_k + 2), s.retrieve.top_k)
        passages, conflicts = self.verifier().set_aside(query, found)
        clock.lap("retrieve")
        yield Retrieved(passages)
        yield from self.answer_from(query, passages, clock, q, conflicts)

    def verifier(self) -> Verifier:
        """Return the answer checker for the committed index (its BM25 weighs the question's words)."""
        with self.index.use() as (_, snap):
            rarity = snap.bm25.idf
        s = self.settings
        confidence = shared_confidence(s.answer.confidence_model)
        if confidence and confidence.reader not in ("", s.model.reader()) and s.answer.min_confidence is None:
            # Fitted on another model's drafts (token probabilities differ by model): no number
            # rather than a wrong one, and no gate, unless answer.min_confidence asks for one.
            confidence = None
        return Verifier(s.answer, rarity, self.embedder, confidence=confidence)

    def answer_from(
        self,
        query: Query,
        passages: Sequence[Passage],
        clock: StageClock | None = None,
        asked: str = "",
        conflicts: Sequence[Conflict] = (),
    ) -> Iterator[Token | Done]:
        """Answer a query from the given passages: text as generated, then the checked Answer.

        Args:
            query: The (self-contained) question with its as-of date.
            passages: The passages, numbered from 1 in this order; flagged ones are not shown to the model.
            clock: The stage clock of this answer (a new one when None).
            asked: The question as the user asked it, when ``query`` is a rewritten follow-up.
            conflicts: Passages set aside because a newer one states otherwise.

        """
        s = self.settings
        answerer = Answerer(
            lambda: self.model, self.verifier(), s.retrieve.excerpt_sentences, self.generating
        )
        yield from answerer.answer(query, passages, clock or StageClock(), asked, conflicts)

    def ask(
        self,
        question: str,
        history: History = (),
        as_of: date | str | None = None,
        where: Scope | None = None,
    ) -> Answer:
        """Answer a question and return the checked Answer (see ``ask_stream``)."""
        for event in self.ask_stream(question, history, as_of, where):
            if isinstance(event, Done):
                return event.answer
        raise AssertionError("ask_stream ended without an answer")  # pragma: no cover


# One pipeline per settings, built once even when threads ask at the same moment.
_cached_pipeline: Shared[Settings, Pipeline] = Shared(Pipeline, maxsize=8)
