"""The Python API: ``ask()``, ``ask_stream()``, ``ingest()`` and index listing, over ``Pipeline``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path

from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.core.types import (
    Answer,
    DocumentInfo,
    IndexCheck,
    IndexStatus,
    IngestReport,
    Scope,
    StreamEvent,
    UploadReport,
)
from rag.index.manifest import Manifest
from rag.ingestion import uploads
from rag.ingestion.watch import OnEvent, background_watch, watch_folders
from rag.ingestion.writer import Progress
from rag.pipeline import History, Pipeline


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
    collection: str | None = None,
    prune_under: Sequence[str | Path] = (),
) -> IngestReport:
    """Add or update documents in the index; unchanged files cost nothing.

    Args:
        paths: Files or folders (searched recursively).
        settings: Settings; defaults to ``Settings()`` (env and rag.toml).
        prune: Also remove documents whose files are gone.
        progress: Called with (done, total, message).
        show_bar: Show a progress bar on stderr.
        rebuild: Empty the index first (e.g. after changing the embedder) and embed everything.
        collection: Put these documents in a named collection, which questions can be scoped to
            (``Scope(collections=...)``); an unchanged file only has its metadata rewritten. None
            keeps each document's collection; "" takes them out of theirs.
        prune_under: Also remove the documents at or under these paths whose files are gone.

    Returns:
        What was seen, embedded, skipped and removed, and each file's problem.

    """
    under = [Path(p) for p in prune_under]
    return pipeline(settings).ingest(paths, prune, progress, show_bar, rebuild, collection, under)


def watch(
    paths: Sequence[str | Path],
    on_event: OnEvent,
    settings: Settings | None = None,
    stop: threading.Event | None = None,
    settle: float = 1.0,
) -> None:
    """Keep the index in step with folders until ``stop`` is set; each change goes to ``on_event``.

    New and changed files are ingested, deleted ones pruned, renames recognised. The folders are
    ingested first (what changed while nothing watched, and what a killed run left unfinished).
    Every change then goes through ``ingest``, under the index's write lock, so the index is as
    crash-safe as with ``rag ingest``.

    Args:
        paths: Folders (followed recursively) and files.
        on_event: Called with each ``WatchEvent`` (added, updated, removed, renamed, failed, ...).
        settings: Settings; defaults to ``Settings()``.
        stop: Set it to stop watching (the batch being ingested is finished first).
        settle: Seconds a changed file must stay unchanged before it is read (a file being written
            is not read half way).

    Raises:
        RagError: A path does not exist, or the first ingest fails (e.g. another embedder's index).

    """
    watch_folders(pipeline(settings), paths, on_event, stop, settle)


def watch_in_background(
    paths: Sequence[str | Path], on_event: OnEvent, settings: Settings | None = None, settle: float = 1.0
) -> Callable[[], None]:
    """Run ``watch`` in a daemon thread (``rag ui --watch``); return the function that stops it.

    An error that ends the watch (a path gone, another embedder's index) reaches ``on_event`` as an
    "error" event.
    """
    return background_watch(pipeline(settings), paths, on_event, settle)


def list_documents(settings: Settings | None = None) -> list[DocumentInfo]:
    """Return the indexed documents with their chunk counts (empty when there is no index)."""
    return pipeline(settings).documents()


def remove_document(doc_id: str, settings: Settings | None = None) -> int:
    """Remove one document's chunks from the index; return how many were removed."""
    return pipeline(settings).remove(doc_id)


def ask_stream(
    question: str,
    settings: Settings | None = None,
    history: History = (),
    as_of: date | str | None = None,
    where: Scope | None = None,
) -> Iterator[StreamEvent]:
    """Answer a question, yielding the passages first, then text as generated, then the Answer.

    Args:
        question: The question.
        settings: Settings; defaults to ``Settings()``.
        history: Earlier (question, answer) turns; a follow-up is made self-contained first.
        as_of: The day the question is asked (a date or "YYYY-MM-DD"; default today). Documents dated
            later are not used; "this week" or "on Monday" are resolved against it.
        where: Search only these documents, e.g. ``Scope(paths=("contracts/*",), since="2024-01-01")``
            (path globs, titles, collections, a date range); filtered inside retrieval.

    Yields:
        ``Retrieved`` once, ``Token`` pieces, and a final ``Done`` with the checked ``Answer``.

    """
    return pipeline(settings).ask_stream(question, history, as_of, where)


def ask(
    question: str,
    settings: Settings | None = None,
    history: History = (),
    as_of: date | str | None = None,
    where: Scope | None = None,
) -> Answer:
    """Answer a question from the indexed documents, with checked citations.

    Args:
        question: The question (at most ``answer.max_question_chars`` characters).
        settings: Settings; defaults to ``Settings()`` (env and rag.toml).
        history: Earlier (question, answer) turns for follow-up questions.
        as_of: The day the question is asked (default today); see ``ask_stream``.
        where: Search only these documents (a ``Scope``); see ``ask_stream``.

    Returns:
        The Answer: text, citations (each passage with its page or section), passages, abstained
        flag and timings.

    Raises:
        ScopeError: ``where`` has a malformed date, matches no document, or the index predates scopes.

    """
    return pipeline(settings).ask(question, history, as_of, where)


# --- for the UI: status, uploads and removal, all on the server's own settings ---------------------


def index_status(settings: Settings | None = None) -> IndexStatus:
    """Return what the index holds (documents, chunks, embedder) and the uploads it does not hold.

    Raises:
        RagError: The manifest is damaged (the message says how to rebuild).

    """
    s = pipeline(settings).settings
    manifest = Manifest.load(s.index_dir)
    docs = manifest.documents if manifest else {}
    return IndexStatus(
        index_dir=str(s.index_dir),
        documents=len(docs),
        chunks=sum(len(e.chunks) for e in docs.values()),
        embedder=manifest.embedder if manifest else "",
        dim=manifest.dim if manifest else 0,
        stray_uploads=tuple(uploads.stray_uploads(s, list(docs))),
    )


def add_uploads(
    files: Iterable[tuple[str | Path, str]],
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> UploadReport:
    """Store uploaded files under ``data_dir/uploads`` and ingest them.

    A name already taken by other content gets a number (``a (2).txt``); content already uploaded is
    not stored twice; a file ingest cannot read is deleted again and reported.

    Args:
        files: (received file, name the browser sent) pairs.
        settings: Settings; defaults to ``Settings()``.
        progress: Called with (done, total, message) while ingesting.

    Returns:
        What was stored, reused, refused and removed, with the ingest report.

    """
    received = [(Path(src), name) for src, name in files]
    return uploads.ingest_uploads(pipeline(settings), received, progress)


def remove_document_and_upload(
    doc_id: str, settings: Settings | None = None
) -> tuple[DocumentInfo, int] | None:
    """Remove a document from the index and delete its uploaded copy (so the next ingest keeps it out).

    Returns:
        The removed document and how many chunks went, or None when no document has that id.

    """
    p = pipeline(settings)
    info = next((i for i in p.documents() if i.doc_id == doc_id), None)
    if info is None:
        return None
    copy = uploads.upload_of(p.settings, doc_id)
    removed = p.remove(doc_id)
    if copy is not None:
        copy.unlink(missing_ok=True)
    return info, removed


def remove_stray_upload(name: str, settings: Settings | None = None) -> None:
    """Delete an uploaded file that is not in the index (e.g. one ingest could not read).

    Raises:
        RagError: No such upload outside the index (the name must be one ``index_status()`` lists).

    """
    s = pipeline(settings).settings
    if name not in index_status(s).stray_uploads:
        raise RagError(f"No upload named {name!r} waits outside the index; refresh the list and pick one.")
    (uploads.upload_dir(s) / name).unlink(missing_ok=True)


def check_index(settings: Settings | None = None, repair: bool = False, force: bool = False) -> IndexCheck:
    """Compare the vector store, the manifest and BM25, and with ``repair`` bring them into agreement.

    A missing or damaged manifest, vector store file or BM25 folder is named as such (``notes`` give
    the cause and the fix); a read-only index can be checked, not repaired.

    Args:
        settings: Settings; defaults to ``Settings()`` (env and rag.toml).
        repair: Keep a damaged manifest or vector store aside and rebuild it (the manifest from the
            chunk metadata in the vector store, the vectors from the files); give back documents whose
            vectors the manifest does not list; re-embed missing vectors (or forget them when their
            file changed, so the next ingest redoes it); restore spans; rebuild BM25; check again.
        force: With ``repair``, also delete vectors that belong to no document and forget listed
            chunks whose vectors and files are both gone (without it they are kept and reported).

    Returns:
        The counts of each disagreement (``clean`` when none), what a repair did, and notes.

    Raises:
        CollectionMismatchError: The settings name another collection than the index's.
        ReadOnlyIndexError: ``repair`` on an index that cannot be written.

    """
    return pipeline(settings).check(repair, force)
